import { fullName } from '../../lib/format';
import { scopeLabels } from '../../lib/scopes';
import { Button } from '../../components';
import { useActingFor } from './ActingForContext';

/** A persistent reminder under the top bar while acting for someone else. */
export function ActingForBanner() {
  const { current, select } = useActingFor();
  if (!current) return null;
  const allowed = scopeLabels(current.scopes);
  return (
    <div className="acting-banner">
      <div className="acting-banner__inner">
        <span>
          You are acting for <strong>{fullName(current.patient)}</strong>
          {current.relationship === 'guardian' ? ' (you are their guardian)' : ''}.
          {allowed.length > 0 && <> Allowed: {allowed.join(', ')}.</>}
        </span>
        <Button variant="ghost" size="small" onClick={() => select(null)}>
          Switch back to myself
        </Button>
      </div>
    </div>
  );
}
