import { Link, useNavigate } from 'react-router-dom';
import type { Money } from '../../../api/types';
import { Badge, Button } from '../../../components';
import { formatMoney } from '../../../lib/money';
import {
  asPaymentStatus,
  holdCountdown,
  isCardPayable,
  paymentCardStatus,
  payPath,
} from '../../payments/format';
import { MessageText } from '../MessageItem';
import { PATIENT_SIDE } from '../receipts';
import type { CardProps } from './types';
import { CardFrame } from './CardFrame';

function text(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' && value ? value : null;
}

function moneyOf(value: unknown): Money | null {
  if (!value || typeof value !== 'object') return null;
  const { amount, currency } = value as Record<string, unknown>;
  return typeof amount === 'string' && typeof currency === 'string' ? { amount, currency } : null;
}

/**
 * `booking.request_payment`: a bill (or a booking's fee) to pay. The patient side gets a Pay
 * button (Retry payment after a decline) that opens the checkout and comes back here.
 */
export function PaymentCard({ message, context, by }: CardProps) {
  const navigate = useNavigate();
  const payload = message.payload ?? {};
  const paymentId = text(payload, 'payment');
  const amount = moneyOf(payload.amount);
  const status = asPaymentStatus(payload.status);
  const description = text(payload, 'description');
  const lastError = text(payload, 'last_error');
  const patientSide = PATIENT_SIDE.includes(context.role);
  const who = context.role === 'patient' ? 'you' : context.patientName;
  const payable = !!paymentId && isCardPayable(message.state, status);
  const hold = payable
    ? holdCountdown(text(payload, 'due_by'), context.now, context.zone, who)
    : null;
  const lapsed = !!hold?.lapsed;
  const badge = paymentCardStatus(message.state, status, lapsed);
  const failed = badge.label === 'Payment failed';

  return (
    <CardFrame
      title="Payment request"
      by={by}
      state={message.state}
      badge={<Badge tone={badge.tone}>{badge.label}</Badge>}
    >
      <dl className="chat-card__details">
        {amount && (
          <>
            <dt>Amount</dt>
            <dd>
              <strong>{formatMoney(amount)}</strong>
            </dd>
          </>
        )}
        {description && (
          <>
            <dt>For</dt>
            <dd>{description}</dd>
          </>
        )}
      </dl>
      {message.body && <MessageText text={message.body} />}
      {hold && (
        <p className={hold.lapsed ? 'muted small' : 'small'}>
          <strong>{hold.text}</strong>
        </p>
      )}
      {failed && (
        <p className="chat-msg__error small">{lastError ?? 'The payment did not go through.'}</p>
      )}
      {payable && patientSide && !lapsed && paymentId && (
        <div className="chat-card__actions">
          <Button
            size="small"
            onClick={() => navigate(payPath(paymentId, `/messages/${context.conversationId}`))}
          >
            {failed ? 'Retry payment' : 'Pay'}
          </Button>
        </div>
      )}
      {payable && !patientSide && !lapsed && (
        <p className="muted small">Waiting for {context.patientName} to pay.</p>
      )}
      {!payable && badge.label !== 'Expired' && badge.label !== 'Cancelled' && (
        <p className="small">
          <Link to="/payments">{patientSide ? 'Receipts and bills' : 'See bills'}</Link>
        </p>
      )}
      {badge.label === 'Expired' && (
        <p className="muted small">
          {text(payload, 'appointment')
            ? 'The hold lapsed and the time was released.'
            : 'This bill can no longer be paid.'}
        </p>
      )}
    </CardFrame>
  );
}
