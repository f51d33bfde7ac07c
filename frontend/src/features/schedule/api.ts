import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type {
  DoctorPatient,
  DoctorSearchResult,
  DoctorWeek,
  Rule,
  RuleInput,
  RulePreviewInput,
  ScheduleChange,
  ScheduleException,
  ScheduleExceptionCreate,
  SchedulePreview,
  Appointment,
} from '../../api/types';
import { invalidateBooking } from '../booking/api';

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

export function useRules(doctorId: string) {
  return useQuery({
    queryKey: queryKeys.rules(doctorId),
    queryFn: ({ signal }) => api.get<Rule[]>(`/api/schedules/?${q({ doctor: doctorId })}`, signal),
    enabled: !!doctorId,
  });
}

export function usePreviewRule() {
  return useMutation({
    mutationFn: (input: RulePreviewInput) =>
      api.post<SchedulePreview>('/api/schedules/preview/', input),
  });
}

export function usePublishRule() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: RuleInput) => api.post<ScheduleChange>('/api/schedules/', input),
    onSuccess: () => invalidateBooking(queryClient),
  });
}

export function useDeleteRule() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      api.delete<ScheduleChange>(`/api/schedules/${encodeURIComponent(id)}/`),
    onSuccess: () => invalidateBooking(queryClient),
  });
}

export function useExceptions(doctorId: string) {
  return useQuery({
    queryKey: queryKeys.exceptions(doctorId),
    queryFn: ({ signal }) =>
      api.get<ScheduleException[]>(`/api/schedule-exceptions/?${q({ doctor: doctorId })}`, signal),
    enabled: !!doctorId,
  });
}

export function useAddException() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: ScheduleExceptionCreate) =>
      api.post<ScheduleChange>('/api/schedule-exceptions/', input),
    onSuccess: () => invalidateBooking(queryClient),
  });
}

export function useDeleteException() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      api.delete<ScheduleChange>(`/api/schedule-exceptions/${encodeURIComponent(id)}/`),
    onSuccess: () => invalidateBooking(queryClient),
  });
}

export function useConflicts(doctorId: string) {
  return useQuery({
    queryKey: queryKeys.conflicts(doctorId),
    queryFn: ({ signal }) =>
      api.get<Appointment[]>(`/api/schedules/conflicts/?${q({ doctor: doctorId })}`, signal),
    enabled: !!doctorId,
  });
}

/** The doctor's week from `start` (a Monday "YYYY-MM-DD"; empty: this week, the server says). */
export function useDoctorWeek(doctorId: string, start: string) {
  return useQuery({
    queryKey: queryKeys.doctorWeek(doctorId, start),
    queryFn: ({ signal }) => {
      const params: Record<string, string> = { doctor: doctorId };
      if (start) params.start = start;
      return api.get<DoctorWeek>(`/api/doctor/week/?${q(params)}`, signal);
    },
    enabled: !!doctorId,
    staleTime: 0,
    placeholderData: keepPreviousData,
  });
}

export function useDoctorPatients(doctorId: string, search: string) {
  return useQuery({
    queryKey: queryKeys.doctorPatients(doctorId, search),
    queryFn: ({ signal }) =>
      api.get<DoctorPatient[]>(
        `/api/doctor/patients/?${q({ doctor: doctorId, q: search })}`,
        signal,
      ),
    enabled: !!doctorId,
    placeholderData: keepPreviousData,
  });
}

/**
 * The doctors of a center, from the public directory (the staff list has user ids, not
 * doctor ids).
 */
export function useCenterDoctors(centerId: string | null) {
  return useQuery({
    queryKey: queryKeys.centerDoctors(centerId ?? ''),
    queryFn: async ({ signal }) => {
      const found = await api.get<DoctorSearchResult>(
        `/api/doctors/?${q({ limit: '100' })}`,
        signal,
      );
      return found.results.filter((doctor) => doctor.center.id === centerId);
    },
    enabled: !!centerId,
    staleTime: 5 * 60_000,
  });
}
