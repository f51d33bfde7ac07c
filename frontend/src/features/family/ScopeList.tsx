import type { Scope } from '../../api/types';
import { SCOPES } from '../../lib/scopes';

/** The allowed actions in plain language. */
export function ScopeList({ scopes, detailed = false }: { scopes: Scope[]; detailed?: boolean }) {
  const items = SCOPES.filter((s) => scopes.includes(s.value));
  if (items.length === 0) return <p className="muted">No permissions.</p>;
  if (!detailed) {
    return (
      <ul className="chips" aria-label="Permissions">
        {items.map((s) => (
          <li key={s.value} className="chip">
            {s.label}
          </li>
        ))}
      </ul>
    );
  }
  return (
    <ul className="item-list">
      {items.map((s) => (
        <li key={s.value}>
          <div className="item-list__main">
            <p className="item-list__title">{s.label}</p>
            <p className="item-list__meta">{s.description}</p>
          </div>
        </li>
      ))}
    </ul>
  );
}
