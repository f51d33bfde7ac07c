import type { Scope } from '../api/types';

export const SCOPES: { value: Scope; label: string; description: string }[] = [
  {
    value: 'book',
    label: 'Book appointments',
    description: 'Find doctors and book, reschedule or cancel appointments for you.',
  },
  {
    value: 'message',
    label: 'Message the care team',
    description: 'Read and send messages to your doctors and nurses on your behalf.',
  },
  { value: 'pay', label: 'Pay bills', description: 'See your bills and pay them.' },
  {
    value: 'view_records',
    label: 'View health records',
    description: 'See your health summary: allergies, conditions, medications and prescriptions.',
  },
];

export function scopeLabel(scope: Scope): string {
  return SCOPES.find((s) => s.value === scope)?.label ?? scope;
}

/** Scopes in a stable, readable order. */
export function scopeLabels(scopes: Scope[]): string[] {
  return SCOPES.filter((s) => scopes.includes(s.value)).map((s) => s.label);
}
