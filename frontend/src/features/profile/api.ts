import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type { Profile, ProfileUpdate } from '../../api/types';

export function useOwnProfile() {
  return useQuery({
    queryKey: queryKeys.profile,
    queryFn: ({ signal }) => api.get<Profile>('/api/profile/', signal),
  });
}

export function usePatientProfile(patientId: string | null) {
  return useQuery({
    queryKey: queryKeys.patientProfile(patientId ?? ''),
    queryFn: ({ signal }) =>
      api.get<Profile>(`/api/patients/${encodeURIComponent(patientId ?? '')}/profile/`, signal),
    enabled: !!patientId,
    staleTime: 0, // access can be revoked at any moment: always ask the server again
  });
}

/** Saves the own profile (patientId null) or a patient's (a guardian editing a dependent). */
export function useSaveProfile(patientId: string | null) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: ProfileUpdate) =>
      patientId
        ? api.patch<Profile>(`/api/patients/${encodeURIComponent(patientId)}/profile/`, patch)
        : api.patch<Profile>('/api/profile/', patch),
    onSuccess: (profile) => {
      if (patientId) {
        queryClient.setQueryData(queryKeys.patientProfile(patientId), profile);
        void queryClient.invalidateQueries({ queryKey: queryKeys.familyPatients });
      } else {
        queryClient.setQueryData(queryKeys.profile, profile);
        void queryClient.invalidateQueries({ queryKey: queryKeys.me });
      }
    },
  });
}
