import { endOfDay, isValid, parse } from 'date-fns';

/**
 * A date picked in an <input type="date"> ("YYYY-MM-DD") → the ISO instant at the end of that
 * day in the browser's time zone, so "access ends on 1 May" includes all of 1 May locally.
 * Returns null for empty or invalid input.
 */
export function endOfDayIso(dateInput: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(dateInput)) return null;
  const date = parse(dateInput, 'yyyy-MM-dd', new Date());
  return isValid(date) ? endOfDay(date).toISOString() : null;
}

/** Today as "YYYY-MM-DD" in the browser's time zone (for min= on date inputs). */
export function todayInput(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
