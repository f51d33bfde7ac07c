import { Badge, ButtonLink } from '../../../components';
import { formatClock, formatSlotTime } from '../../../lib/zones';
import { summaryTitle } from '../../consult/format';
import { prescribePath } from '../../prescriptions/format';
import type { CardProps } from './types';
import { CardFrame } from './CardFrame';

function text(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' && value ? value : null;
}

function names(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .map((p) => (p && typeof p === 'object' ? (p as { name?: unknown }).name : null))
    .filter((name): name is string => typeof name === 'string' && !!name);
}

/** `consult.summary`: posted when the doctor ends the call. */
export function ConsultSummaryCard({ message, context, by }: CardProps) {
  const payload = message.payload ?? {};
  const seconds =
    typeof payload.duration_seconds === 'number' && Number.isFinite(payload.duration_seconds)
      ? payload.duration_seconds
      : null;
  const startedAt = text(payload, 'started_at');
  const endedAt = text(payload, 'ended_at');
  const people = names(payload.participants);
  const appointment = text(payload, 'appointment');
  return (
    <CardFrame
      title={summaryTitle(seconds, text(payload, 'doctor_name'))}
      by={by}
      state={message.state}
      badge={<Badge tone="success">Ended</Badge>}
    >
      <dl className="chat-card__details">
        {startedAt && (
          <>
            <dt>When</dt>
            <dd>
              {formatSlotTime(startedAt, context.zone)}
              {endedAt && `–${formatClock(endedAt, context.zone)}`}
            </dd>
          </>
        )}
        {people.length > 0 && (
          <>
            <dt>Who</dt>
            <dd>{people.join(', ')}</dd>
          </>
        )}
      </dl>
      {context.role === 'doctor' && (
        <div className="chat-card__actions">
          <ButtonLink size="small" to={prescribePath(context.patientId, appointment)}>
            Prescribe<span className="sr-only"> for {context.patientName}</span>
          </ButtonLink>
        </div>
      )}
    </CardFrame>
  );
}
