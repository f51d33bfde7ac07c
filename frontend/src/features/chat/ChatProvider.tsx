import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { queryKeys } from '../../api/keys';
import type { Me } from '../../api/types';
import { ChatSocket } from '../../realtime/chatSocket';
import { invalidatePrescriptions } from '../prescriptions/api';
import { baselineOf, fetchConversations } from './api';
import { ChatSocketContext } from './context';

/**
 * Opens this tab's chat socket for the signed-in user and keeps the REST caches in step with
 * it: the inbox gives the socket its cursors (and is refetched when messages, read marks or a
 * reconnect make it stale); booking cards that change refresh the booking pages.
 */
export function ChatProvider({ me, children }: { me: Me; children: ReactNode }) {
  const queryClient = useQueryClient();
  const [socket] = useState(() => new ChatSocket({ userId: me.id }));
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    socket.start();
    return () => socket.stop();
  }, [socket]);

  // Every conversation the user is in, so that `sync` covers all of them.
  const inbox = useQuery({
    queryKey: queryKeys.conversations(''),
    queryFn: ({ signal }) => fetchConversations('', signal),
    staleTime: 10_000,
  });
  useEffect(() => {
    if (inbox.data) socket.track(inbox.data.map((c) => baselineOf(c, me.id)));
  }, [socket, inbox.data, me.id]);

  useEffect(() => {
    const refreshInbox = () => {
      if (refetchTimer.current) return;
      refetchTimer.current = setTimeout(() => {
        refetchTimer.current = null;
        void queryClient.invalidateQueries({ queryKey: queryKeys.conversationsAll });
      }, 400);
    };
    const unsubscribe = socket.onEvent((event) => {
      switch (event.type) {
        case 'message':
          refreshInbox();
          if (event.message.kind === 'action' && event.message.action?.startsWith('booking.')) {
            void Promise.all([
              queryClient.invalidateQueries({ queryKey: queryKeys.appointmentsAll }),
              queryClient.invalidateQueries({ queryKey: queryKeys.slotsAll }),
              queryClient.invalidateQueries({ queryKey: queryKeys.doctorWeekAll }),
            ]);
          }
          // A prescription issued, refilled, sent or cancelled: its pages show the new state.
          if (
            event.message.kind === 'action' &&
            event.message.action?.startsWith('prescriptions.')
          ) {
            void invalidatePrescriptions(queryClient);
          }
          break;
        case 'receipt':
          if (event.user === me.id) refreshInbox(); // my unread counts moved
          break;
        case 'unknown-conversation':
        case 'gone':
          refreshInbox();
          break;
        case 'status':
          // New conversations may have been opened while we were away (chat-protocol §1).
          if (event.status === 'open' && event.previous === 'reconnecting') refreshInbox();
          break;
        case 'unauthorized':
          void queryClient.invalidateQueries({ queryKey: queryKeys.me });
          break;
        default:
          break;
      }
    });
    return () => {
      unsubscribe();
      if (refetchTimer.current) clearTimeout(refetchTimer.current);
      refetchTimer.current = null;
    };
  }, [socket, queryClient, me.id]);

  return <ChatSocketContext.Provider value={socket}>{children}</ChatSocketContext.Provider>;
}
