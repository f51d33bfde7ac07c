import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import { Button, ErrorState, LoadingState } from '../../components';
import { useChatSocket } from '../chat/context';
import { useMarkRead, useNotifications, notificationKeys } from './api';
import { badgeText, bellLabel, inAppPath, prependPushed, timeAgo } from './format';
import type { AppNotification, NotificationList } from './types';
import './notifications.css';

/**
 * Pushed notifications (`notification.new` on the chat socket) go to the top of the cached list
 * and bump the count at once; the list is refetched shortly after to be sure.
 */
function useLiveNotifications() {
  const socket = useChatSocket();
  const queryClient = useQueryClient();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = socket.onEvent((event) => {
      if (event.type === 'notification') {
        queryClient.setQueryData<NotificationList>(notificationKeys.list, (list) =>
          prependPushed(list, event.notification),
        );
      } else if (!(event.type === 'status' && event.status === 'open')) {
        return;
      }
      // After a push, or a (re)connect that may have missed some: ask the server again.
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        void queryClient.invalidateQueries({ queryKey: notificationKeys.list });
      }, 500);
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [socket, queryClient]);
}

function origin(): string {
  return typeof window === 'undefined' ? '' : window.location.origin;
}

/** The bell in the header: the unread count, and a panel of the newest notifications. */
export function NotificationBell() {
  useLiveNotifications();
  const notifications = useNotifications();
  const markRead = useMarkRead();
  const navigate = useNavigate();
  const location = useLocation();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const headingId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const wrapperRef = useRef<HTMLDivElement>(null);
  const unread = notifications.data?.unread ?? 0;
  const badge = badgeText(unread);

  // Close when the route changes.
  const [lastPath, setLastPath] = useState(location.pathname);
  if (lastPath !== location.pathname) {
    setLastPath(location.pathname);
    setOpen(false);
  }

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (!wrapperRef.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        buttonRef.current?.focus();
      }
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const follow = (url: string) => {
    const path = inAppPath(url, origin());
    setOpen(false);
    if (path) navigate(path);
    else if (url) window.location.assign(url);
  };

  const openNotification = (notification: AppNotification) => {
    if (!notification.read_at) markRead.mutate([notification.id]);
    if (notification.link) follow(notification.link);
  };

  return (
    <div className="notify" ref={wrapperRef}>
      <button
        ref={buttonRef}
        type="button"
        className="notify__button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={bellLabel(unread)}
        onClick={() => {
          if (!open) void notifications.refetch();
          setOpen((v) => !v);
        }}
      >
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
          <path
            fill="currentColor"
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
          />
        </svg>
        {badge && (
          <span className="notify__count" aria-hidden="true">
            {badge}
          </span>
        )}
      </button>
      {open && (
        <section className="notify__panel" id={panelId} aria-labelledby={headingId}>
          <div className="notify__head">
            <h2 id={headingId}>Notifications</h2>
            <Button
              variant="ghost"
              size="small"
              disabled={unread === 0 || markRead.isPending}
              onClick={() => markRead.mutate(null)}
            >
              Mark all as read
            </Button>
          </div>
          <NotificationPanelBody
            query={notifications}
            onOpen={openNotification}
            onAction={(notification, url) => {
              if (!notification.read_at) markRead.mutate([notification.id]);
              follow(url);
            }}
          />
        </section>
      )}
    </div>
  );
}

function NotificationPanelBody({
  query,
  onOpen,
  onAction,
}: {
  query: ReturnType<typeof useNotifications>;
  onOpen: (notification: AppNotification) => void;
  onAction: (notification: AppNotification, url: string) => void;
}) {
  const now = new Date();
  if (query.isPending) return <LoadingState label="Loading notifications…" />;
  if (query.isError) return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  const list = query.data.results;
  if (list.length === 0) {
    return <p className="notify__empty">Nothing yet. Reminders and updates will show here.</p>;
  }
  return (
    <ul className="notify__list">
      {list.map((n) => (
        <li key={n.id} className={n.read_at ? 'notify__item' : 'notify__item notify__item--unread'}>
          <button type="button" className="notify__open" onClick={() => onOpen(n)}>
            <span className="notify__title">
              {!n.read_at && <span className="sr-only">Unread: </span>}
              {n.title}
            </span>
            {n.body && <span className="notify__body">{n.body}</span>}
            <time className="notify__time" dateTime={n.created_at}>
              {timeAgo(n.created_at, now)}
            </time>
          </button>
          {n.actions.length > 0 && (
            <div className="notify__actions">
              {n.actions.map((action) => (
                <Button
                  key={`${action.label}:${action.url}`}
                  size="small"
                  variant="secondary"
                  onClick={() => onAction(n, action.url)}
                >
                  {action.label}
                </Button>
              ))}
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}
