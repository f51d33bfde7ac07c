/**
 * The "Find a doctor" filters, kept in the page's query string (shareable, survives reload).
 * Nothing here is health data; a location from the browser is rounded to about 100 m.
 */
import type { ConsultMode } from '../../api/types';

export const SORTS = ['next_available', 'fee', 'rating', 'distance'] as const;
export type Sort = (typeof SORTS)[number];

export const PAGE_SIZE = 20;

export interface DirectoryFilters {
  q: string;
  specialty: string;
  city: string;
  language: string;
  mode: ConsultMode | '';
  max_fee: string;
  available_before: string;
  lat: string;
  lng: string;
  radius_km: string;
  sort: Sort;
  offset: number;
}

export const EMPTY_FILTERS: DirectoryFilters = {
  q: '',
  specialty: '',
  city: '',
  language: '',
  mode: '',
  max_fee: '',
  available_before: '',
  lat: '',
  lng: '',
  radius_km: '',
  sort: 'next_available',
  offset: 0,
};

const TEXT_KEYS = [
  'q',
  'specialty',
  'city',
  'language',
  'max_fee',
  'available_before',
  'lat',
  'lng',
  'radius_km',
] as const;

function isMode(value: string | null): value is ConsultMode {
  return value === 'online' || value === 'in_person';
}

function isSort(value: string | null): value is Sort {
  return (SORTS as readonly string[]).includes(value ?? '');
}

export function parseFilters(params: URLSearchParams): DirectoryFilters {
  const filters: DirectoryFilters = { ...EMPTY_FILTERS };
  for (const key of TEXT_KEYS) filters[key] = (params.get(key) ?? '').trim();
  const mode = params.get('mode');
  filters.mode = isMode(mode) ? mode : '';
  const sort = params.get('sort');
  filters.sort = isSort(sort) ? sort : 'next_available';
  const offset = Number(params.get('offset'));
  filters.offset = Number.isInteger(offset) && offset > 0 ? offset : 0;
  if (filters.sort === 'distance' && !hasLocation(filters)) filters.sort = 'next_available';
  return filters;
}

/** The page's query string: only what differs from the defaults. */
export function filtersToParams(filters: DirectoryFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of TEXT_KEYS) {
    const value = filters[key].trim();
    if (value) params.set(key, value);
  }
  if (filters.mode) params.set('mode', filters.mode);
  if (filters.sort !== 'next_available') params.set('sort', filters.sort);
  if (filters.offset > 0) params.set('offset', String(filters.offset));
  return params;
}

export function hasLocation(filters: Pick<DirectoryFilters, 'lat' | 'lng'>): boolean {
  return parseCoordinate(filters.lat, 90) !== null && parseCoordinate(filters.lng, 180) !== null;
}

export function parseCoordinate(value: string, limit: number): number | null {
  if (!/^-?\d{1,3}(\.\d+)?$/.test(value.trim())) return null;
  const number = Number(value);
  return Math.abs(number) <= limit ? number : null;
}

/** A coordinate from the browser, rounded to 3 decimals (about 100 m). */
export function roundCoordinate(value: number): string {
  return value.toFixed(3);
}

/**
 * "Available before 25 Nov" means before midnight where the patient is, not in UTC: the
 * date field's day as an instant (the API reads a bare date as midnight UTC).
 */
export function localMidnight(day: string): string {
  const [year, month, date] = day.split('-').map(Number);
  if (!year || !month || !date) return day; // not a date: the server names the problem
  return new Date(year, month - 1, date).toISOString();
}

/** The GET /api/doctors/ query for these filters. */
export function toApiQuery(filters: DirectoryFilters, limit = PAGE_SIZE): URLSearchParams {
  const query = new URLSearchParams();
  if (filters.q) query.set('q', filters.q);
  if (filters.specialty) query.set('specialty', filters.specialty);
  if (filters.city) query.set('city', filters.city);
  if (filters.language) query.set('language', filters.language);
  if (filters.mode) query.set('mode', filters.mode);
  if (filters.max_fee) query.set('max_fee', filters.max_fee);
  if (filters.available_before) {
    query.set('available_before', localMidnight(filters.available_before));
  }
  if (hasLocation(filters)) {
    query.set('near', `${filters.lat.trim()},${filters.lng.trim()}`);
    if (filters.radius_km) query.set('radius_km', filters.radius_km);
  }
  query.set(
    'sort',
    filters.sort === 'distance' && !hasLocation(filters) ? 'next_available' : filters.sort,
  );
  query.set('limit', String(limit));
  if (filters.offset > 0) query.set('offset', String(filters.offset));
  return query;
}

/** Problems to show before searching (the server checks again). */
export function filterProblems(
  filters: DirectoryFilters,
): Partial<Record<keyof DirectoryFilters, string>> {
  const problems: Partial<Record<keyof DirectoryFilters, string>> = {};
  if (filters.max_fee && !/^\d{1,7}(\.\d{1,2})?$/.test(filters.max_fee.trim())) {
    problems.max_fee = 'Enter an amount like 40 or 40.50.';
  }
  const lat = filters.lat.trim();
  const lng = filters.lng.trim();
  if ((lat || lng) && parseCoordinate(lat, 90) === null) {
    problems.lat = 'Enter a latitude between -90 and 90.';
  }
  if ((lat || lng) && parseCoordinate(lng, 180) === null) {
    problems.lng = 'Enter a longitude between -180 and 180.';
  }
  if (filters.radius_km && !/^\d{1,4}(\.\d+)?$/.test(filters.radius_km.trim())) {
    problems.radius_km = 'Enter a distance in kilometres, like 25.';
  }
  return problems;
}
