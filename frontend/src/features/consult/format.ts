/** Consult text: durations, the join window, card titles. Pure (the clock is passed in). */
import type { ConsultWaiting } from '../../api/types';
import { formatClock, formatInZone, dateKeyInZone } from '../../lib/zones';
import type { Consult } from './types';

/** The window the server keeps (DESIGN §6): from 10 min before the start to 30 min after the end. */
export const OPENS_MINUTES_BEFORE = 10;
export const CLOSES_MINUTES_AFTER = 30;

/** "12 min", "1 h 5 min", "2 h", "under a minute". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

/** "10:20" today, "Mon 12 Mar at 10:20" on another day (in `zone`). */
export function formatWhen(iso: string, zone: string, now: Date): string {
  const clock = formatClock(iso, zone);
  if (!clock) return '';
  return dateKeyInZone(iso, zone) === dateKeyInZone(now, zone)
    ? clock
    : `${formatInZone(iso, zone, 'EEE d MMM')} at ${clock}`;
}

/** "Opens at 10:20" (or "Opens on Mon 12 Mar at 10:20"). */
export function opensText(opensAt: string, zone: string, now: Date): string {
  const when = formatWhen(opensAt, zone, now);
  return when.includes(' at ') ? `Opens on ${when}` : `Opens at ${when}`;
}

/**
 * Why "Join consult" is disabled, or null when it is not. The server's `joinable` decides; the
 * clock only words the reason.
 */
export function joinBlocker(
  consult: Pick<Consult, 'joinable' | 'status' | 'opens_at' | 'closes_at'>,
  zone: string,
  now: Date,
): string | null {
  if (consult.status === 'ended') return 'The consult has ended';
  if (consult.joinable) return null;
  const opens = Date.parse(consult.opens_at);
  const closes = Date.parse(consult.closes_at);
  if (Number.isFinite(opens) && now.getTime() < opens)
    return opensText(consult.opens_at, zone, now);
  if (Number.isFinite(closes) && now.getTime() > closes) {
    return `Closed at ${formatWhen(consult.closes_at, zone, now)}`;
  }
  return 'This appointment is not confirmed';
}

/** Show a "Join consult" link on an appointment: online, live, and not past the window. */
export function showJoinLink(
  appointment: { consult?: string | null; status: string; end: string },
  now: Date,
): boolean {
  if (!appointment.consult) return false;
  if (appointment.status !== 'confirmed' && appointment.status !== 'completed') return false;
  const end = Date.parse(appointment.end);
  return Number.isFinite(end) && now.getTime() <= end + CLOSES_MINUTES_AFTER * 60_000;
}

export const consultPath = (consultId: string) => `/consult/${encodeURIComponent(consultId)}`;

/** "Video consult with Dr Lee at 10:30" */
export function inviteTitle(doctorName: string | null, start: string | null, zone: string) {
  const who = doctorName ? ` with ${doctorName}` : '';
  const clock = start ? formatClock(start, zone) : '';
  return `Video consult${who}${clock ? ` at ${clock}` : ''}`;
}

/** "Consult ended · 12 min · with Dr Lee" */
export function summaryTitle(durationSeconds: number | null, doctorName: string | null) {
  const parts = ['Consult ended'];
  if (durationSeconds !== null) parts.push(formatDuration(durationSeconds));
  if (doctorName) parts.push(`with ${doctorName}`);
  return parts.join(' · ');
}

/**
 * The doctor's "Waiting now" list: one entry per person and consult (the first seen wins),
 * whoever has waited longest first.
 */
export function waitingNow(entries: readonly ConsultWaiting[]): ConsultWaiting[] {
  const seen = new Set<string>();
  const out: ConsultWaiting[] = [];
  for (const entry of entries) {
    const key = `${entry.consult}:${entry.user}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(entry);
  }
  const at = (entry: ConsultWaiting) => {
    const time = Date.parse(entry.since);
    return Number.isFinite(time) ? time : Number.POSITIVE_INFINITY;
  };
  return out.sort((a, b) => {
    const [x, y] = [at(a), at(b)];
    return x === y ? 0 : x < y ? -1 : 1;
  });
}

/** The appointments someone is waiting in (their cell in the week says so). */
export function waitingAppointments(entries: readonly ConsultWaiting[]): Set<string> {
  return new Set(entries.map((entry) => entry.appointment));
}
