/** The doctor's week as day columns: appointments, free slots and time off, in time order. */
import type { Appointment, DoctorWeek, ScheduleException, Slot } from '../../api/types';
import { dateKeyInZone, dayKeys, isDateKey } from '../../lib/zones';

export type AgendaItem =
  | { kind: 'appointment'; start: string; end: string; appointment: Appointment }
  | { kind: 'free'; start: string; end: string; slot: Slot }
  | { kind: 'time_off'; start: string; end: string; exception: ScheduleException };

const ORDER: Record<AgendaItem['kind'], number> = { time_off: 0, appointment: 1, free: 2 };

/** The first day of the week in the center's zone (`start` is the instant of its midnight). */
export function weekStartDay(week: Pick<DoctorWeek, 'start' | 'timezone'>): string {
  return isDateKey(week.start) ? week.start : dateKeyInZone(week.start, week.timezone);
}

/**
 * Seven days from `week.start`, each with its items sorted by start time. Cancelled
 * appointments are left out (their time is free again). Time off that spans several days is
 * shown on each day it touches.
 */
export function buildAgenda(week: DoctorWeek): { day: string; items: AgendaItem[] }[] {
  const zone = week.timezone;
  const days = dayKeys(weekStartDay(week), 7);
  const byDay = new Map<string, AgendaItem[]>(days.map((d) => [d, []]));
  const push = (day: string, item: AgendaItem) => byDay.get(day)?.push(item);

  for (const appointment of week.appointments) {
    if (appointment.status === 'cancelled') continue;
    push(dateKeyInZone(appointment.start, zone), {
      kind: 'appointment',
      start: appointment.start,
      end: appointment.end,
      appointment,
    });
  }
  for (const slot of week.free_slots) {
    push(dateKeyInZone(slot.start, zone), { kind: 'free', start: slot.start, end: slot.end, slot });
  }
  for (const exception of week.exceptions) {
    if (exception.kind !== 'time_off') continue;
    const first = dateKeyInZone(exception.start, zone);
    // the end is exclusive: time off until midnight does not touch the next day
    const last = dateKeyInZone(new Date(Date.parse(exception.end) - 1), zone);
    for (const day of days) {
      if (day >= first && day <= last) {
        push(day, { kind: 'time_off', start: exception.start, end: exception.end, exception });
      }
    }
  }
  return days.map((day) => ({
    day,
    items: (byDay.get(day) ?? []).sort(
      (a, b) => a.start.localeCompare(b.start) || ORDER[a.kind] - ORDER[b.kind],
    ),
  }));
}
