import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type { Doctor, DoctorSearchResult, Slot } from '../../api/types';

const doctorPath = (id: string) => `/api/doctors/${encodeURIComponent(id)}/`;

export function useDoctorSearch(query: URLSearchParams) {
  const search = query.toString();
  return useQuery({
    queryKey: queryKeys.doctors(search),
    queryFn: ({ signal }) => api.get<DoctorSearchResult>(`/api/doctors/?${search}`, signal),
    placeholderData: keepPreviousData,
  });
}

export function useDoctor(id: string) {
  return useQuery({
    queryKey: queryKeys.doctor(id),
    queryFn: ({ signal }) => api.get<Doctor>(doctorPath(id), signal),
    enabled: !!id,
  });
}

/** Free, bookable slots of a doctor in [from, to) (ISO instants). */
export function useSlots(doctorId: string, range: { from: string; to: string } | null) {
  return useQuery({
    queryKey: queryKeys.slots(doctorId, range?.from ?? '', range?.to ?? ''),
    queryFn: ({ signal }) => {
      const query = new URLSearchParams({ from: range?.from ?? '', to: range?.to ?? '' });
      return api.get<Slot[]>(`${doctorPath(doctorId)}slots/?${query.toString()}`, signal);
    },
    enabled: !!doctorId && !!range,
    staleTime: 0, // someone else may book at any moment
    placeholderData: keepPreviousData,
  });
}
