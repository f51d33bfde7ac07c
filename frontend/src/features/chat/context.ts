import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';
import type {
  ChatSocket,
  ConnectionStatus,
  ConversationSnapshot,
  OutboxEntry,
  Presence,
} from '../../realtime/chatSocket';

export const ChatSocketContext = createContext<ChatSocket | null>(null);

/** This tab's chat socket (one per tab, owned by <ChatProvider>). */
export function useChatSocket(): ChatSocket {
  const socket = useContext(ChatSocketContext);
  if (!socket) throw new Error('useChatSocket must be used inside <ChatProvider>');
  return socket;
}

function useSocketValue<T>(read: (socket: ChatSocket) => T): T {
  const socket = useChatSocket();
  const subscribe = useCallback((listener: () => void) => socket.subscribe(listener), [socket]);
  return useSyncExternalStore(subscribe, () => read(socket));
}

export function useConnectionStatus(): ConnectionStatus {
  return useSocketValue((socket) => socket.getStatus());
}

export function useConversationSnapshot(id: string): ConversationSnapshot {
  return useSocketValue((socket) => socket.getConversation(id));
}

export function useOutbox(): readonly OutboxEntry[] {
  return useSocketValue((socket) => socket.getOutbox());
}

export function useLivePresence(userId: string): Presence | undefined {
  return useSocketValue((socket) => socket.getPresence(userId));
}
