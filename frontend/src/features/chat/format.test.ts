import { describe, expect, it } from 'vitest';
import { activityLabel, dayLabel, fileSize, messageTime, presenceLabel } from './format';

const now = new Date('2026-03-12T10:00:00Z');

describe('chat times', () => {
  it('labels days and times in the viewer zone', () => {
    expect(messageTime('2026-03-12T09:05:00Z', 'Europe/Lisbon')).toBe('09:05');
    expect(dayLabel('2026-03-12T01:00:00Z', 'UTC', now)).toBe('Today');
    expect(dayLabel('2026-03-11T23:30:00Z', 'UTC', now)).toBe('Yesterday');
    // 23:30 UTC on the 11th is already the 12th in Tokyo
    expect(dayLabel('2026-03-11T23:30:00Z', 'Asia/Tokyo', now)).toBe('Today');
    expect(dayLabel('2026-03-02T12:00:00Z', 'UTC', now)).toBe('Mon 2 Mar 2026');
    expect(activityLabel('2026-03-12T08:15:00Z', 'UTC', now)).toBe('08:15');
    expect(activityLabel('2026-02-01T08:15:00Z', 'UTC', now)).toBe('1 Feb');
    expect(activityLabel('2025-12-01T08:15:00Z', 'UTC', now)).toBe('1 Dec 2025');
  });

  it('says online, last seen, or nothing when presence is hidden', () => {
    expect(presenceLabel({ online: true, last_seen: null }, now)).toBe('Online');
    expect(presenceLabel({ online: null, last_seen: null }, now)).toBeNull();
    expect(presenceLabel(undefined, now)).toBeNull();
    expect(presenceLabel({ online: false, last_seen: '2026-03-12T09:55:00Z' }, now)).toBe(
      'Last seen 5 minutes ago',
    );
    expect(presenceLabel({ online: false, last_seen: '2026-03-12T09:59:40Z' }, now)).toBe(
      'Last seen just now',
    );
  });

  it('sizes files', () => {
    expect(fileSize(900)).toBe('900 B');
    expect(fileSize(2048)).toBe('2 KB');
    expect(fileSize(3 * 1024 * 1024)).toBe('3.0 MB');
  });
});
