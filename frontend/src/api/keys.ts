/** TanStack Query keys, in one place so invalidation stays consistent. */
export const queryKeys = {
  me: ['me'] as const,
  profile: ['profile'] as const,
  patientProfile: (patientId: string) => ['patients', patientId, 'profile'] as const,
  familyPatients: ['family', 'patients'] as const,
  grants: ['family', 'grants'] as const,
  invitations: ['family', 'invitations'] as const,
  dependents: ['family', 'dependents'] as const,
  center: (centerId: string) => ['centers', centerId] as const,
  centerStaff: (centerId: string) => ['centers', centerId, 'staff'] as const,
  centerInvitations: (centerId: string) => ['centers', centerId, 'invitations'] as const,
  doctorProfile: ['doctor-profile'] as const,
  specialties: ['specialties'] as const,
  languages: ['languages'] as const,
  doctors: (query: string) => ['doctors', 'search', query] as const,
  doctor: (doctorId: string) => ['doctors', doctorId] as const,
  /** Prefix of every slot list (invalidated after any booking change). */
  slotsAll: ['slots'] as const,
  slots: (doctorId: string, from: string, to: string) => ['slots', doctorId, from, to] as const,
  /** Prefix of every appointment list. */
  appointmentsAll: ['appointments'] as const,
  appointments: (when: string, patientId: string | null) =>
    ['appointments', when, patientId ?? 'me'] as const,
  waitlistAll: ['waitlist'] as const,
  rules: (doctorId: string) => ['schedules', doctorId, 'rules'] as const,
  exceptions: (doctorId: string) => ['schedules', doctorId, 'exceptions'] as const,
  conflicts: (doctorId: string) => ['schedules', doctorId, 'conflicts'] as const,
  schedulesAll: ['schedules'] as const,
  doctorWeekAll: ['doctor-week'] as const,
  doctorWeek: (doctorId: string, start: string) => ['doctor-week', doctorId, start] as const,
  doctorPatients: (doctorId: string, q: string) => ['doctor-patients', doctorId, q] as const,
  centerDoctors: (centerId: string) => ['centers', centerId, 'doctors'] as const,
  /** Prefix of every chat inbox list and conversation (refetched as pushes arrive). */
  conversationsAll: ['conversations'] as const,
  conversations: (query: string) => ['conversations', 'list', query] as const,
  conversation: (conversationId: string) => ['conversations', 'detail', conversationId] as const,
  /** REST history pages of a conversation (the live timeline is the chat socket's). */
  chatHistory: (conversationId: string) => ['chat-history', conversationId] as const,
  chatSettings: ['chat-settings'] as const,
};
