import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, isApiError } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type { LoginInput, Me } from '../../api/types';
import { clearActingFor } from '../acting-for/storage';
import { clearChatStorage } from '../../realtime/chatSocket';

export async function fetchMe(): Promise<Me | null> {
  try {
    return await api.get<Me>('/api/auth/me/');
  } catch (error) {
    if (isApiError(error) && error.status === 401) return null;
    throw error;
  }
}

/** The signed-in user, or null when signed out. */
export function useMe() {
  return useQuery({ queryKey: queryKeys.me, queryFn: fetchMe, staleTime: 5 * 60_000 });
}

/** Like useMe, for components that only render inside the signed-in area. */
export function useCurrentUser(): Me {
  const { data } = useMe();
  if (!data) throw new Error('useCurrentUser used outside the signed-in area');
  return data;
}

export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: LoginInput) => api.post<Me>('/api/auth/login/', input),
    onSuccess: (me) => {
      queryClient.removeQueries(); // nothing cached from a previous account survives
      clearActingFor();
      queryClient.setQueryData(queryKeys.me, me);
    },
  });
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      try {
        await api.post<void>('/api/auth/logout/');
      } catch (error) {
        // Already signed out on the server is fine: we clear the local state either way.
        if (!(isApiError(error) && (error.status === 401 || error.status === 403))) throw error;
      }
    },
    onSuccess: () => {
      clearActingFor();
      clearChatStorage(); // drafts and unsent messages may hold health information
      queryClient.removeQueries();
      queryClient.setQueryData(queryKeys.me, null);
    },
  });
}
