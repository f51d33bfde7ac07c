import { Link } from 'react-router-dom';
import { Button } from '../../../components';
import { sendCardStatus } from '../../prescriptions/format';
import { SendStatusBadge } from '../../prescriptions/PrescriptionParts';
import { useChatSocket } from '../context';
import { PATIENT_SIDE } from '../receipts';
import type { CardProps } from './types';
import { CardFrame } from './CardFrame';
import { isPendingAction, prescriptionLink } from './PrescriptionCard';

function text(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' && value ? value : null;
}

function pharmacyOf(value: unknown): { id: string; name: string } | null {
  if (!value || typeof value !== 'object') return null;
  const { id, name } = value as Record<string, unknown>;
  return typeof id === 'string' && typeof name === 'string' ? { id, name } : null;
}

/** `prescriptions.send_to_pharmacy`: a prescription on its way to a pharmacy (or not reached). */
export function PharmacySendCard({ message, context, by }: CardProps) {
  const socket = useChatSocket();
  const payload = message.payload ?? {};
  const prescriptionId = text(payload, 'prescription');
  const pharmacy = pharmacyOf(payload.pharmacy);
  const status = sendCardStatus(message.state, payload.status);
  const patientSide = PATIENT_SIDE.includes(context.role);
  const retrying = isPendingAction(
    context.pending,
    'prescriptions.send_to_pharmacy',
    prescriptionId,
  );

  return (
    <CardFrame
      title="Sent to pharmacy"
      by={by}
      state={message.state}
      badge={<SendStatusBadge status={status} />}
    >
      <dl className="chat-card__details">
        <dt>Pharmacy</dt>
        <dd>{pharmacy?.name ?? 'The preferred pharmacy'}</dd>
      </dl>
      {status === 'failed' ? (
        <p className="chat-msg__error small">
          The pharmacy could not be reached.
          {patientSide ? ' Try again, or choose another one.' : ''}
        </p>
      ) : status === 'sent' ? (
        <p className="muted small">The pharmacy has received the prescription.</p>
      ) : (
        <p className="muted small">The prescription is on its way to the pharmacy.</p>
      )}
      <div className="chat-card__actions">
        {status === 'failed' && patientSide && prescriptionId && (
          <Button
            size="small"
            variant="secondary"
            disabled={retrying}
            onClick={() =>
              socket.submitAction(context.conversationId, 'prescriptions.send_to_pharmacy', {
                prescription: prescriptionId,
                ...(pharmacy ? { pharmacy: pharmacy.id } : {}),
              })
            }
          >
            Send again<span className="sr-only"> to {pharmacy?.name ?? 'the pharmacy'}</span>
          </Button>
        )}
        {prescriptionId && (
          <Link className="small" to={prescriptionLink(prescriptionId)}>
            View prescription
          </Link>
        )}
      </div>
    </CardFrame>
  );
}
