import { Fragment, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ChatMessage, Conversation, ParticipantRole } from '../../api/types';
import { Button, ErrorState, LoadingState } from '../../components';
import { dateKeyInZone } from '../../lib/zones';
import type { ConversationSnapshot } from '../../realtime/chatSocket';
import type { useHistory } from './api';
import { ActionCard, appointmentOf, type CardContext } from './cards/ActionCard';
import { dayLabel } from './format';
import { MessageText, PendingItem, TextMessage } from './MessageItem';
import { deliveryMark, recipientsOf } from './receipts';

const NEAR_BOTTOM_PX = 80;

function useClock(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/**
 * The conversation's timeline, oldest at the top: earlier history loads when the top is
 * scrolled into view (or with the button), new messages keep the view at the bottom when it
 * was there, and loading older ones keeps what was on screen in place.
 */
export function MessageList({
  conversation,
  meId,
  role,
  zone,
  title,
  snapshot,
  history,
  online,
  stickSignal,
  onOfferTimes,
}: {
  conversation: Conversation;
  meId: string;
  role: ParticipantRole;
  zone: string;
  title: string;
  snapshot: ConversationSnapshot;
  history: ReturnType<typeof useHistory>;
  online: boolean;
  /** Changes when I send: jump to the bottom. */
  stickSignal: number;
  onOfferTimes: (requestId?: string) => void;
}) {
  const now = useClock(30_000);
  const scrollRef = useRef<HTMLDivElement>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const topRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const placed = useRef(false);
  const previous = useRef({ oldest: 0, height: 0 });
  const { messages, pending, receipts } = snapshot;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history;

  const names = useMemo(() => {
    const map = new Map<string, string>([[conversation.patient.id, conversation.patient.name]]);
    if (conversation.doctor) map.set(conversation.doctor.user, conversation.doctor.name);
    for (const p of conversation.participants) map.set(p.user, p.name);
    return map;
  }, [conversation]);

  const recipients = useMemo(
    () => recipientsOf(conversation.participants, receipts, meId),
    [conversation.participants, receipts, meId],
  );

  // Only the newest card about an appointment offers to change it.
  const latestCards = useMemo(() => {
    const seen = new Set<string>();
    const latest = new Set<string>();
    for (let i = messages.length - 1; i >= 0; i -= 1) {
      const appointment = appointmentOf(messages[i]!);
      if (appointment && !seen.has(appointment)) {
        seen.add(appointment);
        latest.add(messages[i]!.id);
      }
    }
    return latest;
  }, [messages]);

  const senderName = (message: ChatMessage) => {
    if (!message.sender) return 'CareConnect';
    if (message.sender === meId) return 'You';
    return names.get(message.sender) ?? (message.acting_for ? 'A family member' : 'Care team');
  };

  // Where the view should be after each render (layout effect: before the browser paints).
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const oldest = snapshot.oldestSeq;
    if (!placed.current) {
      if (messages.length > 0 || !history.isPending) {
        el.scrollTop = el.scrollHeight;
        placed.current = true;
      }
    } else if (previous.current.oldest && oldest && oldest < previous.current.oldest) {
      el.scrollTop += el.scrollHeight - previous.current.height; // older ones came in above
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    previous.current = { oldest, height: el.scrollHeight };
  });

  useLayoutEffect(() => {
    atBottom.current = true;
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [stickSignal]);

  // Images load after layout: stay at the bottom if we were there.
  useEffect(() => {
    const list = listRef.current;
    const el = scrollRef.current;
    if (!list || !el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
      previous.current = { ...previous.current, height: el.scrollHeight };
    });
    observer.observe(list);
    return () => observer.disconnect();
  }, []);

  // The top of the list in view: fetch what came before.
  useEffect(() => {
    const top = topRef.current;
    const root = scrollRef.current;
    if (!top || !root || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (
          entries.some((e) => e.isIntersecting) &&
          placed.current &&
          hasNextPage &&
          !isFetchingNextPage
        ) {
          void fetchNextPage();
        }
      },
      { root, rootMargin: '120px 0px 0px 0px' },
    );
    observer.observe(top);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const cardContext: Omit<CardContext, 'senderName' | 'latestForAppointment'> = {
    conversationId: conversation.id,
    role,
    zone,
    patientId: conversation.patient.id,
    patientName: conversation.patient.name,
    pending,
    onOfferTimes,
    now,
  };

  return (
    <div
      ref={scrollRef}
      className="chat-log"
      role="log"
      aria-label={`Messages with ${title}`}
      aria-busy={history.isPending || isFetchingNextPage || undefined}
      tabIndex={0}
      onScroll={(event) => {
        const el = event.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
      }}
    >
      <div ref={topRef} />
      {history.isError && messages.length === 0 ? (
        <ErrorState
          error={history.error}
          title="We could not load the messages"
          onRetry={() => void history.refetch()}
        />
      ) : history.isPending && messages.length === 0 ? (
        <LoadingState label="Loading messages…" />
      ) : hasNextPage ? (
        <p className="chat-log__edge">
          <Button
            variant="secondary"
            size="small"
            loading={isFetchingNextPage}
            onClick={() => void fetchNextPage()}
          >
            Load earlier messages
          </Button>
        </p>
      ) : history.isError ? (
        <div className="chat-log__edge">
          <ErrorState
            error={history.error}
            title="We could not load earlier messages"
            onRetry={() => void fetchNextPage()}
          />
        </div>
      ) : messages.length > 0 ? (
        <p className="chat-log__edge">This is the start of the conversation.</p>
      ) : null}

      {!history.isPending && messages.length === 0 && pending.length === 0 && (
        <div className="empty-state">
          <p className="empty-state__title">No messages yet</p>
          <p>Write to {title} below. Messages are private to this conversation.</p>
        </div>
      )}

      <ol ref={listRef} className="chat-messages">
        {messages.map((message, index) => {
          const before = messages[index - 1];
          const separator =
            !before ||
            dateKeyInZone(before.created_at, zone) !== dateKeyInZone(message.created_at, zone) ? (
              <li className="chat-day">
                <span>{dayLabel(message.created_at, zone, new Date(now))}</span>
              </li>
            ) : null;
          const mine = message.sender === meId;
          const actingFor = message.acting_for ? (names.get(message.acting_for) ?? null) : null;
          let row;
          if (message.kind === 'action') {
            row = (
              <li
                className={
                  mine ? 'chat-msg chat-msg--card chat-msg--mine' : 'chat-msg chat-msg--card'
                }
              >
                <ActionCard
                  message={message}
                  context={{
                    ...cardContext,
                    senderName: actingFor
                      ? `${senderName(message)} for ${actingFor}`
                      : senderName(message),
                    latestForAppointment: latestCards.has(message.id),
                  }}
                />
              </li>
            );
          } else if (message.kind === 'system') {
            row = (
              <li className="chat-msg chat-msg--system">
                {message.body ? <MessageText text={message.body} /> : null}
              </li>
            );
          } else {
            row = (
              <TextMessage
                message={message}
                mine={mine}
                sender={senderName(message)}
                actingFor={actingFor}
                zone={zone}
                mark={mine ? deliveryMark(message.seq, recipients) : null}
                now={now}
              />
            );
          }
          return (
            <Fragment key={message.id}>
              {separator}
              {row}
            </Fragment>
          );
        })}
        {pending.map((entry) => (
          <PendingItem key={entry.client_id} entry={entry} online={online} />
        ))}
      </ol>
    </div>
  );
}
