import { Badge, Card, EmptyState, ErrorState, LoadingState, Page } from '../../components';
import { formatSlotTime, zoneLabel } from '../../lib/zones';
import { MODE_LABEL, STATUS } from '../booking/status';
import { useUnconfirmedAppointments } from './api';

/**
 * Staff: appointments the patient has not confirmed by the center's escalation time (the
 * reminder asked them to). Worth a phone call.
 */
export function UnconfirmedAppointments() {
  const list = useUnconfirmedAppointments();
  return (
    <Card
      title="Unconfirmed"
      description="Patients who have not confirmed they are coming, though their reminder asked. Consider calling them."
    >
      {list.isPending ? (
        <LoadingState label="Loading unconfirmed appointments…" />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <EmptyState title="All confirmed">
          Every patient due soon has confirmed, or it is not yet time to ask.
        </EmptyState>
      ) : (
        <ul className="item-list">
          {list.data.map((a) => {
            const status = STATUS[a.status];
            return (
              <li key={a.id}>
                <article aria-label={`${a.patient.name}, ${formatSlotTime(a.start, a.timezone)}`}>
                  <div className="row" style={{ gap: 'var(--space-2)' }}>
                    <strong>{a.patient.name}</strong>
                    {status && <Badge tone={status.tone}>{status.label}</Badge>}
                    <Badge tone="warning">Not confirmed</Badge>
                  </div>
                  <div>
                    {formatSlotTime(a.start, a.timezone)}{' '}
                    <span className="muted small">({zoneLabel(a.timezone)})</span>
                  </div>
                  <div className="muted">
                    {a.doctor.name} · {MODE_LABEL[a.mode]}
                  </div>
                </article>
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

/** /appointments for clinic staff (patients get their own page there). */
export function StaffAppointmentsPage() {
  return (
    <Page title="Appointments" description="Appointments that need attention at your center.">
      <UnconfirmedAppointments />
    </Page>
  );
}
