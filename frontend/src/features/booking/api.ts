import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type {
  Appointment,
  AppointmentCreate,
  RescheduleInput,
  Review,
  ReviewCreate,
  WaitlistCreate,
  WaitlistEntry,
} from '../../api/types';

export type When = 'upcoming' | 'past' | 'all';

const appointmentPath = (id: string) => `/api/appointments/${encodeURIComponent(id)}/`;

/** Everything a booking change can make stale: free slots, lists, "next available", the week. */
export function invalidateBooking(queryClient: QueryClient): Promise<unknown> {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: queryKeys.slotsAll }),
    queryClient.invalidateQueries({ queryKey: queryKeys.appointmentsAll }),
    queryClient.invalidateQueries({ queryKey: queryKeys.waitlistAll }),
    queryClient.invalidateQueries({ queryKey: queryKeys.doctorWeekAll }),
    queryClient.invalidateQueries({ queryKey: queryKeys.schedulesAll }),
    queryClient.invalidateQueries({ queryKey: ['doctors'] }),
  ]);
}

/** The caller's appointments, or those of `patientId` they act for. */
export function useAppointments(when: When, patientId: string | null) {
  return useQuery({
    queryKey: queryKeys.appointments(when, patientId),
    queryFn: ({ signal }) => {
      const query = new URLSearchParams({ when });
      if (patientId) query.set('patient', patientId);
      return api.get<Appointment[]>(`/api/appointments/?${query.toString()}`, signal);
    },
    staleTime: 0,
  });
}

export function useBook() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: AppointmentCreate) => api.post<Appointment>('/api/appointments/', input),
    onSettled: () => invalidateBooking(queryClient),
  });
}

export function useReschedule() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...input }: RescheduleInput & { id: string }) =>
      api.post<Appointment>(`${appointmentPath(id)}reschedule/`, input),
    onSettled: () => invalidateBooking(queryClient),
  });
}

export type AppointmentAction = 'cancel' | 'confirm' | 'complete' | 'no-show';

/** cancel (patient, proxy, staff), confirm / complete / no-show (the doctor and center staff). */
export function useAppointmentAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: AppointmentAction }) =>
      api.post<Appointment>(`${appointmentPath(id)}${action}/`),
    onSettled: () => invalidateBooking(queryClient),
  });
}

export function useLeaveReview() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...input }: ReviewCreate & { id: string }) =>
      api.post<Review>(`${appointmentPath(id)}review/`, input),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.appointmentsAll }),
        queryClient.invalidateQueries({ queryKey: ['doctors'] }),
      ]),
  });
}

export function appointmentIcsUrl(id: string): string {
  return `${appointmentPath(id)}ics/`;
}

/**
 * Waitlist entries of everyone the caller books for (themselves and those they act for with
 * `book`); `select` keeps those of `patientId` (the caller's own when null).
 */
export function useWaitlist(patientId: string) {
  return useQuery({
    queryKey: queryKeys.waitlistAll,
    queryFn: ({ signal }) => api.get<WaitlistEntry[]>('/api/waitlist/', signal),
    select: (entries) => entries.filter((entry) => entry.patient.id === patientId),
    staleTime: 0,
  });
}

export function useJoinWaitlist() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: WaitlistCreate) => api.post<WaitlistEntry>('/api/waitlist/', input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.waitlistAll }),
  });
}

export function useLeaveWaitlist() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      api.post<WaitlistEntry>(`/api/waitlist/${encodeURIComponent(id)}/leave/`),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.waitlistAll }),
  });
}
