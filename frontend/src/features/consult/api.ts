import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Consult, ConsultNote } from './types';

/** Query keys of the consult feature (kept here until the API types are generated). */
export const consultKeys = {
  all: ['consults'] as const,
  detail: (consultId: string) => ['consults', 'detail', consultId] as const,
  note: (consultId: string) => ['consults', 'note', consultId] as const,
};

export const consultApiPath = (id: string) => `/api/consults/${encodeURIComponent(id)}/`;

export function useConsult(consultId: string) {
  return useQuery({
    queryKey: consultKeys.detail(consultId),
    queryFn: ({ signal }) => api.get<Consult>(consultApiPath(consultId), signal),
    enabled: !!consultId,
    staleTime: 0,
    // Until it can be joined (or once it ended) the answer changes only with the clock.
    refetchInterval: (query) => {
      const data = query.state.data;
      return data && !data.joinable && data.status !== 'ended' ? 30_000 : false;
    },
  });
}

/** The doctor ends the consult for everyone. */
export function useEndConsult(consultId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<Consult>(`${consultApiPath(consultId)}end/`, {}),
    onSuccess: (consult) => {
      queryClient.setQueryData(consultKeys.detail(consultId), consult);
    },
  });
}

/** The doctor's private visit note. */
export function useConsultNote(consultId: string, enabled: boolean) {
  return useQuery({
    queryKey: consultKeys.note(consultId),
    queryFn: ({ signal }) => api.get<ConsultNote>(`${consultApiPath(consultId)}note/`, signal),
    enabled: enabled && !!consultId,
    // Not refetched behind the doctor's back while they type.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
}

export function useSaveNote(consultId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (text: string) =>
      api.put<ConsultNote>(`${consultApiPath(consultId)}note/`, { text }),
    onSuccess: (note) => queryClient.setQueryData(consultKeys.note(consultId), note),
  });
}
