import { useSearchParams } from 'react-router-dom';
import type { Me } from '../../api/types';
import { hasRole } from '../../lib/roles';
import { useCenterDoctors } from './api';

export interface DoctorChoice {
  id: string;
  name: string;
}

/**
 * Whose schedule the signed-in staff member may manage: a center admin their center's doctors,
 * a doctor themselves. The choice is kept in the query string (`?doctor=`).
 */
export function useDoctorChoice(me: Me) {
  const isAdmin = hasRole(me, 'center_admin') && !!me.center;
  const centerDoctors = useCenterDoctors(isAdmin ? me.center : null);
  const [params, setParams] = useSearchParams();

  const choices: DoctorChoice[] = [];
  if (isAdmin) {
    for (const doctor of centerDoctors.data ?? [])
      choices.push({ id: doctor.id, name: doctor.name });
  }
  if (me.doctor && !choices.some((c) => c.id === me.doctor)) {
    choices.unshift({ id: me.doctor, name: 'Myself' });
  }
  const asked = params.get('doctor');
  const selected = choices.find((c) => c.id === asked) ?? choices[0] ?? null;

  const select = (id: string) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        next.set('doctor', id);
        next.delete('start');
        return next;
      },
      { replace: true },
    );

  return {
    choices,
    selected,
    select,
    loading: isAdmin && centerDoctors.isPending,
    error: isAdmin ? centerDoctors.error : null,
    retry: () => void centerDoctors.refetch(),
  };
}
