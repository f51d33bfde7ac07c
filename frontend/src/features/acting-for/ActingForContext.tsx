import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type ReactNode,
} from 'react';
import { api } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type { ActingForPatient, Me } from '../../api/types';
import { fullName } from '../../lib/format';
import { hasRole } from '../../lib/roles';
import { loadActingFor, saveActingFor, type StoredActingFor } from './storage';

export interface ActingForValue {
  /** Everyone the signed-in user may act for (GET /api/family/patients/). */
  patients: ActingForPatient[];
  /** The patient being acted for, or null for "Myself". */
  current: ActingForPatient | null;
  /** True while a remembered choice is being checked against the server's list. */
  pending: boolean;
  select: (patientId: string | null) => void;
  /** Access ended (revoked / expired / gone): say so and switch back to Myself. */
  endAccess: (name?: string) => void;
  notice: string | null;
  dismissNotice: () => void;
}

const ActingForContext = createContext<ActingForValue | null>(null);

export function useFamilyPatients(me: Me | null | undefined) {
  return useQuery({
    queryKey: queryKeys.familyPatients,
    queryFn: ({ signal }) => api.get<ActingForPatient[]>('/api/family/patients/', signal),
    enabled: hasRole(me, 'patient'),
  });
}

export function ActingForProvider({ me, children }: { me: Me; children: ReactNode }) {
  const queryClient = useQueryClient();
  const [stored, setStored] = useState<StoredActingFor | null>(() => loadActingFor());
  const [notice, setNotice] = useState<string | null>(null);
  const list = useFamilyPatients(me);
  const patients = useMemo(() => list.data ?? [], [list.data]);

  // sessionStorage follows the state (an external system, so an effect is the right tool).
  useEffect(() => saveActingFor(stored), [stored]);

  // Staff and accounts without the patient role never act for anyone.
  const chosen = hasRole(me, 'patient') ? stored : null;
  const current = chosen ? (patients.find((p) => p.patient.id === chosen.id) ?? null) : null;
  const pending = !!chosen && list.isPending;

  // The remembered patient is no longer in the list: their grant ended since we last looked.
  // (Adjusting state while rendering, as React recommends over an effect.)
  if (chosen && list.isSuccess && !current) {
    setStored(null);
    setNotice(`Your access to ${chosen.name} has ended.`);
  }

  const select = useCallback(
    (patientId: string | null) => {
      setNotice(null);
      const entry = patients.find((p) => p.patient.id === patientId);
      setStored(entry ? { id: entry.patient.id, name: fullName(entry.patient) } : null);
    },
    [patients],
  );

  const endAccess = useCallback(
    (name?: string) => {
      const who = name || stored?.name || 'this person';
      setNotice(`Your access to ${who} has ended.`);
      setStored(null);
      void queryClient.invalidateQueries({ queryKey: queryKeys.familyPatients });
    },
    [queryClient, stored],
  );

  const value = useMemo<ActingForValue>(
    () => ({
      patients,
      current,
      pending,
      select,
      endAccess,
      notice,
      dismissNotice: () => setNotice(null),
    }),
    [patients, current, pending, select, endAccess, notice],
  );

  return <ActingForContext.Provider value={value}>{children}</ActingForContext.Provider>;
}

export function useActingFor(): ActingForValue {
  const value = useContext(ActingForContext);
  if (!value) throw new Error('useActingFor must be used inside <ActingForProvider>');
  return value;
}
