import type { ReactNode } from 'react';
import { ButtonLink } from '../../components';
import { formatSlotTime, viewerTimeZone } from '../../lib/zones';
import { consultPath, showJoinLink } from './format';
import { useNow } from './useNow';

/**
 * "Join consult" on an online appointment (appointments list, the doctor's week) once its
 * waiting room is open and until its window closes. Before that it says when it opens and
 * offers the device check (the consult page tests camera and sound at any time).
 */
export function JoinConsultLink({
  appointment,
  about,
}: {
  appointment: {
    consult: string | null;
    status: string;
    end: string;
    consult_opens_at?: string | null;
  };
  /** Screen-reader context: " with Dr Lee on Mon 12 Mar". */
  about?: ReactNode;
}) {
  const now = useNow(30_000);
  if (!appointment.consult || !showJoinLink(appointment, now)) return null;
  const opens = appointment.consult_opens_at ? Date.parse(appointment.consult_opens_at) : NaN;
  if (Number.isFinite(opens) && now.getTime() < opens) {
    return (
      <span className="join-later">
        <span>
          You can join from {formatSlotTime(new Date(opens), viewerTimeZone())}
          <span className="sr-only">{about}</span>
        </span>{' '}
        <ButtonLink to={consultPath(appointment.consult)} size="small" variant="ghost">
          Check camera and sound{about}
        </ButtonLink>
      </span>
    );
  }
  return (
    <ButtonLink to={consultPath(appointment.consult)} size="small">
      Join consult{about}
    </ButtonLink>
  );
}
