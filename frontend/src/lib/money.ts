import type { Money } from '../api/types';

export type MoneyInput = { ok: true; value: Money | null } | { ok: false; error: string };

/** A typed amount ("35", "35.5", "35.00") → Money with two decimals; empty → null (no fee). */
export function parseMoneyInput(amount: string, currency: string): MoneyInput {
  const trimmed = amount.trim().replace(',', '.');
  if (!trimmed) return { ok: true, value: null };
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(trimmed)) {
    return { ok: false, error: 'Enter an amount like 35 or 35.50.' };
  }
  return { ok: true, value: { amount: Number(trimmed).toFixed(2), currency } };
}

export function formatMoney(money: Money | null | undefined): string {
  if (!money) return '';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: money.currency }).format(
      Number(money.amount),
    );
  } catch {
    return `${money.amount} ${money.currency}`;
  }
}
