const FALLBACK = ['UTC', 'Europe/Lisbon', 'Europe/London', 'America/New_York'];

/** IANA time zones this browser knows, always including UTC and the current value. */
export function timeZoneOptions(current: string): string[] {
  let zones: string[];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = FALLBACK;
  }
  const all = new Set(zones);
  all.add('UTC');
  if (current) all.add(current);
  return [...all].sort((a, b) => a.localeCompare(b));
}
