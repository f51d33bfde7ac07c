import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { ConsultWaiting } from '../../api/types';
import type { Consult, ConsultNote } from './types';

/** Query keys of the consult feature (kept here until the API types are generated). */
export const consultKeys = {
  all: ['consults'] as const,
  detail: (consultId: string) => ['consults', 'detail', consultId] as const,
  note: (consultId: string) => ['consults', 'note', consultId] as const,
  waiting: ['consults', 'waiting'] as const,
};

/** How often the doctor's week asks who is waiting. */
export const WAITING_POLL_MS = 10_000;

export const consultApiPath = (id: string) => `/api/consults/${encodeURIComponent(id)}/`;

const fetchConsult = (consultId: string, signal: AbortSignal) =>
  api.get<Consult>(consultApiPath(consultId), signal);

export function useConsult(consultId: string) {
  return useQuery({
    queryKey: consultKeys.detail(consultId),
    queryFn: ({ signal }) => fetchConsult(consultId, signal),
    enabled: !!consultId,
    staleTime: 0,
    // Until it can be joined (or once it ended) the answer changes only with the clock.
    refetchInterval: (query) => {
      const data = query.state.data;
      return data && !data.joinable && data.status !== 'ended' ? 30_000 : false;
    },
  });
}

/**
 * The doctor on the consult page but not in the call (no socket yet, or left): ask again every
 * 10 s, so that someone arriving in the waiting room shows up with "Admit". In the call the
 * socket says so at once.
 */
export function useWatchWaitingRoom(consultId: string, watch: boolean) {
  useQuery({
    queryKey: consultKeys.detail(consultId),
    queryFn: ({ signal }) => fetchConsult(consultId, signal),
    enabled: watch && !!consultId,
    refetchInterval: watch ? WAITING_POLL_MS : false,
    // The page's own query has the answer already: only the interval is added here.
    refetchOnMount: false,
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

/**
 * Who is in one of the signed-in doctor's waiting rooms right now (GET /api/consults/waiting/),
 * asked again every 10 s while the page is visible. Only for the doctor's own week.
 */
export function useWaitingNow(enabled: boolean) {
  return useQuery({
    queryKey: consultKeys.waiting,
    queryFn: ({ signal }) => api.get<ConsultWaiting[]>('/api/consults/waiting/', signal),
    enabled,
    staleTime: 0,
    refetchInterval: WAITING_POLL_MS,
  });
}
