/**
 * Time-zone aware dates, through @date-fns/tz (never by hand).
 *
 * The API answers in UTC. Patients see times in their own (browser) time zone; staff see a
 * doctor's schedule in the center's zone. Calendar days are "date keys" ("YYYY-MM-DD"), which
 * only mean something together with a zone.
 */
import { TZDate, tz, tzName } from '@date-fns/tz';
import { addDays, format, isValid, parseISO, startOfWeek } from 'date-fns';

/** The browser's IANA time zone (UTC when the browser does not say). */
export function viewerTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function toDate(value: string | Date): Date {
  return typeof value === 'string' ? parseISO(value) : value;
}

/** An instant formatted with a date-fns pattern in `zone`; empty for bad input. */
export function formatInZone(
  value: string | Date | null | undefined,
  zone: string,
  pattern: string,
) {
  if (!value) return '';
  const date = toDate(value);
  if (!isValid(date)) return '';
  return format(date, pattern, { in: tz(zone) });
}

/** "Mon 12 Mar, 09:30" */
export function formatSlotTime(value: string | Date, zone: string): string {
  return formatInZone(value, zone, 'EEE d MMM, HH:mm');
}

/** "09:30" */
export function formatClock(value: string | Date, zone: string): string {
  return formatInZone(value, zone, 'HH:mm');
}

/** "09:30–10:00" */
export function formatTimeRange(start: string, end: string, zone: string): string {
  return `${formatClock(start, zone)}–${formatClock(end, zone)}`;
}

/** "Europe/Lisbon (WEST)": the zone's name, and its abbreviation at `at` when it has one. */
export function zoneLabel(zone: string, at: Date = new Date()): string {
  let short: string;
  try {
    short = tzName(zone, at, 'short');
  } catch {
    short = '';
  }
  return short && short !== zone ? `${zone} (${short})` : zone;
}

/** The calendar day of an instant in `zone`, as "YYYY-MM-DD". */
export function dateKeyInZone(value: string | Date, zone: string): string {
  return formatInZone(value, zone, 'yyyy-MM-dd');
}

function splitKey(key: string): [number, number, number] | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  if (!match) return null;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export function isDateKey(key: string | null | undefined): key is string {
  const parts = key ? splitKey(key) : null;
  if (!parts) return false;
  const [y, m, d] = parts;
  const date = new TZDate(y, m - 1, d, 'UTC');
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Calendar arithmetic on date keys (no zone involved: a day is a day). */
export function addDaysToKey(key: string, days: number): string {
  const parts = splitKey(key);
  if (!parts) throw new Error(`not a date key: ${key}`);
  const [y, m, d] = parts;
  return format(addDays(new TZDate(y, m - 1, d, 'UTC'), days), 'yyyy-MM-dd');
}

/** The Monday ("YYYY-MM-DD") of the week that contains `at` in `zone`. */
export function weekStartKey(at: Date, zone: string): string {
  const monday = startOfWeek(at, { weekStartsOn: 1, in: tz(zone) });
  return format(monday, 'yyyy-MM-dd', { in: tz(zone) });
}

/** `count` consecutive date keys from `start`. */
export function dayKeys(start: string, count = 7): string[] {
  return Array.from({ length: count }, (_, i) => addDaysToKey(start, i));
}

/**
 * A wall-clock time in `zone` → the UTC ISO instant. `time` is "HH:mm" (or "HH:mm:ss").
 * In a spring-forward gap the time moves forward by the gap, as clocks do.
 */
export function zonedToIso(dateKey: string, time: string, zone: string): string | null {
  const parts = splitKey(dateKey);
  const clock = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(time);
  if (!parts || !clock || !isDateKey(dateKey)) return null;
  const [y, m, d] = parts;
  const date = new TZDate(
    y,
    m - 1,
    d,
    Number(clock[1]),
    Number(clock[2]),
    Number(clock[3] ?? 0),
    zone,
  );
  if (Number.isNaN(date.getTime())) return null;
  return new Date(date.getTime()).toISOString();
}

/** An <input type="datetime-local"> value ("YYYY-MM-DDTHH:mm"), read in `zone` → UTC ISO. */
export function localInputToIso(value: string, zone: string): string | null {
  const [dateKey, time] = value.split('T');
  if (!dateKey || !time) return null;
  return zonedToIso(dateKey, time.slice(0, 5), zone);
}

/** An instant → an <input type="datetime-local"> value in `zone`. */
export function isoToLocalInput(value: string | Date, zone: string): string {
  return formatInZone(value, zone, "yyyy-MM-dd'T'HH:mm");
}

/** The instants that bound the whole days [start, start + days) in `zone`. */
export function dayRangeIso(
  start: string,
  days: number,
  zone: string,
): { from: string; to: string } {
  const from = zonedToIso(start, '00:00', zone);
  const to = zonedToIso(addDaysToKey(start, days), '00:00', zone);
  if (!from || !to) throw new Error(`not a date key: ${start}`);
  return { from, to };
}

/** Items with a `start` grouped by their calendar day in `zone`, each day sorted by start. */
export function groupByDay<T extends { start: string }>(
  items: readonly T[],
  zone: string,
  keys: readonly string[],
): Map<string, T[]> {
  const days = new Map<string, T[]>(keys.map((key) => [key, []]));
  for (const item of items) {
    days.get(dateKeyInZone(item.start, zone))?.push(item);
  }
  for (const list of days.values()) list.sort((a, b) => a.start.localeCompare(b.start));
  return days;
}

/** "Mon 12 Mar" for a date key (it is a calendar day: no zone conversion). */
export function formatDayKey(key: string, pattern = 'EEE d MMM'): string {
  const parts = splitKey(key);
  if (!parts) return key;
  const [y, m, d] = parts;
  return format(new TZDate(y, m - 1, d, 'UTC'), pattern, { in: tz('UTC') });
}

/** Today's date key in `zone`. */
export function todayKey(zone: string, now: Date = new Date()): string {
  return dateKeyInZone(now, zone);
}
