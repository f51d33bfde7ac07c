import { describe, expect, it } from 'vitest';
import {
  addDaysToKey,
  dateKeyInZone,
  dayKeys,
  dayRangeIso,
  formatDayKey,
  formatSlotTime,
  formatTimeRange,
  groupByDay,
  isDateKey,
  isoToLocalInput,
  localInputToIso,
  weekStartKey,
  zonedToIso,
  zoneLabel,
} from './zones';

describe('time zones', () => {
  it('formats an instant in the given zone, not the machine zone', () => {
    const iso = '2026-03-12T23:30:00Z';
    expect(formatSlotTime(iso, 'Asia/Tokyo')).toBe('Fri 13 Mar, 08:30');
    expect(formatSlotTime(iso, 'America/New_York')).toBe('Thu 12 Mar, 19:30');
    expect(formatTimeRange(iso, '2026-03-13T00:00:00Z', 'Europe/Lisbon')).toBe('23:30–00:00');
  });

  it('finds the calendar day of an instant in a zone', () => {
    expect(dateKeyInZone('2026-03-12T23:30:00Z', 'Asia/Tokyo')).toBe('2026-03-13');
    expect(dateKeyInZone('2026-03-12T23:30:00Z', 'UTC')).toBe('2026-03-12');
  });

  it('turns wall-clock times into UTC across daylight saving', () => {
    // Lisbon: WET (UTC+0) in winter, WEST (UTC+1) from 29 March 2026
    expect(zonedToIso('2026-03-27', '09:00', 'Europe/Lisbon')).toBe('2026-03-27T09:00:00.000Z');
    expect(zonedToIso('2026-03-30', '09:00', 'Europe/Lisbon')).toBe('2026-03-30T08:00:00.000Z');
    expect(zonedToIso('2026-07-01', '09:00', 'America/New_York')).toBe('2026-07-01T13:00:00.000Z');
    expect(zonedToIso('2026-02-30', '09:00', 'UTC')).toBeNull();
    expect(zonedToIso('2026-03-01', '9am', 'UTC')).toBeNull();
  });

  it('round-trips datetime-local values in a zone', () => {
    const iso = localInputToIso('2026-06-15T14:45', 'Europe/Lisbon');
    expect(iso).toBe('2026-06-15T13:45:00.000Z');
    expect(isoToLocalInput(iso!, 'Europe/Lisbon')).toBe('2026-06-15T14:45');
    expect(localInputToIso('', 'UTC')).toBeNull();
  });

  it('does calendar arithmetic on date keys', () => {
    expect(addDaysToKey('2026-02-27', 2)).toBe('2026-03-01');
    expect(addDaysToKey('2026-03-29', 1)).toBe('2026-03-30');
    expect(addDaysToKey('2026-01-05', -7)).toBe('2025-12-29');
    expect(dayKeys('2026-03-23', 7)).toEqual([
      '2026-03-23',
      '2026-03-24',
      '2026-03-25',
      '2026-03-26',
      '2026-03-27',
      '2026-03-28',
      '2026-03-29',
    ]);
    expect(isDateKey('2026-02-29')).toBe(false);
    expect(isDateKey('2028-02-29')).toBe(true);
    expect(isDateKey(null)).toBe(false);
    expect(formatDayKey('2026-03-29')).toBe('Sun 29 Mar');
  });

  it('starts weeks on Monday in the viewer zone', () => {
    // Sunday 23:30 UTC is already Monday in Tokyo
    const at = new Date('2026-03-29T23:30:00Z');
    expect(weekStartKey(at, 'UTC')).toBe('2026-03-23');
    expect(weekStartKey(at, 'Asia/Tokyo')).toBe('2026-03-30');
  });

  it('bounds a week by local midnights (23 hours on a spring-forward week)', () => {
    const { from, to } = dayRangeIso('2026-03-23', 7, 'Europe/Lisbon');
    expect(from).toBe('2026-03-23T00:00:00.000Z');
    expect(to).toBe('2026-03-29T23:00:00.000Z');
    expect(Date.parse(to) - Date.parse(from)).toBe((7 * 24 - 1) * 3600_000);
  });

  it('groups items by local day, sorted, ignoring days outside the week', () => {
    const items = [
      { start: '2026-03-24T10:00:00Z', id: 'b' },
      { start: '2026-03-24T09:00:00Z', id: 'a' },
      { start: '2026-03-24T23:30:00Z', id: 'c' }, // 08:30 on 25 March in Tokyo
      { start: '2026-04-10T09:00:00Z', id: 'later' },
    ];
    const days = groupByDay(items, 'Asia/Tokyo', dayKeys('2026-03-23', 7));
    expect(days.get('2026-03-24')?.map((i) => i.id)).toEqual(['a', 'b']);
    expect(days.get('2026-03-25')?.map((i) => i.id)).toEqual(['c']);
    expect([...days.values()].flat()).toHaveLength(3);
  });

  it('labels a zone with its abbreviation', () => {
    expect(zoneLabel('UTC')).toBe('UTC');
    expect(zoneLabel('America/New_York', new Date('2026-07-01T12:00:00Z'))).toBe(
      'America/New_York (EDT)',
    );
  });
});
