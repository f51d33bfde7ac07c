import { useLocation } from 'react-router-dom';
import { Badge, ButtonLink } from '../../../components';
import { formatClock, formatSlotTime } from '../../../lib/zones';
import { consultPath, inviteTitle, OPENS_MINUTES_BEFORE } from '../../consult/format';
import { PATIENT_SIDE } from '../receipts';
import type { CardProps } from './types';
import { CardFrame } from './CardFrame';

function text(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' && value ? value : null;
}

/**
 * `consult.invite`: the way into an online appointment's video consult. The patient side joins;
 * the doctor opens it (and sees when the patient is already waiting). Completed once ended.
 */
export function ConsultInviteCard({ message, context, by }: CardProps) {
  const location = useLocation();
  const payload = message.payload ?? {};
  const consult = text(payload, 'consult');
  const start = text(payload, 'start');
  const end = text(payload, 'end');
  const doctorName = text(payload, 'doctor_name');
  const ended = payload.status === 'ended' || message.state === 'completed';
  const closed = ended || (message.state !== undefined && message.state !== 'open');
  const waiting = payload.waiting === true && !closed;
  const patientSide = PATIENT_SIDE.includes(context.role);
  const joinUrl = text(payload, 'join_url') ?? (consult ? consultPath(consult) : null);
  // Beside the call itself, a link to the same page would only confuse.
  const here = !!joinUrl && location.pathname === joinUrl;

  return (
    <CardFrame
      title={inviteTitle(doctorName, start, context.zone)}
      by={by}
      state={message.state}
      badge={
        ended ? (
          <Badge tone="neutral">Ended</Badge>
        ) : waiting && !patientSide ? (
          <Badge tone="warning">Patient is waiting</Badge>
        ) : (
          <Badge tone="info">Video</Badge>
        )
      }
    >
      {start && (
        <p className="small">
          {formatSlotTime(start, context.zone)}
          {end && `–${formatClock(end, context.zone)}`}
        </p>
      )}
      {ended ? (
        <p className="muted small">This consult has ended.</p>
      ) : closed ? (
        <p className="muted small">This invitation is no longer open.</p>
      ) : here ? (
        <p className="muted small">You are on this consult’s page.</p>
      ) : (
        joinUrl && (
          <div className="chat-card__actions">
            <ButtonLink to={joinUrl} size="small">
              {patientSide ? 'Join consult' : 'Open consult'}
            </ButtonLink>
          </div>
        )
      )}
      {!ended && !closed && !here && patientSide && (
        <p className="muted small">
          It opens {OPENS_MINUTES_BEFORE} minutes before the start. The doctor lets you in from the
          waiting room.
        </p>
      )}
    </CardFrame>
  );
}
