import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { queryKeys } from '../../api/keys';
import { applyPreferencesPatch, markReadLocally } from './format';
import type {
  DeliveryLog,
  LinkInfo,
  LinkResult,
  NotificationList,
  NotificationPreferences,
  PhoneCodeSent,
  PreferencesPatch,
  ReadResult,
  UnconfirmedAppointment,
} from './types';

/** Query keys of the notifications feature (kept here until the API types are generated). */
export const notificationKeys = {
  all: ['notifications'] as const,
  list: ['notifications', 'list'] as const,
  preferences: ['notifications', 'preferences'] as const,
  link: (token: string) => ['notifications', 'link', token] as const,
  logAll: ['notifications', 'log'] as const,
  log: (center: string, channel: string, status: string) =>
    ['notifications', 'log', center, channel, status] as const,
  unconfirmed: ['appointments', 'unconfirmed'] as const,
};

const linkPath = (token: string) => `/api/notifications/links/${encodeURIComponent(token)}/`;

/**
 * The socket's pushes reach an open tab only when the worker that sends a notification shares
 * a channel layer with the web process: on the embedded default (the in-memory layer, the
 * Celery worker a separate process) reminders and other worker-sent notices are never pushed,
 * and any push can be missed. So the bell also asks the server every half minute.
 */
export const NOTIFICATIONS_POLL_MS = 30_000;

/** The bell: the newest notifications and how many are unread (kept fresh by the socket). */
export function useNotifications() {
  return useQuery({
    queryKey: notificationKeys.list,
    queryFn: ({ signal }) => api.get<NotificationList>('/api/notifications/', signal),
    staleTime: 30_000,
    refetchInterval: NOTIFICATIONS_POLL_MS,
  });
}

/** Marks `ids` read (null: all), at once in the cache, then as the server counts. */
export function useMarkRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (ids: string[] | null) =>
      api.post<ReadResult>('/api/notifications/read/', ids ? { ids } : {}),
    onMutate: (ids) => {
      queryClient.setQueryData<NotificationList>(notificationKeys.list, (list) =>
        markReadLocally(list, ids, new Date().toISOString()),
      );
    },
    onSuccess: (result) => {
      queryClient.setQueryData<NotificationList>(notificationKeys.list, (list) =>
        list && typeof result?.unread === 'number' ? { ...list, unread: result.unread } : list,
      );
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: notificationKeys.list }),
  });
}

export function usePreferences() {
  return useQuery({
    queryKey: notificationKeys.preferences,
    queryFn: ({ signal }) =>
      api.get<NotificationPreferences>('/api/notifications/preferences/', signal),
    staleTime: 0,
  });
}

function isPreferences(value: unknown): value is NotificationPreferences {
  return (
    !!value && typeof value === 'object' && Array.isArray((value as { kinds?: unknown }).kinds)
  );
}

export function useUpdatePreferences() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: PreferencesPatch) =>
      api.patch<NotificationPreferences>('/api/notifications/preferences/', patch),
    onMutate: async (patch) => {
      await queryClient.cancelQueries({ queryKey: notificationKeys.preferences });
      queryClient.setQueryData<NotificationPreferences>(notificationKeys.preferences, (prefs) =>
        applyPreferencesPatch(prefs, patch),
      );
    },
    onSuccess: (prefs) => {
      if (isPreferences(prefs)) queryClient.setQueryData(notificationKeys.preferences, prefs);
      else return queryClient.invalidateQueries({ queryKey: notificationKeys.preferences });
    },
    onError: () => queryClient.invalidateQueries({ queryKey: notificationKeys.preferences }),
  });
}

export function useSendPhoneCode() {
  return useMutation({
    mutationFn: (phone: string) => api.post<PhoneCodeSent>('/api/notifications/phone/', { phone }),
  });
}

export function useConfirmPhone() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (code: string) =>
      api.post<NotificationPreferences>('/api/notifications/phone/confirm/', { code }),
    onSuccess: (prefs) => {
      if (isPreferences(prefs)) queryClient.setQueryData(notificationKeys.preferences, prefs);
      else return queryClient.invalidateQueries({ queryKey: notificationKeys.preferences });
    },
  });
}

/** What a one-tap link will do (signed out too). Not retried: errors are answers here. */
export function useLinkInfo(token: string) {
  return useQuery({
    queryKey: notificationKeys.link(token),
    queryFn: ({ signal }) => api.get<LinkInfo>(linkPath(token), signal),
    retry: false,
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
}

export function useUseLink(token: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<LinkResult>(linkPath(token), {}),
    // A confirmed or cancelled appointment: booking pages (if signed in) are stale.
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.appointmentsAll }),
        queryClient.invalidateQueries({ queryKey: queryKeys.doctorWeekAll }),
      ]),
  });
}

/** Center admins: what was sent, how, and whether it arrived. */
export function useDeliveryLog(center: string, channel: string, status: string) {
  return useQuery({
    queryKey: notificationKeys.log(center, channel, status),
    queryFn: ({ signal }) => {
      const params = new URLSearchParams({ center });
      if (channel) params.set('channel', channel);
      if (status) params.set('status', status);
      return api.get<DeliveryLog>(`/api/notifications/log/?${params.toString()}`, signal);
    },
    staleTime: 0,
  });
}

/** Staff: appointments still unconfirmed by the patient at the center's escalation time. */
export function useUnconfirmedAppointments(enabled = true) {
  return useQuery({
    queryKey: notificationKeys.unconfirmed,
    queryFn: async ({ signal }) => {
      const data = await api.get<UnconfirmedAppointment[] | { results: UnconfirmedAppointment[] }>(
        '/api/appointments/unconfirmed/',
        signal,
      );
      return Array.isArray(data) ? data : (data?.results ?? []);
    },
    enabled,
    staleTime: 0,
    refetchInterval: 60_000,
  });
}
