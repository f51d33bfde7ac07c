import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type { DoctorProfile, DoctorProfileUpdate, Language, Specialty } from '../../api/types';

export function useDoctorProfile() {
  return useQuery({
    queryKey: queryKeys.doctorProfile,
    queryFn: ({ signal }) => api.get<DoctorProfile>('/api/doctor-profile/', signal),
  });
}

export function useSpecialties() {
  return useQuery({
    queryKey: queryKeys.specialties,
    queryFn: ({ signal }) => api.get<Specialty[]>('/api/specialties/', signal),
    staleTime: 60 * 60_000,
  });
}

export function useLanguages() {
  return useQuery({
    queryKey: queryKeys.languages,
    queryFn: ({ signal }) => api.get<Language[]>('/api/languages/', signal),
    staleTime: 60 * 60_000,
  });
}

export function useSaveDoctorProfile() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: DoctorProfileUpdate) =>
      api.patch<DoctorProfile>('/api/doctor-profile/', patch),
    onSuccess: (profile) => queryClient.setQueryData(queryKeys.doctorProfile, profile),
  });
}

export function useUploadPhoto() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (file: File) => {
      const form = new FormData();
      form.append('photo', file);
      return api.upload<DoctorProfile>('/api/doctor-profile/photo/', form);
    },
    onSuccess: (profile) => queryClient.setQueryData(queryKeys.doctorProfile, profile),
  });
}
