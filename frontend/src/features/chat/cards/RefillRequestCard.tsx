import { useState } from 'react';
import { Link } from 'react-router-dom';
import { Button, ErrorAlert } from '../../../components';
import { useCurrentUser } from '../../auth/session';
import { useApproveRefill, useDeclineRefill, usePrescription } from '../../prescriptions/api';
import { isPrescribingDoctor, refillCardStatus } from '../../prescriptions/format';
import { RefillStatusBadge } from '../../prescriptions/PrescriptionParts';
import { isReauthError, ReauthDialog } from '../../prescriptions/ReauthDialog';
import { ReasonDialog } from '../../prescriptions/ReasonDialog';
import { MessageText } from '../MessageItem';
import type { CardProps } from './types';
import { CardFrame } from './CardFrame';
import { prescriptionLink } from './PrescriptionCard';

function text(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' && value ? value : null;
}

/**
 * `prescriptions.request_refill`: a patient (or family member) asked for a refill. The prescribing
 * doctor approves (signing again) or declines with a reason, which becomes the card's body.
 */
export function RefillRequestCard({ message, context, by }: CardProps) {
  const me = useCurrentUser();
  const payload = message.payload ?? {};
  const prescriptionId = text(payload, 'prescription');
  const refillId = text(payload, 'refill');
  const cardStatus = refillCardStatus(message.state, payload.status);
  const doctor = context.role === 'doctor';
  // Only the prescribing doctor decides (the server checks too).
  const prescription = usePrescription(prescriptionId ?? '', doctor && cardStatus === 'pending');
  // Decided here over REST: show it before the card's own update arrives on the socket.
  const fetched = prescription.data?.refill_request;
  const decided = !!fetched && fetched.id === refillId && fetched.status !== 'pending';
  const status = cardStatus === 'pending' && decided ? fetched.status : cardStatus;
  const declineReason = message.body || (decided ? fetched.decline_reason : '');
  const newPrescription =
    text(payload, 'new_prescription') ?? (decided ? (fetched.new_prescription ?? null) : null);
  const pending = status === 'pending';
  const decides =
    doctor &&
    pending &&
    !!refillId &&
    (!prescription.data ||
      (prescription.data.can_decide_refill ?? isPrescribingDoctor(prescription.data, me)));
  const approve = useApproveRefill();
  const decline = useDeclineRefill();
  const [dialog, setDialog] = useState<'approve' | 'decline' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const who = context.role === 'patient' ? 'you' : context.patientName;
  const doctorName = text(payload, 'doctor_name');

  return (
    <CardFrame
      title="Refill request"
      by={by}
      state={message.state}
      badge={<RefillStatusBadge status={status} />}
    >
      {status === 'declined' ? (
        declineReason ? (
          <p>
            <strong>Reason: </strong>
            {declineReason}
          </p>
        ) : (
          <p>The refill was declined.</p>
        )
      ) : message.body ? (
        <MessageText text={message.body} />
      ) : null}
      {pending && !decides && (
        <p className="muted small">
          Waiting for {doctorName ?? prescription.data?.doctor.name ?? 'the doctor'} to decide.
        </p>
      )}
      {status === 'approved' && <p className="small">A new prescription was issued for {who}.</p>}
      {!!error && <ErrorAlert error={error} title="That did not work" />}
      <div className="chat-card__actions">
        {decides && (
          <>
            <Button
              size="small"
              onClick={() => {
                setError(null);
                approve.reset();
                setDialog('approve');
              }}
            >
              Approve refill
            </Button>
            <Button
              size="small"
              variant="danger-outline"
              onClick={() => {
                setError(null);
                decline.reset();
                setDialog('decline');
              }}
            >
              Decline refill
            </Button>
          </>
        )}
        {newPrescription && (
          <Link className="small" to={prescriptionLink(newPrescription)}>
            View the new prescription
          </Link>
        )}
        {prescriptionId && (
          <Link className="small" to={prescriptionLink(prescriptionId)}>
            View prescription
          </Link>
        )}
      </div>
      {decides && refillId && (
        <>
          <ReauthDialog
            open={dialog === 'approve'}
            busy={approve.isPending}
            error={isReauthError(approve.error) ? approve.error : null}
            summary={
              <p>
                Approving issues a new prescription for <strong>{context.patientName}</strong>,
                signed by you.
              </p>
            }
            onClose={() => setDialog(null)}
            onConfirm={(auth) =>
              approve.mutate(
                { refillId, auth },
                {
                  onSuccess: () => setDialog(null),
                  onError: (failure) => {
                    if (isReauthError(failure)) return;
                    setDialog(null);
                    setError(failure);
                  },
                },
              )
            }
          />
          <ReasonDialog
            open={dialog === 'decline'}
            title="Decline refill"
            label="Reason for declining"
            hint={`${context.patientName} sees this reason in this conversation.`}
            confirmLabel="Confirm decline"
            busy={decline.isPending}
            error={decline.error}
            onClose={() => setDialog(null)}
            onConfirm={(reason) =>
              decline.mutate({ refillId, reason }, { onSuccess: () => setDialog(null) })
            }
          />
        </>
      )}
    </CardFrame>
  );
}
