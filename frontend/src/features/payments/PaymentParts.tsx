import { useEffect, useState } from 'react';
import { Badge } from '../../components';
import { formatDate } from '../../lib/format';
import { formatMoney } from '../../lib/money';
import { holdCountdown, PAYMENT_STATUS, wasPaid } from './format';
import type { Payment, PaymentStatus } from './types';

/** A clock that ticks every `everyMs` (for countdowns). */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function PaymentStatusBadge({ status }: { status: PaymentStatus }) {
  const { label, tone } = PAYMENT_STATUS[status];
  return <Badge tone={tone}>{label}</Badge>;
}

/** The bill's lines and its total (a single line when the bill has no separate items). */
export function PaymentItems({ payment, caption }: { payment: Payment; caption?: string }) {
  const items =
    payment.items.length > 0
      ? payment.items
      : [{ description: payment.description || 'Amount due', amount: payment.amount }];
  return (
    <table className="pay-items">
      <caption className="sr-only">{caption ?? 'What this bill covers'}</caption>
      <thead>
        <tr>
          <th scope="col">Item</th>
          <th scope="col">Amount</th>
        </tr>
      </thead>
      <tbody>
        {items.map((item, index) => (
          <tr key={index}>
            <td>{item.description}</td>
            <td>{formatMoney(item.amount)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Total</th>
          <td>{formatMoney(payment.amount)}</td>
        </tr>
      </tfoot>
    </table>
  );
}

/** "Refunded $10.00 on 12 Mar 2026: Cancelled by the clinic" per refund. */
export function RefundList({ payment }: { payment: Payment }) {
  if (payment.refunds.length === 0 || !wasPaid(payment.status)) return null;
  return (
    <ul className="pay-refunds" aria-label="Refunds">
      {payment.refunds.map((refund) => (
        <li key={refund.id}>
          Refunded {formatMoney(refund.amount)} on {formatDate(refund.created_at)}
          {refund.reason ? `: ${refund.reason}` : ''}
        </li>
      ))}
    </ul>
  );
}

/** "Held for you until 10:32 — 12 min left" (nothing without a hold). */
export function HoldText({
  dueBy,
  now,
  zone,
  who,
}: {
  dueBy: string | null;
  now: number;
  zone: string;
  who?: string;
}) {
  const hold = holdCountdown(dueBy, now, zone, who);
  if (!hold) return null;
  return (
    <p className={hold.lapsed ? 'pay-hold pay-hold--lapsed' : 'pay-hold'}>
      <time dateTime={dueBy ?? undefined}>{hold.text}</time>
    </p>
  );
}
