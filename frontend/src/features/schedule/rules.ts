/** Availability rules: the form's values ↔ the API's Rule body, and how rules read. */
import type { Rule, RuleInput, SlotMode } from '../../api/types';

export const WEEKDAYS = [
  { value: 1, label: 'Monday', short: 'Mon' },
  { value: 2, label: 'Tuesday', short: 'Tue' },
  { value: 3, label: 'Wednesday', short: 'Wed' },
  { value: 4, label: 'Thursday', short: 'Thu' },
  { value: 5, label: 'Friday', short: 'Fri' },
  { value: 6, label: 'Saturday', short: 'Sat' },
  { value: 7, label: 'Sunday', short: 'Sun' },
] as const;

/** "09:00:00" or "09:00" → "09:00". */
export function shortTime(value: string): string {
  return value.slice(0, 5);
}

/** [1,2,3,4,5] → "Mon–Fri"; [1,3,5] → "Mon, Wed, Fri"; runs of 3+ days are shortened. */
export function describeWeekdays(days: readonly number[]): string {
  const sorted = [...new Set(days)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b);
  const name = (d: number) => WEEKDAYS[d - 1]?.short ?? String(d);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    const first = sorted[i] ?? 0;
    const last = sorted[j] ?? 0;
    if (j - i >= 2) parts.push(`${name(first)}–${name(last)}`);
    else for (let k = i; k <= j; k++) parts.push(name(sorted[k] ?? 0));
    i = j + 1;
  }
  return parts.join(', ');
}

export interface RuleForm {
  weekdays: number[];
  start_time: string;
  end_time: string;
  slot_minutes: string;
  buffer_minutes: string;
  mode: SlotMode;
  effective_from: string;
  effective_until: string;
  min_notice_minutes: string;
  booking_horizon_days: string;
}

export function emptyRuleForm(today: string): RuleForm {
  return {
    weekdays: [],
    start_time: '09:00',
    end_time: '13:00',
    slot_minutes: '30',
    buffer_minutes: '0',
    mode: 'both',
    effective_from: today,
    effective_until: '',
    min_notice_minutes: '120',
    booking_horizon_days: '56',
  };
}

export type RuleFormErrors = Partial<Record<keyof RuleForm, string>>;

function wholeNumber(value: string, min: number, max: number): number | null {
  if (!/^\d+$/.test(value.trim())) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

/** The form → a Rule body for `doctor`, or the problems to show next to the fields. */
export function ruleFormToInput(
  form: RuleForm,
  doctor: string,
): { ok: true; value: RuleInput } | { ok: false; errors: RuleFormErrors } {
  const errors: RuleFormErrors = {};
  if (form.weekdays.length === 0) errors.weekdays = 'Choose at least one weekday.';
  const timeOk = (t: string) => /^\d{2}:\d{2}$/.test(t);
  if (!timeOk(form.start_time)) errors.start_time = 'Enter a start time.';
  if (!timeOk(form.end_time)) errors.end_time = 'Enter an end time.';
  else if (timeOk(form.start_time) && form.end_time <= form.start_time) {
    errors.end_time = 'The end must be after the start.';
  }
  const slot = wholeNumber(form.slot_minutes, 5, 480);
  if (slot === null) errors.slot_minutes = 'Between 5 and 480 minutes.';
  const buffer = wholeNumber(form.buffer_minutes || '0', 0, 240);
  if (buffer === null) errors.buffer_minutes = 'Between 0 and 240 minutes.';
  const notice = wholeNumber(form.min_notice_minutes || '0', 0, 60 * 24 * 30);
  if (notice === null) errors.min_notice_minutes = 'A whole number of minutes.';
  const horizon = wholeNumber(form.booking_horizon_days, 1, 365);
  if (horizon === null) errors.booking_horizon_days = 'Between 1 and 365 days.';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(form.effective_from)) {
    errors.effective_from = 'Choose the first day.';
  }
  if (form.effective_until && form.effective_until < form.effective_from) {
    errors.effective_until = 'The last day must not be before the first.';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      doctor,
      weekdays: [...form.weekdays].sort((a, b) => a - b),
      start_time: form.start_time,
      end_time: form.end_time,
      slot_minutes: slot ?? 30,
      buffer_minutes: buffer ?? 0,
      mode: form.mode,
      effective_from: form.effective_from,
      effective_until: form.effective_until || null,
      min_notice_minutes: notice ?? 0,
      booking_horizon_days: horizon ?? 56,
    },
  };
}

/** "Mon–Fri, 09:00–13:00" */
export function ruleSummary(rule: Pick<Rule, 'weekdays' | 'start_time' | 'end_time'>): string {
  return `${describeWeekdays(rule.weekdays)}, ${shortTime(rule.start_time)}–${shortTime(rule.end_time)}`;
}
