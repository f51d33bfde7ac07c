import { Badge } from '../../components';
import {
  directions,
  medicineLine,
  prescriptionStatusLook,
  REFILL_STATUS,
  SEND_STATUS,
  severityLook,
} from './format';
import { useVocabulary } from './api';
import type { FindingSeverity, PrescriptionItem, RefillStatus, SendStatus } from './types';

export function PrescriptionStatusBadge({ status }: { status: string }) {
  const { label, tone } = prescriptionStatusLook(status);
  return <Badge tone={tone}>{label}</Badge>;
}

export function RefillStatusBadge({ status }: { status: RefillStatus }) {
  const { label, tone } = REFILL_STATUS[status];
  return <Badge tone={tone}>{label}</Badge>;
}

export function SendStatusBadge({ status }: { status: SendStatus }) {
  const { label, tone } = SEND_STATUS[status];
  return <Badge tone={tone}>{label}</Badge>;
}

export function SeverityBadge({ severity }: { severity: FindingSeverity | string }) {
  const { label, tone } = severityLook(severity);
  return <Badge tone={tone}>{label}</Badge>;
}

/** Route codes to the vocabulary's labels ("oral" → "By mouth"), the code until it loads. */
export function useRouteLabel(): (code: string) => string {
  const vocabulary = useVocabulary();
  const routes = vocabulary.data?.routes ?? [];
  return (code: string) => routes.find((r) => r.code === code)?.label ?? code;
}

/**
 * The medicines of a prescription: a table on a desktop, one stacked block per medicine on a
 * phone (the cells carry their column's name).
 */
export function ItemsTable({ items, caption }: { items: PrescriptionItem[]; caption: string }) {
  const routeLabel = useRouteLabel();
  return (
    <div className="rx-items-wrap">
      <table className="rx-items" role="table">
        <caption className="sr-only">{caption}</caption>
        <thead role="rowgroup">
          <tr role="row">
            <th scope="col" role="columnheader">
              Medicine
            </th>
            <th scope="col" role="columnheader">
              Directions
            </th>
            <th scope="col" role="columnheader">
              Quantity
            </th>
            <th scope="col" role="columnheader">
              Refills
            </th>
            <th scope="col" role="columnheader">
              Instructions
            </th>
          </tr>
        </thead>
        <tbody role="rowgroup">
          {items.map((item, index) => (
            <tr key={`${item.name}-${index}`} role="row">
              <td role="cell" data-label="Medicine">
                <div>
                  <strong>{medicineLine(item)}</strong>
                  {item.free_text && (
                    <>
                      {' '}
                      <Badge tone="warning">Not in catalog</Badge>
                    </>
                  )}
                </div>
              </td>
              <td role="cell" data-label="Directions">
                <div>{directions(item, (code) => item.route_label || routeLabel(code))}</div>
              </td>
              <td role="cell" data-label="Quantity">
                <div>{item.quantity}</div>
              </td>
              <td role="cell" data-label="Refills">
                <div>{item.refills}</div>
              </td>
              <td role="cell" data-label="Instructions">
                <div>
                  {item.instructions || <span className="muted">None</span>}
                  <span className="rx-items__sub">
                    {item.substitution_allowed ? 'Generic substitution allowed' : 'No substitution'}
                  </span>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
