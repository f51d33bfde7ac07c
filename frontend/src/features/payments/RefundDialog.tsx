import { useState, type FormEvent } from 'react';
import { Button, Dialog, ErrorAlert, TextArea, TextInput, fieldError } from '../../components';
import { formatMoney, parseMoneyInput } from '../../lib/money';
import { useRefund } from './api';
import { refundableRest, toCents } from './format';
import type { Payment } from './types';

const REASON_LIMIT = 200; // the server's limit

/** Staff: refund what is left of a payment (the default) or part of it, with a reason. */
export function RefundDialog({
  payment,
  onClose,
  onDone,
}: {
  payment: Payment;
  onClose: () => void;
  onDone: (refunded: Payment) => void;
}) {
  const refund = useRefund();
  const rest = refundableRest(payment);
  const [amount, setAmount] = useState(rest.amount);
  const [reason, setReason] = useState('');
  const [checked, setChecked] = useState(false);

  const parsed = parseMoneyInput(amount, rest.currency);
  const cents = parsed.ok && parsed.value ? toCents(parsed.value.amount) : null;
  const restCents = toCents(rest.amount) ?? 0;
  const amountProblem = !parsed.ok
    ? parsed.error
    : cents === null || cents <= 0
      ? 'Enter an amount above zero.'
      : cents > restCents
        ? `At most ${formatMoney(rest)} is left to refund.`
        : undefined;
  const reasonProblem = !reason.trim()
    ? 'Say why the money is refunded (the patient sees it).'
    : reason.trim().length > REASON_LIMIT
      ? `At most ${REASON_LIMIT} characters.`
      : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (amountProblem || reasonProblem || !parsed.ok || !parsed.value) return;
    const whole = cents === restCents;
    refund.mutate(
      {
        id: payment.id,
        reason: reason.trim(),
        // No amount: the server refunds all that is left (no rounding to disagree about).
        ...(whole ? {} : { amount: parsed.value }),
      },
      { onSuccess: onDone },
    );
  };

  return (
    <Dialog
      open
      title="Refund payment"
      description={`${payment.patient_name}: ${payment.description || 'bill'}. Paid ${formatMoney(
        payment.amount,
      )}${
        toCents(payment.amount_refunded.amount)
          ? `, ${formatMoney(payment.amount_refunded)} already refunded`
          : ''
      }. The money goes back to the card that paid.`}
      busy={refund.isPending}
      onClose={onClose}
    >
      <form onSubmit={submit} noValidate>
        {refund.error && (
          <ErrorAlert
            error={refund.error}
            title="Not refunded"
            inlineFields={['amount', 'reason']}
          />
        )}
        <TextInput
          label="Amount to refund"
          inputMode="decimal"
          suffix={rest.currency}
          hint={`Up to ${formatMoney(rest)}.`}
          value={amount}
          onChange={(event) => setAmount(event.target.value)}
          error={
            (checked ? amountProblem : undefined) ??
            fieldError(refund.error, 'amount.amount') ??
            fieldError(refund.error, 'amount')
          }
        />
        <TextArea
          label="Reason"
          rows={3}
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          error={(checked ? reasonProblem : undefined) ?? fieldError(refund.error, 'reason')}
        />
        <div className="btn-row row-end">
          <Button variant="secondary" onClick={onClose} disabled={refund.isPending}>
            Cancel
          </Button>
          <Button type="submit" variant="danger" loading={refund.isPending}>
            Confirm refund
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
