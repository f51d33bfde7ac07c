import { describe, expect, it } from 'vitest';
import {
  appointmentsUrl,
  CALENDAR_TITLE,
  calendarStamp,
  googleCalendarUrl,
  outlookCalendarUrl,
} from './calendarLinks';
import { canRecordOutcome, isLateCancellation, modesFor } from './status';

const event = {
  start: '2026-03-12T09:30:00Z',
  end: '2026-03-12T10:00:00Z',
  appUrl: appointmentsUrl('https://care.example/'),
};

describe('calendar links', () => {
  it('stamps times in UTC basic format', () => {
    expect(calendarStamp('2026-03-12T09:30:00+01:00')).toBe('20260312T083000Z');
  });

  it('builds a Google Calendar template link', () => {
    const url = new URL(googleCalendarUrl(event));
    expect(url.origin + url.pathname).toBe('https://calendar.google.com/calendar/render');
    expect(url.searchParams.get('action')).toBe('TEMPLATE');
    expect(url.searchParams.get('text')).toBe(CALENDAR_TITLE);
    expect(url.searchParams.get('dates')).toBe('20260312T093000Z/20260312T100000Z');
    expect(url.searchParams.get('details')).toContain('https://care.example/appointments');
  });

  it('builds an Outlook compose link', () => {
    const url = new URL(outlookCalendarUrl(event));
    expect(url.hostname).toBe('outlook.live.com');
    expect(url.searchParams.get('subject')).toBe(CALENDAR_TITLE);
    expect(url.searchParams.get('startdt')).toBe('2026-03-12T09:30:00Z');
    expect(url.searchParams.get('enddt')).toBe('2026-03-12T10:00:00Z');
    expect(url.searchParams.get('rru')).toBe('addevent');
  });

  it('carries no health data: only the generic title, times and the app link', () => {
    for (const link of [googleCalendarUrl(event), outlookCalendarUrl(event)]) {
      const params = new URL(link).searchParams;
      const text = [...params.values()].join(' ');
      expect(text).toContain(CALENDAR_TITLE);
      expect(text).not.toMatch(/Dr\.?|reason|asthma/i);
      expect([...params.keys()].sort()).toEqual(
        link.includes('google')
          ? ['action', 'dates', 'details', 'text']
          : ['body', 'enddt', 'path', 'rru', 'startdt', 'subject'],
      );
    }
  });
});

describe('booking rules of thumb', () => {
  it('offers the modes a slot allows and the doctor charges for', () => {
    expect(modesFor('both')).toEqual(['online', 'in_person']);
    expect(modesFor('both', ['online'])).toEqual(['online']);
    expect(modesFor('in_person', ['online', 'in_person'])).toEqual(['in_person']);
    // a doctor without that fee: still show what the slot offers (the server decides)
    expect(modesFor('in_person', ['online'])).toEqual(['in_person']);
  });

  it('knows when a cancellation is late', () => {
    const appointment = { cancellation_deadline: '2026-03-11T09:30:00Z' };
    expect(isLateCancellation(appointment, new Date('2026-03-11T09:00:00Z'))).toBe(false);
    expect(isLateCancellation(appointment, new Date('2026-03-11T10:00:00Z'))).toBe(true);
  });

  it('records outcomes only after the start of a live appointment', () => {
    const now = new Date('2026-03-12T10:00:00Z');
    expect(canRecordOutcome({ start: '2026-03-12T09:30:00Z', status: 'confirmed' }, now)).toBe(
      true,
    );
    expect(canRecordOutcome({ start: '2026-03-12T10:30:00Z', status: 'confirmed' }, now)).toBe(
      false,
    );
    expect(canRecordOutcome({ start: '2026-03-12T09:30:00Z', status: 'cancelled' }, now)).toBe(
      false,
    );
    expect(canRecordOutcome({ start: '2026-03-12T09:30:00Z', status: 'completed' }, now)).toBe(
      false,
    );
  });
});
