import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { api } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type {
  ChatMessage,
  ChatSettings,
  Conversation,
  ConversationOpen,
  Slot,
} from '../../api/types';
import { randomUuid, type ChatSocket, type ConversationBaseline } from '../../realtime/chatSocket';

export const HISTORY_PAGE = 50;
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const ATTACHMENT_TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'application/pdf',
] as const;

export const conversationPath = (id: string) => `/api/conversations/${encodeURIComponent(id)}/`;
export const attachmentUrl = (id: string) => `/api/attachments/${encodeURIComponent(id)}/`;

export type InboxFilter = 'all' | 'unread' | 'care_team';

export function inboxQuery(filter: InboxFilter, patient: string | null): string {
  const query = new URLSearchParams();
  if (filter !== 'all') query.set('filter', filter);
  if (patient) query.set('patient', patient);
  return query.toString();
}

export function fetchConversations(query: string, signal?: AbortSignal) {
  return api.get<Conversation[]>(`/api/conversations/${query ? `?${query}` : ''}`, signal);
}

/** Where the socket's cursors start for a conversation the REST API showed. */
export function baselineOf(conversation: Conversation, userId: string): ConversationBaseline {
  const me = conversation.participants.find((p) => p.user === userId);
  return {
    id: conversation.id,
    last_seq: conversation.last_seq,
    last_change: conversation.last_change,
    // Not a participant yet (a care team I never opened): start at the top, replay nothing.
    delivered_seq: me ? me.delivered_seq : conversation.last_seq,
  };
}

export function useConversations(query: string) {
  return useQuery({
    queryKey: queryKeys.conversations(query),
    queryFn: ({ signal }) => fetchConversations(query, signal),
    placeholderData: keepPreviousData,
    staleTime: 10_000,
  });
}

export function useConversation(id: string) {
  return useQuery({
    queryKey: queryKeys.conversation(id),
    queryFn: ({ signal }) => api.get<Conversation>(conversationPath(id), signal),
    enabled: !!id,
  });
}

export function useOpenConversation() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: ConversationOpen) => api.post<Conversation>('/api/conversations/', input),
    onSuccess: (conversation) => {
      queryClient.setQueryData(queryKeys.conversation(conversation.id), conversation);
      return queryClient.invalidateQueries({ queryKey: queryKeys.conversationsAll });
    },
  });
}

/** History pages, newest first; every page also goes into the socket's timeline. */
export function useHistory(id: string, socket: ChatSocket) {
  return useInfiniteQuery({
    queryKey: queryKeys.chatHistory(id),
    queryFn: async ({ pageParam, signal }) => {
      const query = new URLSearchParams({ limit: String(HISTORY_PAGE) });
      if (pageParam) query.set('before_seq', String(pageParam));
      const page = await api.get<ChatMessage[]>(
        `${conversationPath(id)}messages/?${query.toString()}`,
        signal,
      );
      socket.addHistory(id, page);
      return page;
    },
    initialPageParam: 0,
    getNextPageParam: (page) => {
      const first = page[0];
      return page.length >= HISTORY_PAGE && first && first.seq > 1 ? first.seq : undefined;
    },
    // The socket keeps the timeline current; REST is only for what came before.
    staleTime: Infinity,
    enabled: !!id,
  });
}

export function useEditMessage(socket: ChatSocket) {
  return useMutation({
    mutationFn: ({ message, body }: { message: ChatMessage; body: string }) =>
      api.patch<ChatMessage>(
        `${conversationPath(message.conversation)}messages/${encodeURIComponent(message.id)}/`,
        { body },
      ),
    onSuccess: (message) => socket.applyMessage(message),
  });
}

export function useDeleteMessage(socket: ChatSocket) {
  return useMutation({
    mutationFn: (message: ChatMessage) =>
      api.delete<ChatMessage>(
        `${conversationPath(message.conversation)}messages/${encodeURIComponent(message.id)}/`,
      ),
    onSuccess: (message) => socket.applyMessage(message),
  });
}

/** Why a file cannot be attached, or null (the server checks the bytes again). */
export function attachmentProblem(file: { type: string; size: number }): string | null {
  if (!(ATTACHMENT_TYPES as readonly string[]).includes(file.type)) {
    return 'Attach an image (JPEG, PNG, WebP or GIF) or a PDF.';
  }
  if (file.size > MAX_ATTACHMENT_BYTES) return 'Files can be at most 10 MB.';
  if (file.size === 0) return 'That file is empty.';
  return null;
}

export function useUploadAttachment(conversationId: string, socket: ChatSocket) {
  return useMutation({
    mutationFn: ({
      file,
      caption,
      clientId,
    }: {
      file: File;
      caption: string;
      clientId: string;
    }) => {
      const form = new FormData();
      form.append('file', file, file.name);
      form.append('client_id', clientId);
      if (caption.trim()) form.append('body', caption.trim());
      return api.upload<ChatMessage>(`${conversationPath(conversationId)}attachments/`, form);
    },
    onSuccess: (message) => socket.applyMessage(message),
  });
}

export { randomUuid };

/** Free slots of a doctor in [from, to), for offering or rescheduling from a card. */
export function useDoctorSlots(doctorId: string | null, range: { from: string; to: string }) {
  return useQuery({
    queryKey: queryKeys.slots(doctorId ?? '', range.from, range.to),
    queryFn: ({ signal }) => {
      const query = new URLSearchParams({ from: range.from, to: range.to });
      return api.get<Slot[]>(
        `/api/doctors/${encodeURIComponent(doctorId ?? '')}/slots/?${query.toString()}`,
        signal,
      );
    },
    enabled: !!doctorId,
    staleTime: 0,
    placeholderData: keepPreviousData,
  });
}

export function useChatSettings(enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.chatSettings,
    queryFn: ({ signal }) => api.get<ChatSettings>('/api/chat/settings/', signal),
    enabled,
  });
}

export function useUpdateChatSettings() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: ChatSettings) => api.patch<ChatSettings>('/api/chat/settings/', input),
    onSuccess: (settings) => queryClient.setQueryData(queryKeys.chatSettings, settings),
  });
}
