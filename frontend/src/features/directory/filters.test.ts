import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localMidnight } from './filters';

// The test runner's environment (Node): its TZ decides the local zone of `Date`.
const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } })
  .process.env;

describe('localMidnight', () => {
  let zone: string | undefined;
  beforeEach(() => {
    zone = env.TZ;
  });
  afterEach(() => {
    if (zone === undefined) delete env.TZ;
    else env.TZ = zone;
  });

  it('is the start of the chosen day where the patient is, as an instant', () => {
    env.TZ = 'America/Sao_Paulo'; // UTC-3
    expect(localMidnight('2026-11-25')).toBe('2026-11-25T03:00:00.000Z');
    env.TZ = 'Asia/Tokyo'; // UTC+9: the day starts the evening before in UTC
    expect(localMidnight('2026-11-25')).toBe('2026-11-24T15:00:00.000Z');
  });

  it('leaves anything that is not a date for the server to refuse', () => {
    expect(localMidnight('soon')).toBe('soon');
  });
});
