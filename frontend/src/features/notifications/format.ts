/** Notification text: the bell's label, "time ago", one-tap link copy. Pure (clock passed in). */
import type { PushedNotification } from '../../realtime/chatSocket';
import type {
  AppNotification,
  AttendanceFields,
  Channel,
  DeliveryStatus,
  LinkPurpose,
  NotificationList,
  NotificationPreferences,
  PreferencesPatch,
  QuietHours,
} from './types';

// ------------------------------------------------------------------ the bell

/** The bell's accessible name: "Notifications" or "Notifications, 3 unread". */
export function bellLabel(unread: number): string {
  return unread > 0 ? `Notifications, ${unread} unread` : 'Notifications';
}

/** The number on the bell ("99+" past 99), or null for none. */
export function badgeText(unread: number): string | null {
  if (!Number.isFinite(unread) || unread <= 0) return null;
  return unread > 99 ? '99+' : String(Math.floor(unread));
}

/** "just now", "5 min ago", "2 hours ago", "yesterday", "3 days ago", then "12 Mar (2025)". */
export function timeAgo(iso: string, now: Date): string {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return '';
  const seconds = Math.max(0, Math.round((now.getTime() - at) / 1000));
  if (seconds < 60) return 'just now';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return hours === 1 ? '1 hour ago' : `${hours} hours ago`;
  const days = Math.floor(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  const date = new Date(at);
  const options: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short' };
  if (date.getFullYear() !== now.getFullYear()) options.year = 'numeric';
  return date.toLocaleDateString('en-GB', options);
}

/**
 * A link of a notification as an in-app path when it points at this site (relative, the same
 * origin, or a one-tap `/r/<token>` link under the public URL), else null (open it as is).
 */
export function inAppPath(url: string, origin: string): string | null {
  if (!url) return null;
  if (url.startsWith('/') && !url.startsWith('//')) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const path = `${parsed.pathname}${parsed.search}${parsed.hash}`;
  if (parsed.origin === origin || /^\/r\/[^/]+\/?$/.test(parsed.pathname)) return path;
  return null;
}

/** A pushed notification on top of the cached list (once), counted as unread. */
export function prependPushed(
  list: NotificationList | undefined,
  pushed: PushedNotification,
): NotificationList | undefined {
  if (!list) return list;
  if (list.results.some((n) => n.id === pushed.id)) return list;
  const entry: AppNotification = { ...pushed, event: '', read_at: null };
  return { unread: list.unread + 1, results: [entry, ...list.results] };
}

/** The list after marking `ids` (or everything) read locally, before the server answers. */
export function markReadLocally(
  list: NotificationList | undefined,
  ids: string[] | null,
  at: string,
): NotificationList | undefined {
  if (!list) return list;
  let cleared = 0;
  const results = list.results.map((n) => {
    if (n.read_at || (ids && !ids.includes(n.id))) return n;
    cleared += 1;
    return { ...n, read_at: at };
  });
  return { unread: ids ? Math.max(0, list.unread - cleared) : 0, results };
}

// ------------------------------------------------------------------ one-tap links

export interface LinkCopy {
  title: string;
  text: string;
  button: string;
}

const LINK_COPY: Record<LinkPurpose, LinkCopy> = {
  'appointment.confirm': {
    title: 'Confirm your appointment?',
    text: 'Let your care team know you will be there.',
    button: 'Confirm',
  },
  'appointment.cancel': {
    title: 'Cancel your appointment?',
    text: 'The time will be freed for someone else. Late cancellations may be charged.',
    button: 'Cancel appointment',
  },
  'appointment.reschedule': {
    title: 'Choose a new time for your appointment?',
    text: 'You will pick a new time on the next page. You may be asked to sign in.',
    button: 'Choose a new time',
  },
};

/** What a one-tap link will do, in plain words, and its one button. */
export function linkCopy(purpose: string): LinkCopy {
  return (
    LINK_COPY[purpose as LinkPurpose] ?? {
      title: 'Continue?',
      text: 'This link will update your appointment.',
      button: 'Continue',
    }
  );
}

export interface LinkProblem {
  title: string;
  text: string;
}

/** Why a one-tap link did not work, from the API error's status and code. */
export function linkProblem(status: number, code: string): LinkProblem {
  if (code === 'link_used') {
    return {
      title: 'This link was already used',
      text: 'Nothing more to do here. Open CareConnect to see your appointments.',
    };
  }
  if (code === 'link_expired') {
    return {
      title: 'This link has expired',
      text: 'Links in reminders only work for a while. Open CareConnect to manage your appointment.',
    };
  }
  if (status === 404) {
    return {
      title: 'This link is for someone else',
      text: 'You are signed in as a different person. Log out and open the link again, or open CareConnect.',
    };
  }
  if (status === 400 || status === 410) {
    return {
      title: 'This link does not work',
      text: 'It may have been copied incompletely. Open the message again, or open CareConnect.',
    };
  }
  if (status === 0) {
    return {
      title: 'We could not reach CareConnect',
      text: 'Check your connection and try again.',
    };
  }
  return {
    title: 'Something went wrong',
    text: 'Please try again in a moment, or open CareConnect to manage your appointment.',
  };
}

// ------------------------------------------------------------------ settings and the log

export const CHANNELS: { value: Channel; label: string }[] = [
  { value: 'email', label: 'Email' },
  { value: 'sms', label: 'SMS' },
  { value: 'in_app', label: 'In the app' },
];

export function channelLabel(channel: string): string {
  return CHANNELS.find((c) => c.value === channel)?.label ?? channel;
}

/** The checkbox's accessible name: "SMS for Appointment reminders". */
export function channelCheckboxLabel(channel: Channel, kindLabel: string): string {
  return `${channelLabel(channel)} for ${kindLabel}`;
}

type StatusTone = 'neutral' | 'success' | 'warning' | 'danger' | 'info';

export const DELIVERY_STATUS: Record<DeliveryStatus, { label: string; tone: StatusTone }> = {
  queued: { label: 'Queued', tone: 'neutral' },
  deferred: { label: 'Waiting for quiet hours to end', tone: 'info' },
  sending: { label: 'Sending', tone: 'info' },
  sent: { label: 'Sent', tone: 'success' },
  delivered: { label: 'Delivered', tone: 'success' },
  failed: { label: 'Failed', tone: 'danger' },
  skipped: { label: 'Skipped', tone: 'warning' },
};
export function deliveryStatus(status: string): { label: string; tone: StatusTone } {
  return DELIVERY_STATUS[status as DeliveryStatus] ?? { label: status, tone: 'neutral' };
}

/** "HH:MM" (24 h). */
export function isClockTime(value: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(value);
}

/** Quiet hours as the API wants them ("22:00", not "22:00:00"), or a problem to show. */
export function quietHoursProblem(value: QuietHours): string | null {
  if (!isClockTime(value.start) || !isClockTime(value.end)) return 'Enter both times.';
  if (value.start === value.end) return 'Quiet hours must start and end at different times.';
  return null;
}

/** The server may answer "22:00:00": the <input type="time"> wants "22:00". */
export function clockInput(value: string | null | undefined): string {
  const match = /^(\d{2}):(\d{2})/.exec(value ?? '');
  return match ? `${match[1]}:${match[2]}` : '';
}

const VIA: Record<string, string> = {
  link: 'by link',
  sms: 'by text message',
  app: 'in the app',
};

/** "Confirmed by patient (by text message)", or null when the patient has not confirmed. */
export function attendanceBadge(item: object): string | null {
  // Any appointment: the generated type does not carry these fields yet.
  const appointment = item as AttendanceFields;
  if (!appointment.attendance_confirmed_at) return null;
  const via = appointment.attendance_confirmed_via
    ? (VIA[appointment.attendance_confirmed_via] ?? appointment.attendance_confirmed_via)
    : '';
  return via ? `Confirmed by patient (${via})` : 'Confirmed by patient';
}

/** Preferences with a PATCH applied, as shown while the server saves it. */
export function applyPreferencesPatch(
  prefs: NotificationPreferences | undefined,
  patch: PreferencesPatch,
): NotificationPreferences | undefined {
  if (!prefs) return prefs;
  return {
    ...prefs,
    kinds: prefs.kinds.map((k) => (patch.kinds?.[k.kind] ? { ...k, ...patch.kinds[k.kind] } : k)),
    ...(patch.timezone !== undefined ? { timezone: patch.timezone } : {}),
    ...(patch.quiet_hours !== undefined ? { quiet_hours: patch.quiet_hours } : {}),
  };
}
