import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EMPTY_FILTERS,
  filterProblems,
  filtersToParams,
  localMidnight,
  parseFilters,
  roundCoordinate,
  toApiQuery,
} from './filters';

describe('directory filters', () => {
  it('round-trips through the query string, leaving defaults out', () => {
    const filters = {
      ...EMPTY_FILTERS,
      specialty: 'cardiology',
      city: 'Porto',
      mode: 'online' as const,
      max_fee: '70',
      lat: '41.158',
      lng: '-8.629',
      radius_km: '10',
      sort: 'distance' as const,
    };
    const params = filtersToParams(filters);
    expect(params.toString()).toBe(
      'specialty=cardiology&city=Porto&max_fee=70&lat=41.158&lng=-8.629&radius_km=10&mode=online&sort=distance',
    );
    expect(parseFilters(params)).toEqual(filters);
    expect(filtersToParams(EMPTY_FILTERS).toString()).toBe('');
  });

  it('ignores unknown or unusable values', () => {
    const parsed = parseFilters(new URLSearchParams('mode=teleport&sort=price&offset=-3'));
    expect(parsed.mode).toBe('');
    expect(parsed.sort).toBe('next_available');
    expect(parsed.offset).toBe(0);
    // sorting by distance needs a location
    expect(parseFilters(new URLSearchParams('sort=distance')).sort).toBe('next_available');
  });

  it('maps to the API query: near=lat,lng with a radius, a limit and an offset', () => {
    const query = toApiQuery({
      ...EMPTY_FILTERS,
      language: 'pt',
      available_before: '2026-04-01',
      lat: '38.722',
      lng: '-9.139',
      radius_km: '5',
      sort: 'distance',
      offset: 20,
    });
    expect(Object.fromEntries(query)).toEqual({
      language: 'pt',
      available_before: localMidnight('2026-04-01'), // the day's start where the patient is
      near: '38.722,-9.139',
      radius_km: '5',
      sort: 'distance',
      limit: '20',
      offset: '20',
    });
    // a radius without a location is not sent
    expect(toApiQuery({ ...EMPTY_FILTERS, radius_km: '5' }).has('radius_km')).toBe(false);
  });

  it('checks what is typed before searching', () => {
    expect(filterProblems(EMPTY_FILTERS)).toEqual({});
    expect(filterProblems({ ...EMPTY_FILTERS, max_fee: 'cheap' }).max_fee).toBeDefined();
    expect(filterProblems({ ...EMPTY_FILTERS, lat: '91', lng: '0' }).lat).toBeDefined();
    expect(filterProblems({ ...EMPTY_FILTERS, lat: '38.7' }).lng).toBeDefined();
  });

  it('rounds a shared location to about 100 m', () => {
    expect(roundCoordinate(38.722345)).toBe('38.722');
  });
});

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
