import type { ReactNode } from 'react';
import { ButtonLink } from '../../components';
import { consultPath, showJoinLink } from './format';
import { useNow } from './useNow';

/**
 * "Join consult" on an online appointment (appointments list, the doctor's week), from well
 * before it opens until its window closes; the consult page says when it opens.
 */
export function JoinConsultLink({
  appointment,
  about,
}: {
  appointment: { consult: string | null; status: string; end: string };
  /** Screen-reader context: " with Dr Lee on Mon 12 Mar". */
  about?: ReactNode;
}) {
  const now = useNow(60_000);
  if (!appointment.consult || !showJoinLink(appointment, now)) return null;
  return (
    <ButtonLink to={consultPath(appointment.consult)} size="small">
      Join consult{about}
    </ButtonLink>
  );
}
