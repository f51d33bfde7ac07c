import { format, isValid, parseISO } from 'date-fns';

export function fullName(
  person: { first_name: string; last_name: string } | null | undefined,
): string {
  if (!person) return '';
  return [person.first_name, person.last_name].filter(Boolean).join(' ').trim();
}

export function initials(person: {
  first_name: string;
  last_name: string;
  email?: string | null;
}): string {
  const letters = `${person.first_name.charAt(0)}${person.last_name.charAt(0)}`.trim();
  return (letters || person.email?.charAt(0) || '?').toUpperCase();
}

/** "YYYY-MM-DD" or an ISO datetime → "12 Mar 2026". Empty for null or unparsable input. */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '';
  const date = parseISO(value);
  return isValid(date) ? format(date, 'd MMM yyyy') : '';
}

/** An ISO datetime → "12 Mar 2026, 14:05" in the browser's time zone. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '';
  const date = parseISO(value);
  return isValid(date) ? format(date, 'd MMM yyyy, HH:mm') : '';
}
