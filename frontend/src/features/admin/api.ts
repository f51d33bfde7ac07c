import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type {
  Center,
  CenterUpdate,
  StaffInvitation,
  StaffInvitationCreate,
  StaffMember,
} from '../../api/types';

const centerPath = (id: string) => `/api/centers/${encodeURIComponent(id)}/`;

export function useCenter(id: string) {
  return useQuery({
    queryKey: queryKeys.center(id),
    queryFn: ({ signal }) => api.get<Center>(centerPath(id), signal),
  });
}

export function useSaveCenter(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: CenterUpdate) => api.patch<Center>(centerPath(id), patch),
    onSuccess: (center) => queryClient.setQueryData(queryKeys.center(id), center),
  });
}

export function useCenterStaff(id: string) {
  return useQuery({
    queryKey: queryKeys.centerStaff(id),
    queryFn: ({ signal }) => api.get<StaffMember[]>(`${centerPath(id)}staff/`, signal),
  });
}

export function useStaffInvitations(id: string) {
  return useQuery({
    queryKey: queryKeys.centerInvitations(id),
    queryFn: ({ signal }) => api.get<StaffInvitation[]>(`${centerPath(id)}invitations/`, signal),
  });
}

export function useInviteStaff(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: StaffInvitationCreate) =>
      api.post<StaffInvitation>(`${centerPath(id)}invitations/`, input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.centerInvitations(id) }),
  });
}
