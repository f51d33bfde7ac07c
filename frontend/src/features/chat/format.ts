import { differenceInCalendarDays, formatDistanceStrict, isValid, parseISO } from 'date-fns';
import { tz } from '@date-fns/tz';
import { formatInZone } from '../../lib/zones';

/** "14:05" */
export function messageTime(iso: string, zone: string): string {
  return formatInZone(iso, zone, 'HH:mm');
}

/** A day separator: "Today", "Yesterday" or "Mon 12 Mar 2026" in the viewer's zone. */
export function dayLabel(iso: string, zone: string, now: Date = new Date()): string {
  const date = parseISO(iso);
  if (!isValid(date)) return '';
  const days = differenceInCalendarDays(now, date, { in: tz(zone) });
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return formatInZone(date, zone, 'EEE d MMM yyyy');
}

/** When an inbox entry last moved: the time today, else the date. */
export function activityLabel(iso: string, zone: string, now: Date = new Date()): string {
  const date = parseISO(iso);
  if (!isValid(date)) return '';
  const days = differenceInCalendarDays(now, date, { in: tz(zone) });
  if (days === 0) return formatInZone(date, zone, 'HH:mm');
  if (days === 1) return 'Yesterday';
  if (formatInZone(date, zone, 'yyyy') === formatInZone(now, zone, 'yyyy')) {
    return formatInZone(date, zone, 'd MMM');
  }
  return formatInZone(date, zone, 'd MMM yyyy');
}

/** "Online", "Last seen 5 minutes ago", or null when they hide it. */
export function presenceLabel(
  presence: { online: boolean | null; last_seen: string | null } | undefined,
  now: Date = new Date(),
): string | null {
  if (!presence || presence.online === null) return null;
  if (presence.online) return 'Online';
  if (!presence.last_seen) return 'Offline';
  const seen = parseISO(presence.last_seen);
  if (!isValid(seen)) return 'Offline';
  if (now.getTime() - seen.getTime() < 60_000) return 'Last seen just now';
  return `Last seen ${formatDistanceStrict(seen, now, { addSuffix: true })}`;
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
