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
};
