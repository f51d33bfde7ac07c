import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import {
  Alert,
  Button,
  ButtonLink,
  Card,
  ErrorAlert,
  ErrorState,
  LoadingState,
  Page,
  TextInput,
  fieldError,
} from '../../components';
import { formatDateTime } from '../../lib/format';
import { formatMoney } from '../../lib/money';
import { isStaff } from '../../lib/roles';
import { viewerTimeZone } from '../../lib/zones';
import { useActingFor } from '../acting-for/ActingForContext';
import { useCurrentUser } from '../auth/session';
import { useCheckout, useDevAuthenticate, useDevConfirm, usePayment, useSyncPayment } from './api';
import {
  cardPayload,
  cardProblems,
  formatCardNumber,
  formatCvc,
  formatExpiry,
  holdCountdown,
  isOpenStatus,
  safeBack,
  TEST_CARDS,
  viewerMayPay,
  wasPaid,
  type CardField,
} from './format';
import { HoldText, PaymentItems, PaymentStatusBadge, RefundList, useNow } from './PaymentParts';
import { StripePayment } from './StripePayment';
import type { DevCardInput, Payment } from './types';
import './payments.css';

/** /pay/:paymentId[?back=/messages/<id>] — pay one bill (or see that it was paid). */
export function CheckoutPage() {
  const { paymentId = '' } = useParams();
  return <CheckoutLoader key={paymentId} paymentId={paymentId} />;
}

export function backLabel(back: string): string {
  if (back.startsWith('/messages/')) return 'Back to the conversation';
  if (back.startsWith('/appointments')) return 'Back to appointments';
  if (back.startsWith('/payments')) return 'Back to bills & payments';
  return 'Continue';
}

function CheckoutLoader({ paymentId }: { paymentId: string }) {
  const [params] = useSearchParams();
  const back = safeBack(params.get('back'));
  // Back from a bank page that Stripe redirected to: read the outcome before anything else.
  const returned = params.has('payment_intent');
  const payment = usePayment(paymentId);

  if (payment.data) {
    return (
      <CheckoutScreen
        payment={payment.data}
        back={back}
        returned={returned}
        onLapse={payment.refetch}
      />
    );
  }
  const gone = isApiError(payment.error) && payment.error.status === 404;
  return (
    <Page title="Checkout" heading={gone ? 'Bill not found' : 'Checkout'}>
      {payment.isPending ? (
        <LoadingState label="Loading the bill…" />
      ) : (
        <>
          {gone ? (
            <p>This bill does not exist, or you are not allowed to see it.</p>
          ) : (
            <ErrorState error={payment.error} onRetry={() => void payment.refetch()} />
          )}
          <div>
            <ButtonLink to={back} variant="secondary">
              {backLabel(back)}
            </ButtonLink>
          </div>
        </>
      )}
    </Page>
  );
}

function CheckoutScreen({
  payment,
  back,
  returned,
  onLapse,
}: {
  payment: Payment;
  back: string;
  returned: boolean;
  onLapse: () => unknown;
}) {
  const me = useCurrentUser();
  const { current } = useActingFor();
  const mayPay = viewerMayPay(payment, {
    id: me.id,
    staff: isStaff(me),
    actingFor: current?.patient.id ?? null,
  });
  // Paid while on this page (not opened already paid): move focus to the good news.
  const [openedOpen] = useState(() => isOpenStatus(payment.status));
  const open = isOpenStatus(payment.status);
  const forSomeoneElse = payment.patient !== me.id;

  return (
    <Page
      title="Checkout"
      heading="Checkout"
      description={
        forSomeoneElse
          ? `A bill of ${payment.patient_name}.`
          : open
            ? 'Pay securely by card. Your card details are never stored by CareConnect.'
            : undefined
      }
    >
      <Card
        title={payment.description || 'Your bill'}
        description={payment.center.name}
        actions={<PaymentStatusBadge status={payment.status} />}
      >
        <div className="stack-sm">
          <PaymentItems payment={payment} />
          {open && (
            <LiveHold
              dueBy={payment.due_by}
              who={forSomeoneElse ? payment.patient_name : 'you'}
              onLapse={onLapse}
            />
          )}
        </div>
      </Card>

      {wasPaid(payment.status) && <PaidCard payment={payment} back={back} focus={openedOpen} />}
      {payment.status === 'expired' && <ExpiredCard payment={payment} back={back} />}
      {payment.status === 'cancelled' && (
        <Alert tone="info" title="This bill was cancelled">
          <p>There is nothing to pay.</p>
          <Link to={back}>{backLabel(back)}</Link>
        </Alert>
      )}
      {open &&
        (mayPay ? (
          <>
            <PayStep payment={payment} returned={returned} />
            <p>
              <Link to={back}>{backLabel(back)}</Link>
            </p>
          </>
        ) : (
          <Alert tone="info" title="You can't pay this bill here">
            <p>
              Only {payment.patient_name}, or a family member they allowed to pay bills, can pay it.
            </p>
            <Link to={back}>{backLabel(back)}</Link>
          </Alert>
        ))}
    </Page>
  );
}

const LAPSE_POLL_MS = 5000;

/** The countdown of the slot's hold, ticking; asks the server again once it has run out. */
function LiveHold({
  dueBy,
  who,
  onLapse,
}: {
  dueBy: string | null;
  who: string;
  onLapse: () => unknown;
}) {
  const now = useNow(1000);
  const zone = viewerTimeZone();
  const lapsed = holdCountdown(dueBy, now, zone)?.lapsed ?? false;
  useEffect(() => {
    if (!lapsed) return;
    // The server expires the bill just after the hold ends: ask until it has (this component
    // is only shown while the bill is open).
    void onLapse();
    const timer = setInterval(() => void onLapse(), LAPSE_POLL_MS);
    return () => clearInterval(timer);
  }, [lapsed, onLapse]);
  return <HoldText dueBy={dueBy} now={now} zone={zone} who={who} />;
}

// ------------------------------------------------------------------ outcomes

function PaidCard({ payment, back, focus }: { payment: Payment; back: string; focus: boolean }) {
  const headingId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focus) headingRef.current?.focus();
  }, [focus]);
  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} ref={headingRef} tabIndex={-1}>
          Payment received
        </h2>
      </div>
      <div className="stack-sm">
        <p>
          {formatMoney(payment.amount)} paid
          {payment.paid_at ? ` on ${formatDateTime(payment.paid_at)}` : ''}.
          {payment.appointment && payment.status === 'paid'
            ? ' The appointment it was held for is confirmed.'
            : ''}
        </p>
        {payment.status !== 'paid' && (
          <p>{formatMoney(payment.amount_refunded)} of it has been refunded.</p>
        )}
        <RefundList payment={payment} />
        <div className="pay-actions">
          {payment.receipt_url && (
            <a href={payment.receipt_url} download>
              Download receipt
            </a>
          )}
          <ButtonLink to={back} variant="secondary">
            {backLabel(back)}
          </ButtonLink>
        </div>
      </div>
    </section>
  );
}

function ExpiredCard({ payment, back }: { payment: Payment; back: string }) {
  const held = !!payment.appointment || payment.kind === 'booking';
  return (
    <Card title={held ? 'Hold lapsed' : 'Bill expired'}>
      <div className="stack-sm">
        {held ? (
          <>
            <p>This hold lapsed; the time was released.</p>
            <p className="muted">Nothing was charged. You can choose a new time.</p>
          </>
        ) : (
          <p>This bill has expired and can no longer be paid. Nothing was charged.</p>
        )}
        <div className="pay-actions">
          {held && <ButtonLink to="/doctors">Book again</ButtonLink>}
          <Link to={back}>{backLabel(back)}</Link>
        </div>
      </div>
    </Card>
  );
}

// ------------------------------------------------------------------ paying

function declineMessage(payment: Payment): string | null {
  if (payment.status !== 'failed') return null;
  return payment.last_error || 'The payment did not go through.';
}

/** Starts the checkout once, then the gateway's form (or the extra confirmation step). */
function PayStep({ payment, returned }: { payment: Payment; returned: boolean }) {
  const checkout = useCheckout(payment.id);
  const sync = useSyncPayment(payment.id);
  const { mutate: startCheckout } = checkout;
  const { mutate: syncNow } = sync;
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return; // once per visit (StrictMode runs effects twice)
    started.current = true;
    if (returned) {
      syncNow(undefined, {
        onSuccess: (latest) => {
          if (isOpenStatus(latest.status)) startCheckout();
        },
        onError: () => startCheckout(),
      });
    } else {
      startCheckout();
    }
  }, [returned, startCheckout, syncNow]);

  if (checkout.isError) {
    return (
      <ErrorAlert error={checkout.error} title="We could not start the payment">
        <Button variant="secondary" size="small" onClick={() => startCheckout()}>
          Try again
        </Button>
      </ErrorAlert>
    );
  }
  if (!checkout.data) return <LoadingState label="Preparing a secure payment…" />;

  if (checkout.data.gateway === 'stripe') {
    return (
      <Card title="Pay by card">
        <p>
          Total: <strong>{formatMoney(payment.amount)}</strong>
        </p>
        {sync.error && <ErrorAlert error={sync.error} title="We could not check the payment" />}
        <StripePayment
          publishableKey={checkout.data.publishable_key}
          clientSecret={checkout.data.client_secret}
          returnUrl={window.location.href}
          busy={sync.isPending}
          declined={declineMessage(payment)}
          onConfirmed={() => syncNow()}
        />
      </Card>
    );
  }

  if (payment.status === 'requires_action') return <DevAuthentication payment={payment} />;
  return <DevCardForm payment={payment} />;
}

const EMPTY_CARD: DevCardInput = { card_number: '', expiry: '', cvc: '', name: '' };
const CARD_FIELDS: CardField[] = ['card_number', 'expiry', 'cvc', 'name'];

/** The dev gateway's card form (test cards only: nothing is charged). */
function DevCardForm({ payment }: { payment: Payment }) {
  const confirm = useDevConfirm(payment.id);
  const [card, setCard] = useState<DevCardInput>(EMPTY_CARD);
  const [checked, setChecked] = useState(false);
  const problems = checked ? cardProblems(card) : {};
  const declined = confirm.isPending ? null : declineMessage(payment);
  const errorFor = (field: CardField) => problems[field] ?? fieldError(confirm.error, field);
  const formId = useId();

  const update = (field: CardField, value: string) => setCard((c) => ({ ...c, [field]: value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    const wrong = cardProblems(card);
    const first = CARD_FIELDS.find((field) => wrong[field]);
    if (first) {
      document.getElementById(`${formId}-${first}`)?.focus();
      return;
    }
    confirm.mutate(cardPayload(card));
  };

  return (
    <Card title="Pay by card">
      <form className="pay-form stack-sm" onSubmit={submit} noValidate aria-label="Card details">
        <Alert tone="info" title="Test mode: no real card is charged">
          <p>Use one of these test cards with any future expiry date and any 3-digit CVC:</p>
          <ul className="pay-test-cards">
            {TEST_CARDS.map((test) => (
              <li key={test.number}>
                <span className="mono">{test.number}</span> {test.outcome}
              </li>
            ))}
          </ul>
        </Alert>
        {declined && (
          <div style={{ marginTop: 'var(--space-4)' }}>
            <Alert tone="error" title="Payment failed">
              <p>{declined}</p>
              <p>Check the card details or use another card, then try again.</p>
            </Alert>
          </div>
        )}
        {confirm.error && (
          <div style={{ marginTop: 'var(--space-4)' }}>
            <ErrorAlert
              error={confirm.error}
              title={
                isApiError(confirm.error) &&
                confirm.error.status >= 400 &&
                confirm.error.status < 500
                  ? 'Payment failed'
                  : 'The payment was not sent'
              }
              inlineFields={CARD_FIELDS}
            />
          </div>
        )}
        <TextInput
          id={`${formId}-card_number`}
          label="Card number"
          inputMode="numeric"
          autoComplete="cc-number"
          placeholder="1234 1234 1234 1234"
          value={card.card_number}
          onChange={(event) => update('card_number', formatCardNumber(event.target.value))}
          error={errorFor('card_number')}
        />
        <div className="form-grid form-grid--2">
          <TextInput
            id={`${formId}-expiry`}
            label="Expiry"
            hint="MM/YY"
            inputMode="numeric"
            autoComplete="cc-exp"
            placeholder="MM/YY"
            value={card.expiry}
            onChange={(event) => update('expiry', formatExpiry(event.target.value))}
            error={errorFor('expiry')}
          />
          <TextInput
            id={`${formId}-cvc`}
            label="CVC"
            hint="3 or 4 digits"
            inputMode="numeric"
            autoComplete="cc-csc"
            value={card.cvc}
            onChange={(event) => update('cvc', formatCvc(event.target.value))}
            error={errorFor('cvc')}
          />
        </div>
        <TextInput
          id={`${formId}-name`}
          label="Name on card"
          autoComplete="cc-name"
          value={card.name}
          onChange={(event) => update('name', event.target.value)}
          error={errorFor('name')}
        />
        <p>
          Total: <strong>{formatMoney(payment.amount)}</strong>
        </p>
        <Button type="submit" loading={confirm.isPending}>
          Pay now
        </Button>
      </form>
    </Card>
  );
}

/** The dev gateway's stand-in for a bank's 3-D Secure check. */
function DevAuthentication({ payment }: { payment: Payment }) {
  const authenticate = useDevAuthenticate(payment.id);
  const busy = authenticate.isPending;
  return (
    <Card title="Confirm this payment">
      <div className="stack-sm">
        <p>
          Your card's bank asks you to confirm the payment of{' '}
          <strong>{formatMoney(payment.amount)}</strong> to {payment.center.name}.
        </p>
        <p className="muted small">
          Test mode: this step stands in for your bank's own check, such as a code sent to your
          phone.
        </p>
        {authenticate.error && (
          <ErrorAlert error={authenticate.error} title="The answer was not sent" />
        )}
        <div className="btn-row">
          <Button
            loading={busy && authenticate.variables === true}
            disabled={busy}
            onClick={() => authenticate.mutate(true)}
          >
            Approve
          </Button>
          <Button
            variant="danger-outline"
            loading={busy && authenticate.variables === false}
            disabled={busy}
            onClick={() => authenticate.mutate(false)}
          >
            Fail authentication
          </Button>
        </div>
      </div>
    </Card>
  );
}
