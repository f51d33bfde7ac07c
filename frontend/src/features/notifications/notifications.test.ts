import { describe, expect, it } from 'vitest';
import {
  applyPreferencesPatch,
  attendanceBadge,
  badgeText,
  bellLabel,
  channelCheckboxLabel,
  clockInput,
  deliveryStatus,
  inAppPath,
  linkCopy,
  linkProblem,
  markReadLocally,
  prependPushed,
  quietHoursProblem,
  timeAgo,
} from './format';
import type { AppNotification, NotificationList, NotificationPreferences } from './types';

const NOW = new Date('2026-03-12T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

function note(id: string, read = false): AppNotification {
  return {
    id,
    kind: 'booking',
    event: 'appointment.confirmed',
    title: `Title ${id}`,
    body: '',
    link: '',
    actions: [],
    created_at: '2026-03-12T09:00:00Z',
    read_at: read ? '2026-03-12T10:00:00Z' : null,
  };
}

describe('the bell', () => {
  it('names the button with the unread count', () => {
    expect(bellLabel(0)).toBe('Notifications');
    expect(bellLabel(1)).toBe('Notifications, 1 unread');
    expect(bellLabel(3)).toBe('Notifications, 3 unread');
  });

  it('shows no badge for none and caps it at 99+', () => {
    expect(badgeText(0)).toBeNull();
    expect(badgeText(-2)).toBeNull();
    expect(badgeText(Number.NaN)).toBeNull();
    expect(badgeText(7)).toBe('7');
    expect(badgeText(99)).toBe('99');
    expect(badgeText(100)).toBe('99+');
  });
});

describe('timeAgo', () => {
  it('says how long ago in plain words', () => {
    expect(timeAgo(ago(5), NOW)).toBe('just now');
    expect(timeAgo(ago(-30), NOW)).toBe('just now'); // a clock a little ahead
    expect(timeAgo(ago(60), NOW)).toBe('1 min ago');
    expect(timeAgo(ago(59 * 60), NOW)).toBe('59 min ago');
    expect(timeAgo(ago(3600), NOW)).toBe('1 hour ago');
    expect(timeAgo(ago(5 * 3600), NOW)).toBe('5 hours ago');
    expect(timeAgo(ago(30 * 3600), NOW)).toBe('yesterday');
    expect(timeAgo(ago(3 * 86400), NOW)).toBe('3 days ago');
  });

  it('gives the date after a week, with the year only when it differs', () => {
    expect(timeAgo('2026-02-01T12:00:00Z', NOW)).toBe('1 Feb');
    expect(timeAgo('2025-12-01T12:00:00Z', NOW)).toBe('1 Dec 2025');
    expect(timeAgo('not a date', NOW)).toBe('');
  });
});

describe('inAppPath', () => {
  const origin = 'https://app.careconnect.test';
  it('keeps links to this site in the app', () => {
    expect(inAppPath('/appointments', origin)).toBe('/appointments');
    expect(inAppPath('https://app.careconnect.test/messages/1?x=1', origin)).toBe(
      '/messages/1?x=1',
    );
  });

  it('treats one-tap links under the public URL as this site', () => {
    expect(inAppPath('https://careconnect.example/r/abc.def-1', origin)).toBe('/r/abc.def-1');
    expect(inAppPath('http://localhost:8000/r/tok/', origin)).toBe('/r/tok/');
  });

  it('leaves other sites and odd URLs alone', () => {
    expect(inAppPath('https://elsewhere.example/help', origin)).toBeNull();
    expect(inAppPath('//evil.example/r/x', origin)).toBeNull();
    expect(inAppPath('javascript:alert(1)', origin)).toBeNull();
    expect(inAppPath('', origin)).toBeNull();
  });
});

describe('the cached list', () => {
  const list: NotificationList = { unread: 1, results: [note('a'), note('b', true)] };

  it('puts a pushed notification on top once and counts it', () => {
    const pushed = {
      id: 'c',
      kind: 'booking',
      title: 'New',
      body: 'Body',
      link: '',
      actions: [],
      created_at: '2026-03-12T11:00:00Z',
    };
    const next = prependPushed(list, pushed)!;
    expect(next.unread).toBe(2);
    expect(next.results.map((n) => n.id)).toEqual(['c', 'a', 'b']);
    expect(next.results[0]!.read_at).toBeNull();
    expect(prependPushed(next, pushed)).toBe(next);
    expect(prependPushed(undefined, pushed)).toBeUndefined();
  });

  it('marks one or all read before the server answers', () => {
    const at = '2026-03-12T12:00:00Z';
    const one = markReadLocally(list, ['a'], at)!;
    expect(one.unread).toBe(0);
    expect(one.results[0]!.read_at).toBe(at);
    expect(one.results[1]!.read_at).toBe('2026-03-12T10:00:00Z');
    const twice = markReadLocally({ ...list, unread: 4 }, ['b'], at)!;
    expect(twice.unread).toBe(4); // already read: nothing changes
    expect(markReadLocally({ ...list, unread: 4 }, null, at)!.unread).toBe(0);
  });
});

describe('one-tap link copy', () => {
  it('says what each purpose will do, with one button', () => {
    expect(linkCopy('appointment.confirm')).toMatchObject({
      title: 'Confirm your appointment?',
      button: 'Confirm',
    });
    expect(linkCopy('appointment.cancel')).toMatchObject({
      title: 'Cancel your appointment?',
      button: 'Cancel appointment',
    });
    expect(linkCopy('appointment.reschedule')).toMatchObject({
      title: 'Choose a new time for your appointment?',
      button: 'Choose a new time',
    });
    expect(linkCopy('something.new').button).toBe('Continue');
  });

  it('explains used, expired, invalid and someone else’s links plainly', () => {
    expect(linkProblem(409, 'link_used').title).toBe('This link was already used');
    expect(linkProblem(409, 'link_expired').title).toBe('This link has expired');
    expect(linkProblem(400, 'invalid').title).toBe('This link does not work');
    expect(linkProblem(404, 'not_found').title).toBe('This link is for someone else');
    expect(linkProblem(0, 'network_error').title).toBe('We could not reach CareConnect');
    expect(linkProblem(500, 'http_error').title).toBe('Something went wrong');
  });
});

describe('settings', () => {
  const prefs: NotificationPreferences = {
    kinds: [
      {
        kind: 'appointment_reminder',
        label: 'Appointment reminders',
        email: true,
        sms: false,
        in_app: true,
      },
      { kind: 'payment', label: 'Receipts and refunds', email: true, sms: false, in_app: true },
    ],
    timezone: 'UTC',
    quiet_hours: null,
    sms: { number_last4: null, verified: false },
  };

  it('names each checkbox by channel and kind', () => {
    expect(channelCheckboxLabel('sms', 'Appointment reminders')).toBe(
      'SMS for Appointment reminders',
    );
    expect(channelCheckboxLabel('in_app', 'New messages')).toBe('In the app for New messages');
  });

  it('applies a patch for the optimistic view', () => {
    const next = applyPreferencesPatch(prefs, {
      kinds: { payment: { email: false } },
      timezone: 'Europe/Lisbon',
      quiet_hours: { start: '22:00', end: '07:00' },
    })!;
    expect(next.kinds[1]).toMatchObject({ email: false, sms: false, in_app: true });
    expect(next.kinds[0]).toBe(prefs.kinds[0]);
    expect(next.timezone).toBe('Europe/Lisbon');
    expect(next.quiet_hours).toEqual({ start: '22:00', end: '07:00' });
    expect(applyPreferencesPatch(next, { quiet_hours: null })!.quiet_hours).toBeNull();
  });

  it('checks quiet hours and reads server times into the inputs', () => {
    expect(quietHoursProblem({ start: '22:00', end: '07:00' })).toBeNull();
    expect(quietHoursProblem({ start: '', end: '07:00' })).toBe('Enter both times.');
    expect(quietHoursProblem({ start: '07:00', end: '07:00' })).not.toBeNull();
    expect(clockInput('22:00:00')).toBe('22:00');
    expect(clockInput(null)).toBe('');
  });

  it('labels delivery statuses, unknown ones as they are', () => {
    expect(deliveryStatus('failed')).toEqual({ label: 'Failed', tone: 'danger' });
    expect(deliveryStatus('bounced')).toEqual({ label: 'bounced', tone: 'neutral' });
  });
});

describe('attendance', () => {
  it('says who confirmed and how', () => {
    expect(attendanceBadge({ attendance_confirmed_at: null })).toBeNull();
    expect(attendanceBadge({})).toBeNull();
    expect(
      attendanceBadge({
        attendance_confirmed_at: '2026-03-12T09:00Z',
        attendance_confirmed_via: 'sms',
      }),
    ).toBe('Confirmed by patient (by text message)');
    expect(
      attendanceBadge({
        attendance_confirmed_at: '2026-03-12T09:00Z',
        attendance_confirmed_via: 'link',
      }),
    ).toBe('Confirmed by patient (by link)');
    expect(attendanceBadge({ attendance_confirmed_at: '2026-03-12T09:00Z' })).toBe(
      'Confirmed by patient',
    );
  });
});
