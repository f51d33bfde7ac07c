import { useId, useState } from 'react';
import { Link } from 'react-router-dom';
import { Badge, Button } from '../../../components';
import { formatDate } from '../../../lib/format';
import { usePreferredPharmacy, usePrescription } from '../../prescriptions/api';
import { prescriptionCardLook, refillBlocker } from '../../prescriptions/format';
import { SendToPharmacyDialog } from '../../prescriptions/SendToPharmacyDialog';
import { useChatSocket } from '../context';
import { MessageText } from '../MessageItem';
import { PATIENT_SIDE } from '../receipts';
import type { CardProps } from './types';
import { CardFrame } from './CardFrame';
import '../../prescriptions/prescriptions.css';

function text(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' && value ? value : null;
}

export const prescriptionLink = (id: string) => `/prescriptions/${encodeURIComponent(id)}`;

/** An action of mine about `prescription` still in the outbox (not refused). */
export function isPendingAction(
  pending: CardProps['context']['pending'],
  action: string,
  prescription: string | null,
): boolean {
  return pending.some(
    (e) =>
      e.kind === 'action' &&
      e.action === action &&
      e.payload.prescription === prescription &&
      e.state !== 'failed',
  );
}

/**
 * `prescriptions.issue_prescription`: posted when a doctor signs. The medicines are the card's
 * sealed body; the patient side asks for a refill or sends it to a pharmacy from here.
 */
export function PrescriptionCard({ message, context, by }: CardProps) {
  const socket = useChatSocket();
  const payload = message.payload ?? {};
  const prescriptionId = text(payload, 'prescription');
  const doctorName = text(payload, 'doctor_name');
  const issuedAt = text(payload, 'issued_at');
  const refillOf = text(payload, 'refill_of');
  const look = prescriptionCardLook(message.state, payload.status);
  const patientSide = PATIENT_SIDE.includes(context.role);
  const actingFor = context.role === 'proxy' ? context.patientId : null;
  const active = look.label === 'Active';
  const live = patientSide && active && !!prescriptionId;
  // The rest (refills left, a pending request) comes from the prescription itself.
  const prescription = usePrescription(prescriptionId ?? '', live);
  const preferred = usePreferredPharmacy(actingFor, live);
  const [choosing, setChoosing] = useState(false);
  const reasonId = useId();

  const blocker = prescription.data ? refillBlocker(prescription.data) : null;
  const refilling = isPendingAction(
    context.pending,
    'prescriptions.request_refill',
    prescriptionId,
  );
  const sending = isPendingAction(
    context.pending,
    'prescriptions.send_to_pharmacy',
    prescriptionId,
  );
  const preferredPharmacy = preferred.data?.pharmacy ?? null;
  const medicines = message.body ?? '';

  const requestRefill = () => {
    if (!prescriptionId) return;
    socket.submitAction(context.conversationId, 'prescriptions.request_refill', {
      prescription: prescriptionId,
    });
  };

  const send = (pharmacy: string | null) => {
    if (!prescriptionId) return;
    socket.submitAction(context.conversationId, 'prescriptions.send_to_pharmacy', {
      prescription: prescriptionId,
      ...(pharmacy ? { pharmacy } : {}),
    });
  };

  return (
    <CardFrame
      title={refillOf ? 'Prescription (refill)' : 'Prescription'}
      by={by}
      state={message.state}
      badge={<Badge tone={look.tone}>{look.label}</Badge>}
    >
      {message.deleted ? (
        <p className="muted">This prescription's details are no longer shown here.</p>
      ) : medicines ? (
        <div className="rx-card-medicines">
          <MessageText text={medicines} />
        </div>
      ) : null}
      <dl className="chat-card__details">
        {doctorName && (
          <>
            <dt>From</dt>
            <dd>{doctorName}</dd>
          </>
        )}
        {issuedAt && (
          <>
            <dt>Issued</dt>
            <dd>{formatDate(issuedAt)}</dd>
          </>
        )}
        {prescription.data && (
          <>
            <dt>Refills</dt>
            <dd>{prescription.data.refills_left}</dd>
          </>
        )}
      </dl>
      <div className="chat-card__actions">
        {live && (
          <>
            <Button
              size="small"
              variant="secondary"
              disabled={!!blocker || refilling || prescription.isPending}
              aria-describedby={blocker ? reasonId : undefined}
              onClick={requestRefill}
            >
              Request refill
            </Button>
            <Button
              size="small"
              disabled={sending || preferred.isPending}
              onClick={() => {
                if (preferredPharmacy) send(null);
                else setChoosing(true);
              }}
            >
              Send to pharmacy
            </Button>
          </>
        )}
        {prescriptionId && (
          <Link className="small" to={prescriptionLink(prescriptionId)}>
            View prescription
          </Link>
        )}
      </div>
      {live && preferredPharmacy && (
        <p className="muted small">Sends to {preferredPharmacy.name}, the preferred pharmacy.</p>
      )}
      {live && blocker && (
        <p className="muted small" id={reasonId}>
          Refill not available: {blocker}
        </p>
      )}
      {(refilling || sending) && (
        <p className="small" role="status">
          {refilling ? 'Asking for a refill…' : 'Sending to the pharmacy…'}
        </p>
      )}
      {live && (
        <SendToPharmacyDialog
          open={choosing}
          patientId={actingFor}
          patientName={actingFor ? context.patientName : null}
          medicines={medicines || undefined}
          busy={false}
          error={null}
          onClose={() => setChoosing(false)}
          onSend={(pharmacy) => {
            setChoosing(false);
            send(pharmacy?.id ?? null);
          }}
        />
      )}
    </CardFrame>
  );
}
