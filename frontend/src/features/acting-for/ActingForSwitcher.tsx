import { useId } from 'react';
import { fullName } from '../../lib/format';
import { useActingFor } from './ActingForContext';

/** "Acting for: Myself / <patient name>", shown when the user may act for someone. */
export function ActingForSwitcher() {
  const { patients, current, select } = useActingFor();
  const id = useId();
  if (patients.length === 0) return null;
  return (
    <div className={current ? 'acting-for acting-for--active' : 'acting-for'}>
      <label htmlFor={id}>Acting for</label>
      <select
        id={id}
        className="select"
        value={current?.patient.id ?? ''}
        onChange={(event) => select(event.target.value || null)}
      >
        <option value="">Myself</option>
        {patients.map((entry) => (
          <option key={entry.patient.id} value={entry.patient.id}>
            {fullName(entry.patient)}
          </option>
        ))}
      </select>
    </div>
  );
}
