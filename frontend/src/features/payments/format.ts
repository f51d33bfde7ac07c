/**
 * The pure side of payments: money arithmetic, status labels, the hold countdown, the dev card
 * form's normalisation and checks, and the staff bill form. No React here (see payments.test.ts).
 */
import type { CardState } from '../../api/types';
import type { BadgeTone } from '../../components/Badge';
import { formatMoney, parseMoneyInput } from '../../lib/money';
import { safeNext } from '../../lib/navigation';
import { formatClock } from '../../lib/zones';
import type { BillLineInput, DevCardInput, Money, Payment, PaymentStatus } from './types';

// ------------------------------------------------------------------ money

/** "35.00" → 3500; null for anything that is not a plain non-negative decimal. */
export function toCents(amount: string): number | null {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(amount.trim());
  if (!match) return null;
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(2, '0'));
  return whole * 100 + fraction;
}

/** 3500 → "35.00" */
export function fromCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The sum of amounts in one currency (amounts that do not parse count as zero). */
export function sumMoney(amounts: readonly string[], currency: string): Money {
  const cents = amounts.reduce((total, amount) => total + (toCents(amount) ?? 0), 0);
  return { amount: fromCents(cents), currency };
}

/** What is left to refund: amount − amount_refunded, never below zero. */
export function refundableRest(payment: Pick<Payment, 'amount' | 'amount_refunded'>): Money {
  const paid = toCents(payment.amount.amount) ?? 0;
  const refunded =
    payment.amount_refunded.currency === payment.amount.currency
      ? (toCents(payment.amount_refunded.amount) ?? 0)
      : 0;
  return { amount: fromCents(Math.max(0, paid - refunded)), currency: payment.amount.currency };
}

export function isZero(money: Money): boolean {
  return (toCents(money.amount) ?? 0) === 0;
}

/** The outstanding balances worth showing (one per currency, zeros dropped). */
export function outstandingBalances(outstanding: readonly Money[]): Money[] {
  return outstanding.filter((money) => !isZero(money));
}

/** "$35.00 and €12.00", or "" when nothing is owed. */
export function formatBalances(outstanding: readonly Money[]): string {
  const list = outstandingBalances(outstanding).map(formatMoney);
  if (list.length <= 1) return list.join('');
  return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

// ------------------------------------------------------------------ statuses

export const PAYMENT_STATUS: Record<PaymentStatus, { label: string; tone: BadgeTone }> = {
  pending: { label: 'Due', tone: 'warning' },
  requires_action: { label: 'Needs confirmation', tone: 'warning' },
  failed: { label: 'Payment failed', tone: 'danger' },
  paid: { label: 'Paid', tone: 'success' },
  partially_refunded: { label: 'Partially refunded', tone: 'info' },
  refunded: { label: 'Refunded', tone: 'neutral' },
  expired: { label: 'Expired', tone: 'neutral' },
  cancelled: { label: 'Cancelled', tone: 'neutral' },
};

const STATUSES = Object.keys(PAYMENT_STATUS) as PaymentStatus[];

export function asPaymentStatus(value: unknown): PaymentStatus | null {
  return typeof value === 'string' && (STATUSES as string[]).includes(value)
    ? (value as PaymentStatus)
    : null;
}

/** Still waiting for money (the checkout can run). */
export function isOpenStatus(status: PaymentStatus): boolean {
  return status === 'pending' || status === 'requires_action' || status === 'failed';
}

/** Money was taken (it may since have been refunded, in part or in full). */
export function wasPaid(status: PaymentStatus): boolean {
  return status === 'paid' || status === 'partially_refunded' || status === 'refunded';
}

export type PaymentCardLabel =
  'Due' | 'Paid' | 'Payment failed' | 'Refunded' | 'Partially refunded' | 'Expired' | 'Cancelled';

/**
 * The `booking.request_payment` card's badge, from the MESSAGE `state` and `payload.status`:
 * a refund keeps the state "completed", so the payload's status wins for those.
 */
export function paymentCardStatus(
  state: CardState | undefined,
  status: PaymentStatus | null,
  holdLapsed = false,
): { label: PaymentCardLabel; tone: BadgeTone } {
  // The hold ran out unpaid: the server expires the bill (its update may come later).
  if (holdLapsed && isCardPayable(state, status)) return { label: 'Expired', tone: 'neutral' };
  if (status === 'refunded') return { label: 'Refunded', tone: 'neutral' };
  if (status === 'partially_refunded') return { label: 'Partially refunded', tone: 'info' };
  switch (state) {
    case 'completed':
      return { label: 'Paid', tone: 'success' };
    case 'failed':
      return { label: 'Payment failed', tone: 'danger' };
    case 'expired':
      return { label: 'Expired', tone: 'neutral' };
    case 'cancelled':
      return { label: 'Cancelled', tone: 'neutral' };
    case 'open':
      return { label: 'Due', tone: 'warning' };
    default:
      break;
  }
  // No state (an old message): fall back on the payload.
  if (status === 'paid') return { label: 'Paid', tone: 'success' };
  if (status === 'failed') return { label: 'Payment failed', tone: 'danger' };
  if (status === 'expired') return { label: 'Expired', tone: 'neutral' };
  if (status === 'cancelled') return { label: 'Cancelled', tone: 'neutral' };
  return { label: 'Due', tone: 'warning' };
}

/** The patient side may pay from the card: it is open, or a declined attempt can be retried. */
export function isCardPayable(state: CardState | undefined, status: PaymentStatus | null): boolean {
  if (status && !isOpenStatus(status)) return false;
  return state === 'open' || state === 'failed';
}

/**
 * Whether this viewer pays the bill here: the server's `can_pay` says it is open; center staff
 * see their patients' bills but do not pay them (only their own, or one of a patient they act
 * for).
 */
export function viewerMayPay(
  payment: Pick<Payment, 'can_pay' | 'patient'>,
  viewer: { id: string; staff: boolean; actingFor?: string | null },
): boolean {
  if (!payment.can_pay) return false;
  return !viewer.staff || payment.patient === viewer.id || payment.patient === viewer.actingFor;
}

// ------------------------------------------------------------------ the hold countdown

/** "12 min left", "1 h 5 min left", "less than a minute left". */
export function timeLeftText(ms: number): string {
  if (ms < 60_000) return 'less than a minute left';
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `${minutes} min left`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min left` : `${hours} h left`;
}

export interface HoldCountdown {
  /** "Held for you until 10:32 — 12 min left", or "The hold ended at 10:32". */
  text: string;
  lapsed: boolean;
  msLeft: number;
}

/** The hold on a slot while it is paid for; null when there is no (readable) `due_by`. */
export function holdCountdown(
  dueBy: string | null | undefined,
  now: number,
  zone: string,
  who = 'you',
): HoldCountdown | null {
  if (!dueBy) return null;
  const due = Date.parse(dueBy);
  if (!Number.isFinite(due)) return null;
  const clock = formatClock(dueBy, zone);
  const msLeft = due - now;
  if (msLeft <= 0) {
    return { text: `The hold ended at ${clock}`, lapsed: true, msLeft: 0 };
  }
  return {
    text: `Held for ${who} until ${clock} — ${timeLeftText(msLeft)}`,
    lapsed: false,
    msLeft,
  };
}

// ------------------------------------------------------------------ links

/** The checkout page of a payment, coming back to `back` (a same-site path) when done. */
export function payPath(paymentId: string, back?: string | null): string {
  const path = `/pay/${encodeURIComponent(paymentId)}`;
  if (!back) return path;
  // Keep slashes readable (`?back=/messages/<id>`); encode everything else.
  return `${path}?back=${back.split('/').map(encodeURIComponent).join('/')}`;
}

/** Where "Back" goes from the checkout: `?back=` when it is a same-site path, else /payments. */
export function safeBack(back: string | null | undefined): string {
  return safeNext(back, '/payments');
}

// ------------------------------------------------------------------ the dev card form

/** The dev gateway's test cards (no Stripe keys: the embedded default). */
export const TEST_CARDS: readonly { number: string; outcome: string }[] = [
  { number: '4242 4242 4242 4242', outcome: 'succeeds' },
  { number: '4000 0000 0000 0002', outcome: 'is declined' },
  { number: '4000 0025 0000 3155', outcome: 'asks for an extra confirmation step' },
];

export const MAX_CARD_DIGITS = 19;

/** Only the digits of what was typed or pasted. */
export function cardDigits(value: string): string {
  return value.replace(/\D/g, '');
}

/** "4242424242424242" or "4242-4242 42…" → "4242 4242 4242 4242" (at most 19 digits). */
export function formatCardNumber(value: string): string {
  const digits = cardDigits(value).slice(0, MAX_CARD_DIGITS);
  return digits.replace(/(\d{4})(?=\d)/g, '$1 ');
}

/** Typed expiry → "MM/YY": "1228" → "12/28", "4" → "04", "1/28" → "01/28", "12/2028" → "12/28". */
export function formatExpiry(value: string): string {
  const trimmed = value.trim();
  const slash = /^(\d{1,2})\s*\/\s*(\d*)$/.exec(trimmed);
  let digits: string;
  if (slash) {
    const month = (slash[1] ?? '').padStart(2, '0');
    const year = slash[2] ?? '';
    digits = month + (year.length === 4 ? year.slice(2) : year);
  } else {
    digits = cardDigits(trimmed);
    if (digits.length === 1 && Number(digits) > 1) digits = `0${digits}`;
  }
  digits = digits.slice(0, 4);
  return digits.length > 2 ? `${digits.slice(0, 2)}/${digits.slice(2)}` : digits;
}

export function formatCvc(value: string): string {
  return cardDigits(value).slice(0, 4);
}

/** The Luhn checksum every real (and test) card number passes. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export type CardField = keyof DevCardInput;
export type CardProblems = Partial<Record<CardField, string>>;

/** What is wrong with the card form (empty when it can be sent); the server checks again. */
export function cardProblems(input: DevCardInput, now: Date = new Date()): CardProblems {
  const problems: CardProblems = {};
  const digits = cardDigits(input.card_number);
  if (!digits) problems.card_number = 'Enter the card number.';
  else if (digits.length < 12 || digits.length > MAX_CARD_DIGITS || !luhnValid(digits)) {
    problems.card_number = 'Check the card number.';
  }
  const expiry = /^(\d{2})\/(\d{2})$/.exec(input.expiry.trim());
  if (!input.expiry.trim()) problems.expiry = 'Enter the expiry date.';
  else if (!expiry || Number(expiry[1]) < 1 || Number(expiry[1]) > 12) {
    problems.expiry = 'Enter the expiry date as MM/YY.';
  } else {
    const month = Number(expiry[1]);
    const year = 2000 + Number(expiry[2]);
    const current = now.getFullYear() * 12 + now.getMonth();
    if (year * 12 + (month - 1) < current) problems.expiry = 'This card has expired.';
  }
  if (!/^\d{3,4}$/.test(input.cvc.trim())) problems.cvc = 'Enter the 3 or 4 digits on the back.';
  if (!input.name.trim()) problems.name = 'Enter the name on the card.';
  return problems;
}

/** The body of dev/confirm: the number without spaces, everything trimmed. */
export function cardPayload(input: DevCardInput): DevCardInput {
  return {
    card_number: cardDigits(input.card_number),
    expiry: input.expiry.trim(),
    cvc: input.cvc.trim(),
    name: input.name.trim(),
  };
}

// ------------------------------------------------------------------ the staff bill form

export const BILL_CURRENCIES = ['USD', 'EUR', 'GBP'] as const;
export const MAX_BILL_LINES = 20;
export const MAX_LINE_DESCRIPTION = 120; // the server's limit on a bill line

export interface BillLineDraft {
  description: string;
  amount: string;
}

export type BillLineProblems = { description?: string; amount?: string };

export function emptyBillLine(): BillLineDraft {
  return { description: '', amount: '' };
}

/** One entry per line (empty objects for good lines). */
export function billLineProblems(lines: readonly BillLineDraft[]): BillLineProblems[] {
  return lines.map((line) => {
    const problems: BillLineProblems = {};
    const description = line.description.trim();
    if (!description) problems.description = 'Describe what this line is for.';
    else if (description.length > MAX_LINE_DESCRIPTION) {
      problems.description = `At most ${MAX_LINE_DESCRIPTION} characters.`;
    }
    const parsed = parseMoneyInput(line.amount, 'USD');
    if (!parsed.ok) problems.amount = parsed.error;
    else if (!parsed.value) problems.amount = 'Enter the amount.';
    else if (isZero(parsed.value)) problems.amount = 'The amount must be more than zero.';
    return problems;
  });
}

export function hasBillProblems(problems: readonly BillLineProblems[]): boolean {
  return problems.some((p) => p.description || p.amount);
}

/** The lines as the API takes them: trimmed, amounts with two decimals. */
export function billItems(lines: readonly BillLineDraft[]): BillLineInput[] {
  return lines.map((line) => {
    const parsed = parseMoneyInput(line.amount, 'USD');
    return {
      description: line.description.trim(),
      amount: parsed.ok && parsed.value ? parsed.value.amount : line.amount.trim(),
    };
  });
}

/** The total of the lines typed so far (lines that do not parse count as zero). */
export function billTotal(lines: readonly BillLineDraft[], currency: string): Money {
  return sumMoney(
    lines.map((line) => {
      const parsed = parseMoneyInput(line.amount, currency);
      return parsed.ok && parsed.value ? parsed.value.amount : '0';
    }),
    currency,
  );
}
