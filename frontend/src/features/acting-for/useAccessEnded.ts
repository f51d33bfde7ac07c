import { useEffect } from 'react';
import { isApiError } from '../../api/client';
import type { ActingForPatient } from '../../api/types';
import { fullName } from '../../lib/format';
import { useActingFor } from './ActingForContext';

/** 403 grant_inactive, or 404: the grant is gone (revoked, expired, or never was). */
export function isAccessEnded(error: unknown): boolean {
  return isApiError(error, 'grant_inactive') || (isApiError(error) && error.status === 404);
}

export function isScopeMissing(error: unknown): boolean {
  return isApiError(error, 'scope_missing');
}

/** When a request made for `entry` says access has ended, switch back to Myself with a notice. */
export function useAccessEnded(entry: ActingForPatient | null, error: unknown): boolean {
  const { endAccess } = useActingFor();
  const ended = !!entry && isAccessEnded(error);
  const name = entry ? fullName(entry.patient) : '';
  useEffect(() => {
    if (ended) endAccess(name);
  }, [ended, name, endAccess]);
  return ended;
}
