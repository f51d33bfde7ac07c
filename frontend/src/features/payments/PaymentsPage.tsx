import { useId, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import {
  Alert,
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorState,
  LoadingState,
  Page,
} from '../../components';
import { formatDate, formatDateTime, fullName } from '../../lib/format';
import { formatMoney } from '../../lib/money';
import { isStaff } from '../../lib/roles';
import { viewerTimeZone } from '../../lib/zones';
import { useActingFor } from '../acting-for/ActingForContext';
import { isScopeMissing, useAccessEnded } from '../acting-for/useAccessEnded';
import { useCurrentUser } from '../auth/session';
import { usePayments } from './api';
import { isOpenStatus, outstandingBalances, payPath, refundableRest, viewerMayPay } from './format';
import { HoldText, PaymentItems, PaymentStatusBadge, RefundList, useNow } from './PaymentParts';
import { RefundDialog } from './RefundDialog';
import type { Money, Payment } from './types';
import './payments.css';

/** /payments — bills with their status, paying, receipts; staff also refund. */
export function PaymentsPage() {
  const me = useCurrentUser();
  const { current } = useActingFor();
  const patientId = current?.patient.id ?? null;
  const name = current ? fullName(current.patient) : null;
  const staff = isStaff(me);
  const title = name ? `${name}'s bills & payments` : 'Bills & payments';
  return (
    <Page
      title={title}
      heading={title}
      description={
        staff && !name
          ? "Bills of your center's patients. Refunds go back to the card that paid."
          : 'Bills from your care team. Pay online and download receipts.'
      }
    >
      <PaymentsContent key={patientId ?? 'me'} patientId={patientId} staff={staff && !name} />
    </Page>
  );
}

type Notice = { title: string; text: string } | null;

function PaymentsContent({ patientId, staff }: { patientId: string | null; staff: boolean }) {
  const { current } = useActingFor();
  const payments = usePayments(patientId);
  const ended = useAccessEnded(current, payments.error);
  const [refunding, setRefunding] = useState<Payment | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const now = useNow(30_000);
  const zone = viewerTimeZone();

  if (ended) return <LoadingState />;
  if (payments.isPending) return <LoadingState label="Loading bills…" />;
  if (payments.isError) {
    if (isScopeMissing(payments.error) && current) {
      return (
        <Alert tone="info" title="You can't see these bills">
          <p>Ask {fullName(current.patient)} to add "Pay bills" to the access they gave you.</p>
        </Alert>
      );
    }
    return <ErrorState error={payments.error} onRetry={() => void payments.refetch()} />;
  }

  const { outstanding, payments: list } = payments.data;
  const showPatient = staff || !!patientId;

  return (
    <>
      {notice && (
        <Alert tone="success" title={notice.title}>
          <p>{notice.text}</p>
        </Alert>
      )}
      <Outstanding outstanding={outstanding} staff={staff} />
      <Card title="Bills">
        {list.length === 0 ? (
          <EmptyState title="No bills yet">
            {staff
              ? 'Bills sent to patients (from a conversation, or for a booking) show here.'
              : 'When your care team sends a bill, or a booking needs paying, it shows here.'}
          </EmptyState>
        ) : (
          <ul className="item-list">
            {list.map((payment) => (
              <BillItem
                key={payment.id}
                payment={payment}
                showPatient={showPatient}
                now={now}
                zone={zone}
                onRefund={() => {
                  setNotice(null);
                  setRefunding(payment);
                }}
              />
            ))}
          </ul>
        )}
      </Card>
      {refunding && (
        <RefundDialog
          key={refunding.id}
          payment={refunding}
          onClose={() => setRefunding(null)}
          onDone={(refunded) => {
            setRefunding(null);
            setNotice({
              title: 'Refund issued',
              text: `${formatMoney(refunded.amount_refunded)} of ${formatMoney(
                refunded.amount,
              )} has now been refunded to ${refunded.patient_name}.`,
            });
          }}
        />
      )}
    </>
  );
}

function Outstanding({ outstanding, staff }: { outstanding: Money[]; staff: boolean }) {
  const balances = outstandingBalances(outstanding);
  return (
    <Card title={staff ? 'Unpaid' : 'Outstanding balance'}>
      {balances.length === 0 ? (
        <p>Nothing to pay right now.</p>
      ) : (
        <ul className="pay-balances">
          {balances.map((money) => (
            <li key={money.currency}>
              <strong>{formatMoney(money)}</strong>
              <span className="muted small">due in {money.currency}</span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function BillItem({
  payment,
  showPatient,
  now,
  zone,
  onRefund,
}: {
  payment: Payment;
  showPatient: boolean;
  now: number;
  zone: string;
  onRefund: () => void;
}) {
  const navigate = useNavigate();
  const me = useCurrentUser();
  const { current } = useActingFor();
  const mayPay = viewerMayPay(payment, {
    id: me.id,
    staff: isStaff(me),
    actingFor: current?.patient.id ?? null,
  });
  const headingId = useId();
  const open = isOpenStatus(payment.status);
  const title =
    payment.description || (payment.kind === 'booking' ? 'Appointment booking' : 'Bill');
  const meta = [
    payment.center.name,
    showPatient ? `for ${payment.patient_name}` : null,
    `billed ${formatDate(payment.created_at)}`,
  ].filter(Boolean);

  return (
    <li aria-labelledby={headingId}>
      <div className="item-list__main stack-sm">
        <div className="row" style={{ gap: 'var(--space-2)' }}>
          <h3
            id={headingId}
            className="item-list__title"
            style={{ fontSize: 'var(--font-size-base)', margin: 0 }}
          >
            {title}
          </h3>
          <PaymentStatusBadge status={payment.status} />
          {payment.kind === 'booking' && <Badge tone="info">Booking</Badge>}
        </div>
        <p className="item-list__meta">{meta.join(' · ')}</p>
        <PaymentItems payment={payment} caption={`What “${title}” covers`} />
        {payment.paid_at && (
          <p className="item-list__meta">Paid on {formatDateTime(payment.paid_at)}</p>
        )}
        {open && (
          <HoldText
            dueBy={payment.due_by}
            now={now}
            zone={zone}
            who={showPatient ? payment.patient_name : 'you'}
          />
        )}
        {payment.status === 'failed' && payment.last_error && (
          <p className="field__error">Last attempt: {payment.last_error}</p>
        )}
        <RefundList payment={payment} />
        {payment.can_refund && (
          <p className="item-list__meta">{formatMoney(refundableRest(payment))} can be refunded</p>
        )}
      </div>
      <div className="pay-actions">
        {mayPay && (
          <Button
            size="small"
            aria-describedby={headingId}
            onClick={() => navigate(payPath(payment.id, '/payments'))}
          >
            Pay
          </Button>
        )}
        {payment.receipt_url && (
          <a className="small" href={payment.receipt_url} download aria-describedby={headingId}>
            Download receipt
          </a>
        )}
        {payment.can_refund && (
          <Button variant="secondary" size="small" aria-describedby={headingId} onClick={onRefund}>
            Refund
          </Button>
        )}
      </div>
    </li>
  );
}
