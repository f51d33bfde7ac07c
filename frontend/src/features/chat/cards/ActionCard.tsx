import { useId, useState } from 'react';
import { Link } from 'react-router-dom';
import type {
  AppointmentStatus,
  CardState,
  ChatMessage,
  ConsultMode,
  SlotMode,
} from '../../../api/types';
import { Badge, Button, ConfirmDialog } from '../../../components';
import type { BadgeTone } from '../../../components/Badge';
import { formatClock, formatSlotTime, zoneLabel } from '../../../lib/zones';
import { MODE_LABEL, STATUS } from '../../booking/status';
import { useNow } from '../../consult/useNow';
import { useChatSocket } from '../context';
import { messageTime } from '../format';
import { MessageText } from '../MessageItem';
import { CARE_SIDE, PATIENT_SIDE } from '../receipts';
import { CardFrame } from './CardFrame';
import { ConsultInviteCard } from './ConsultInviteCard';
import { ConsultSummaryCard } from './ConsultSummaryCard';
import { PaymentCard } from './PaymentCard';
import { PharmacySendCard } from './PharmacySendCard';
import { PrescriptionCard } from './PrescriptionCard';
import { RefillRequestCard } from './RefillRequestCard';
import { SlotPickerDialog } from './SlotPickerDialog';
import type { CardContext, CardProps } from './types';

export type { CardContext, CardProps } from './types';

// ------------------------------------------------------------------ payload readers

interface OfferedSlot {
  id: string;
  start: string;
  end: string;
  mode: SlotMode;
}

type Payload = Record<string, unknown>;

function text(payload: Payload, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' && value ? value : null;
}

const SLOT_MODES: readonly SlotMode[] = ['online', 'in_person', 'both'];

function offeredSlots(payload: Payload): OfferedSlot[] {
  const slots = payload.slots;
  if (!Array.isArray(slots)) return [];
  return slots.filter(
    (s): s is OfferedSlot =>
      typeof s === 'object' &&
      s !== null &&
      typeof (s as OfferedSlot).id === 'string' &&
      typeof (s as OfferedSlot).start === 'string' &&
      typeof (s as OfferedSlot).end === 'string' &&
      SLOT_MODES.includes((s as OfferedSlot).mode),
  );
}

const CARD_STATE: Record<CardState, { label: string; tone: BadgeTone }> = {
  open: { label: 'Open', tone: 'info' },
  completed: { label: 'Completed', tone: 'success' },
  cancelled: { label: 'Cancelled', tone: 'neutral' },
  expired: { label: 'Expired', tone: 'neutral' },
  failed: { label: 'Failed', tone: 'danger' },
};

const APPOINTMENT_ACTIONS = new Set([
  'booking.book_appointment',
  'booking.choose_slot',
  'booking.reschedule_appointment',
  'booking.cancel_appointment',
]);

export function appointmentOf(message: ChatMessage): string | null {
  if (message.kind !== 'action' || !APPOINTMENT_ACTIONS.has(message.action ?? '')) return null;
  return text(message.payload ?? {}, 'appointment');
}

/** A structured card in the conversation, drawn by its action with its state and buttons. */
export function ActionCard({ message, context }: { message: ChatMessage; context: CardContext }) {
  const by = `${context.senderName} · ${messageTime(message.created_at, context.zone)}`;
  switch (message.action) {
    case 'booking.request_appointment':
      return <RequestCard message={message} context={context} by={by} />;
    case 'booking.offer_slots':
      return <OfferCard message={message} context={context} by={by} />;
    case 'booking.book_appointment':
    case 'booking.choose_slot':
    case 'booking.reschedule_appointment':
    case 'booking.cancel_appointment':
      return <AppointmentCard message={message} context={context} by={by} />;
    case 'booking.request_payment':
      return <PaymentCard message={message} context={context} by={by} />;
    case 'consult.invite':
      return <ConsultInviteCard message={message} context={context} by={by} />;
    case 'consult.summary':
      return <ConsultSummaryCard message={message} context={context} by={by} />;
    case 'prescriptions.issue_prescription':
      return <PrescriptionCard message={message} context={context} by={by} />;
    case 'prescriptions.request_refill':
      return <RefillRequestCard message={message} context={context} by={by} />;
    case 'prescriptions.send_to_pharmacy':
      return <PharmacySendCard message={message} context={context} by={by} />;
    default: {
      const state = message.state ? CARD_STATE[message.state] : null;
      return (
        <CardFrame
          title="Update"
          by={by}
          state={message.state}
          badge={state && <Badge tone={state.tone}>{state.label}</Badge>}
        >
          {message.body ? <MessageText text={message.body} /> : <p>{message.action}</p>}
        </CardFrame>
      );
    }
  }
}

function StateBadge({ state }: { state: CardState | undefined }) {
  if (!state) return null;
  const { label, tone } = CARD_STATE[state];
  return <Badge tone={tone}>{label}</Badge>;
}

// ------------------------------------------------------------------ request_appointment

function RequestCard({ message, context, by }: CardProps) {
  const payload = message.payload ?? {};
  const mode = text(payload, 'mode') as ConsultMode | null;
  const careSide = CARE_SIDE.includes(context.role);
  const open = message.state === 'open';
  return (
    <CardFrame
      title="Appointment request"
      by={by}
      state={message.state}
      badge={<StateBadge state={message.state} />}
    >
      {message.body ? <MessageText text={message.body} /> : <p>No reason given.</p>}
      {mode && <p>Would like to meet: {MODE_LABEL[mode]}</p>}
      {open && careSide && text(payload, 'doctor') && (
        <div className="chat-card__actions">
          <Button size="small" onClick={() => context.onOfferTimes(message.id)}>
            Offer times<span className="sr-only"> for this request</span>
          </Button>
        </div>
      )}
      {open && !careSide && (
        <p className="muted small">Waiting for the care team to offer times.</p>
      )}
      {message.state === 'completed' && <p className="muted small">Times were offered below.</p>}
    </CardFrame>
  );
}

// ------------------------------------------------------------------ offer_slots

/**
 * An offer's state as of `nowMs`: still `open` on the server but past its `expires_at`, it is
 * shown `expired` at once (the server marks it so within a minute, and refuses a choice).
 */
export function offerState(message: ChatMessage, nowMs: number): CardState | undefined {
  const expiresAt = text(message.payload ?? {}, 'expires_at');
  if (message.state === 'open' && expiresAt && Date.parse(expiresAt) <= nowMs) return 'expired';
  return message.state ?? undefined;
}

function OfferCard({ message, context, by }: CardProps) {
  const socket = useChatSocket();
  const now = useNow(15_000);
  const payload = message.payload ?? {};
  const slots = offeredSlots(payload);
  const chosen = text(payload, 'chosen');
  const expiresAt = text(payload, 'expires_at');
  const patientSide = PATIENT_SIDE.includes(context.role);
  const state = offerState(message, now.getTime());
  const open = state === 'open';
  const needsMode = slots.some((s) => s.mode === 'both');
  const [mode, setMode] = useState<ConsultMode>('online');
  const modeName = useId();
  const choosing = context.pending.some(
    (e) =>
      e.kind === 'action' &&
      e.action === 'booking.choose_slot' &&
      e.payload.offer === message.id &&
      e.state !== 'failed',
  );

  const choose = (slot: OfferedSlot) => {
    socket.submitAction(context.conversationId, 'booking.choose_slot', {
      offer: message.id,
      slot: slot.id,
      mode: slot.mode === 'both' ? mode : slot.mode,
    });
  };

  return (
    <CardFrame
      title={`Offered times (${slots.length})`}
      by={by}
      state={state}
      badge={<StateBadge state={state} />}
    >
      {open && patientSide ? (
        <>
          <p>
            Choose the time that suits {context.role === 'proxy' ? context.patientName : 'you'}.
            Times are in your time zone ({zoneLabel(context.zone)}).
          </p>
          {needsMode && (
            <fieldset>
              <legend>How would you like to meet?</legend>
              <div className="chat-modes">
                {(['online', 'in_person'] as const).map((value) => (
                  <label key={value}>
                    <input
                      type="radio"
                      name={modeName}
                      value={value}
                      checked={mode === value}
                      onChange={() => setMode(value)}
                    />
                    {MODE_LABEL[value]}
                  </label>
                ))}
              </div>
            </fieldset>
          )}
          <ul className="chat-card__slots">
            {slots.map((slot) => (
              <li key={slot.id}>
                <Button variant="secondary" onClick={() => choose(slot)} disabled={choosing}>
                  <span>Choose {formatSlotTime(slot.start, context.zone)}</span>
                  <span className="muted small">
                    until {formatClock(slot.end, context.zone)} · {MODE_LABEL[slot.mode]}
                  </span>
                </Button>
              </li>
            ))}
          </ul>
          {choosing && (
            <p className="small" role="status">
              Booking your choice…
            </p>
          )}
        </>
      ) : (
        <ul className="chat-card__slots">
          {slots.map((slot) => {
            const isChosen = chosen === slot.id;
            return (
              <li
                key={slot.id}
                className={
                  isChosen
                    ? 'chat-card__slot--chosen'
                    : chosen || !open
                      ? 'chat-card__slot--other'
                      : undefined
                }
              >
                {formatSlotTime(slot.start, context.zone)}–{formatClock(slot.end, context.zone)} ·{' '}
                {MODE_LABEL[slot.mode]}
                {isChosen && (
                  <>
                    {' '}
                    <Badge tone="success">Chosen</Badge>
                  </>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {open && expiresAt && (
        <p className="muted small">
          Held for {context.role === 'patient' ? 'you' : context.patientName} until{' '}
          {formatSlotTime(expiresAt, context.zone)}.
        </p>
      )}
      {open && !patientSide && (
        <p className="muted small">Waiting for {context.patientName} to choose.</p>
      )}
    </CardFrame>
  );
}

// ------------------------------------------------------------------ appointment cards

const APPOINTMENT_TITLES: Record<string, string> = {
  'booking.book_appointment': 'Appointment booked',
  'booking.choose_slot': 'Appointment booked',
  'booking.reschedule_appointment': 'Appointment rescheduled',
  'booking.cancel_appointment': 'Appointment cancelled',
};

const LIVE: readonly AppointmentStatus[] = ['requested', 'awaiting_payment', 'confirmed'];

function AppointmentCard({ message, context, by }: CardProps) {
  const socket = useChatSocket();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [rescheduling, setRescheduling] = useState(false);
  const payload = message.payload ?? {};
  const appointment = text(payload, 'appointment');
  const start = text(payload, 'start');
  const end = text(payload, 'end');
  const status = text(payload, 'status') as AppointmentStatus | null;
  const mode = text(payload, 'mode') as ConsultMode | null;
  const doctorId = text(payload, 'doctor');
  const statusInfo = status ? STATUS[status] : null;
  const upcoming = !!start && Date.parse(start) > context.now;
  const changeable =
    context.latestForAppointment && !!appointment && !!status && LIVE.includes(status) && upcoming;
  const busy = context.pending.some(
    (e) =>
      e.kind === 'action' &&
      (e.action === 'booking.cancel_appointment' ||
        e.action === 'booking.reschedule_appointment') &&
      e.payload.appointment === appointment &&
      e.state !== 'failed',
  );
  const patientSide = PATIENT_SIDE.includes(context.role);

  return (
    <CardFrame
      title={APPOINTMENT_TITLES[message.action ?? ''] ?? 'Appointment'}
      by={by}
      state={message.state}
      badge={
        statusInfo ? (
          <Badge tone={statusInfo.tone}>{statusInfo.label}</Badge>
        ) : (
          <StateBadge state={message.state} />
        )
      }
    >
      <dl className="chat-card__details">
        {start && (
          <>
            <dt>When</dt>
            <dd>
              {formatSlotTime(start, context.zone)}
              {end && `–${formatClock(end, context.zone)}`}
            </dd>
          </>
        )}
        {text(payload, 'doctor_name') && (
          <>
            <dt>With</dt>
            <dd>{text(payload, 'doctor_name')}</dd>
          </>
        )}
        {mode && (
          <>
            <dt>How</dt>
            <dd>{MODE_LABEL[mode]}</dd>
          </>
        )}
      </dl>
      <div className="chat-card__actions">
        {changeable && (
          <>
            <Button
              variant="secondary"
              size="small"
              onClick={() => setRescheduling(true)}
              disabled={busy}
            >
              Reschedule<span className="sr-only"> this appointment</span>
            </Button>
            <Button
              variant="danger-outline"
              size="small"
              onClick={() => setConfirmCancel(true)}
              disabled={busy}
            >
              Cancel appointment
            </Button>
          </>
        )}
        <Link className="small" to={patientSide ? '/appointments' : '/week'}>
          {patientSide ? 'See appointments' : 'See the week'}
        </Link>
      </div>
      <ConfirmDialog
        open={confirmCancel}
        title="Cancel this appointment?"
        confirmLabel="Cancel appointment"
        cancelLabel="Keep it"
        destructive
        onCancel={() => setConfirmCancel(false)}
        onConfirm={() => {
          setConfirmCancel(false);
          if (appointment) {
            socket.submitAction(context.conversationId, 'booking.cancel_appointment', {
              appointment,
            });
          }
        }}
      >
        {start && <p>{formatSlotTime(start, context.zone)}. Everyone in this chat will see it.</p>}
      </ConfirmDialog>
      <SlotPickerDialog
        open={rescheduling}
        title="Move the appointment"
        description="Choose the new time. The current one is released once the new one is booked."
        doctorId={doctorId}
        zone={context.zone}
        max={1}
        submitLabel={() => 'Move to this time'}
        onClose={() => setRescheduling(false)}
        onSubmit={([slot]) => {
          setRescheduling(false);
          if (slot && appointment) {
            socket.submitAction(context.conversationId, 'booking.reschedule_appointment', {
              appointment,
              slot: slot.id,
            });
          }
        }}
      />
    </CardFrame>
  );
}
