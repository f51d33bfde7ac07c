import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type { Dependent, DependentCreate, Grant, GrantCreate } from '../../api/types';

export function useGrants() {
  return useQuery({
    queryKey: queryKeys.grants,
    queryFn: ({ signal }) => api.get<Grant[]>('/api/family/grants/', signal),
  });
}

export function useInvitations() {
  return useQuery({
    queryKey: queryKeys.invitations,
    queryFn: ({ signal }) => api.get<Grant[]>('/api/family/invitations/', signal),
  });
}

export function useDependents() {
  return useQuery({
    queryKey: queryKeys.dependents,
    queryFn: ({ signal }) => api.get<Dependent[]>('/api/family/dependents/', signal),
  });
}

export function useCreateGrant() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: GrantCreate) => api.post<Grant>('/api/family/grants/', input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.grants }),
  });
}

export function useRevokeGrant() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (grantId: string) =>
      api.post<Grant>(`/api/family/grants/${encodeURIComponent(grantId)}/revoke/`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.grants }),
  });
}

/** Resolves only after "who I may act for" is fresh, so the new patient can be chosen at once. */
export function useAcceptGrant() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (grantId: string) =>
      api.post<Grant>(`/api/family/grants/${encodeURIComponent(grantId)}/accept/`),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.familyPatients }),
        queryClient.invalidateQueries({ queryKey: queryKeys.invitations }),
      ]),
  });
}

export function useAddDependent() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: DependentCreate) => api.post<Dependent>('/api/family/dependents/', input),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.dependents }),
        queryClient.invalidateQueries({ queryKey: queryKeys.familyPatients }),
      ]),
  });
}
