/**
 * The payments API's shapes, written by hand from the contract in docs (the server side is being
 * built in parallel, so ../../api/schema.d.ts does not carry them yet). Once `npm run gen:api`
 * includes the payments serializers, replace these with aliases in ../../api/types.ts.
 */
import type { Money } from '../../api/types';

export type { Money };

export type PaymentStatus =
  | 'pending'
  | 'requires_action'
  | 'failed'
  | 'paid'
  | 'partially_refunded'
  | 'refunded'
  | 'expired'
  | 'cancelled';

export type PaymentKind = 'booking' | 'bill';

export type Gateway = 'dev' | 'stripe';

export interface PaymentItem {
  description: string;
  amount: Money;
}

export interface PaymentRefund {
  id: string;
  amount: Money;
  reason: string;
  created_at: string;
}

/** PaymentOutput: GET /api/payments/{id}/ and every payment action. */
export interface Payment {
  id: string;
  patient: string;
  patient_name: string;
  center: { id: string; name: string };
  appointment: string | null;
  conversation: string | null;
  kind: PaymentKind;
  description: string;
  items: PaymentItem[];
  amount: Money;
  amount_refunded: Money;
  status: PaymentStatus;
  /** The slot is held until then (booking payments). */
  due_by: string | null;
  paid_at: string | null;
  last_error: string;
  refunds: PaymentRefund[];
  can_pay: boolean;
  /** The viewer is center staff and something is left to refund. */
  can_refund: boolean;
  receipt_url: string | null;
  created_at: string;
}

/** GET /api/payments/[?patient=] */
export interface PaymentList {
  outstanding: Money[];
  payments: Payment[];
}

/** POST /api/payments/{id}/checkout/ */
export interface Checkout {
  payment: Payment;
  gateway: Gateway;
  client_secret: string;
  publishable_key: string;
}

/** POST /api/payments/{id}/dev/confirm/ */
export interface DevCardInput {
  card_number: string;
  expiry: string;
  cvc: string;
  name: string;
}

/** POST /api/payments/{id}/refund/ (staff) */
export interface RefundInput {
  amount?: Money;
  reason: string;
}

export interface BillLineInput {
  description: string;
  /** "12.50" */
  amount: string;
}

/** POST /api/payments/bills/ (staff), and the payload of the `booking.request_payment` action. */
export interface BillCreate {
  patient: string;
  currency?: string;
  items: BillLineInput[];
}
