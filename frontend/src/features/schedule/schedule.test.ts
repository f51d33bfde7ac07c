import { describe, expect, it } from 'vitest';
import type { Appointment, DoctorWeek } from '../../api/types';
import { describeWeekdays, emptyRuleForm, ruleFormToInput, ruleSummary } from './rules';
import { buildAgenda } from './week';

describe('availability rules', () => {
  it('describes weekdays compactly', () => {
    expect(describeWeekdays([1, 2, 3, 4, 5])).toBe('Mon–Fri');
    expect(describeWeekdays([5, 1, 3])).toBe('Mon, Wed, Fri');
    expect(describeWeekdays([6, 7])).toBe('Sat, Sun');
    expect(describeWeekdays([1, 2, 3, 5, 6, 7])).toBe('Mon–Wed, Fri–Sun');
    expect(ruleSummary({ weekdays: [2], start_time: '09:00:00', end_time: '12:30:00' })).toBe(
      'Tue, 09:00–12:30',
    );
  });

  it('builds a Rule body from the form', () => {
    const form = { ...emptyRuleForm('2026-03-01'), weekdays: [3, 1], slot_minutes: '20' };
    const result = ruleFormToInput(form, 'doc-1');
    expect(result).toEqual({
      ok: true,
      value: {
        doctor: 'doc-1',
        weekdays: [1, 3],
        start_time: '09:00',
        end_time: '13:00',
        slot_minutes: 20,
        buffer_minutes: 0,
        mode: 'both',
        effective_from: '2026-03-01',
        effective_until: null,
        min_notice_minutes: 120,
        booking_horizon_days: 56,
      },
    });
  });

  it('explains what is wrong with the form', () => {
    const result = ruleFormToInput(
      {
        ...emptyRuleForm('2026-03-10'),
        start_time: '12:00',
        end_time: '11:00',
        slot_minutes: '2',
        effective_until: '2026-03-01',
      },
      'doc-1',
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual([
      'effective_until',
      'end_time',
      'slot_minutes',
      'weekdays',
    ]);
  });
});

function appointment(id: string, start: string, status: Appointment['status']): Appointment {
  return { id, start, end: start.replace(':00:00', ':30:00'), status } as unknown as Appointment;
}

describe('doctor week agenda', () => {
  const week = {
    timezone: 'Asia/Tokyo',
    start: '2026-03-22T15:00:00Z', // midnight of Monday 23 March in Tokyo
    end: '2026-03-29T15:00:00Z',
    appointments: [
      appointment('a1', '2026-03-23T01:00:00Z', 'confirmed'), // Mon 10:00 Tokyo
      appointment('gone', '2026-03-23T02:00:00Z', 'cancelled'),
    ],
    free_slots: [
      {
        id: 's1',
        start: '2026-03-23T00:00:00Z',
        end: '2026-03-23T00:30:00Z',
        mode: 'both',
        held_for_you: false,
      },
      {
        id: 's2',
        start: '2026-03-24T16:00:00Z',
        end: '2026-03-24T16:30:00Z',
        mode: 'online',
        held_for_you: false,
      }, // Wed 01:00 Tokyo
    ],
    exceptions: [
      // Tue 15:00 Tokyo → Thu 00:00 Tokyo (end exclusive): Tue and Wed only
      {
        id: 'x1',
        doctor: 'd',
        kind: 'time_off',
        start: '2026-03-24T06:00:00Z',
        end: '2026-03-25T15:00:00Z',
        mode: 'both',
        slot_minutes: 30,
        label: '',
      },
      {
        id: 'x2',
        doctor: 'd',
        kind: 'extra_hours',
        start: '2026-03-27T06:00:00Z',
        end: '2026-03-27T08:00:00Z',
        mode: 'both',
        slot_minutes: 30,
        label: '',
      },
    ],
  } as unknown as DoctorWeek;

  it('lays out seven local days in time order, without cancelled appointments', () => {
    const agenda = buildAgenda(week);
    expect(agenda.map((d) => d.day)).toEqual([
      '2026-03-23',
      '2026-03-24',
      '2026-03-25',
      '2026-03-26',
      '2026-03-27',
      '2026-03-28',
      '2026-03-29',
    ]);
    const ids = (day: number) =>
      agenda[day]!.items.map((item) =>
        item.kind === 'appointment'
          ? item.appointment.id
          : item.kind === 'free'
            ? item.slot.id
            : item.exception.id,
      );
    expect(ids(0)).toEqual(['s1', 'a1']);
    expect(ids(1)).toEqual(['x1']);
    expect(ids(2)).toEqual(['x1', 's2']);
    expect(ids(3)).toEqual([]);
    expect(ids(4)).toEqual([]); // extra hours show as their free slots, not as an entry
  });
});
