import { describe, expect, it } from 'vitest';
import { timeZoneOptions } from './timezones';

describe('timeZoneOptions', () => {
  it('lists IANA zones sorted, with UTC and the current value', () => {
    const zones = timeZoneOptions('Mars/Olympus_Mons');
    expect(zones).toContain('UTC');
    expect(zones).toContain('Europe/Lisbon');
    expect(zones).toContain('Mars/Olympus_Mons');
    expect([...zones].sort((a, b) => a.localeCompare(b))).toEqual(zones);
    expect(new Set(zones).size).toBe(zones.length);
  });
});
