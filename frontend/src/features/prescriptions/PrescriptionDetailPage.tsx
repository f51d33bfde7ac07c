import { useId, useState } from 'react';
import { Link, useLocation, useParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import {
  Alert,
  Badge,
  Button,
  ButtonLink,
  Card,
  Checkbox,
  ErrorAlert,
  ErrorState,
  LoadingState,
  Page,
} from '../../components';
import { formatDate, formatDateTime, fullName } from '../../lib/format';
import { viewerTimeZone, zoneLabel } from '../../lib/zones';
import { useActingFor } from '../acting-for/ActingForContext';
import { isScopeMissing, useAccessEnded } from '../acting-for/useAccessEnded';
import { useCurrentUser } from '../auth/session';
import {
  prescriptionPdfUrl,
  useApproveRefill,
  useCancelPrescription,
  useDeclineRefill,
  usePrescription,
  useRequestRefill,
  useSendToPharmacy,
  useSetReminders,
} from './api';
import {
  asSendStatus,
  isPatientSide,
  isPrescribingDoctor,
  medicinesText,
  refillBlocker,
  refillsLeftText,
  reminderTimesText,
} from './format';
import {
  ItemsTable,
  PrescriptionStatusBadge,
  RefillStatusBadge,
  SendStatusBadge,
  SeverityBadge,
} from './PrescriptionParts';
import { isReauthError, ReauthDialog } from './ReauthDialog';
import { ReasonDialog } from './ReasonDialog';
import { SendToPharmacyDialog } from './SendToPharmacyDialog';
import type { Prescription } from './types';
import './prescriptions.css';

/** /prescriptions/:id — one prescription: its medicines, the PDF, pharmacy, refills, reminders. */
export function PrescriptionDetailPage() {
  const { id = '' } = useParams();
  const { current } = useActingFor();
  return <DetailLoader key={`${id}|${current?.patient.id ?? 'me'}`} id={id} />;
}

function DetailLoader({ id }: { id: string }) {
  const { current } = useActingFor();
  const patientId = current?.patient.id ?? null;
  const prescription = usePrescription(id);
  const ended = useAccessEnded(
    current,
    isApiError(prescription.error, 'grant_inactive') ? prescription.error : null,
  );

  if (prescription.data) {
    return <DetailScreen prescription={prescription.data} patientId={patientId} />;
  }
  if (ended || prescription.isPending) {
    return (
      <Page title="Prescription">
        <LoadingState label="Loading the prescription…" />
      </Page>
    );
  }
  const gone = isApiError(prescription.error) && prescription.error.status === 404;
  return (
    <Page title="Prescription" heading={gone ? 'Prescription not found' : 'Prescription'}>
      {gone ? (
        <p>This prescription does not exist, or it is not one you can see.</p>
      ) : isScopeMissing(prescription.error) && current ? (
        <Alert tone="info" title="You can't see this prescription">
          <p>
            Ask {fullName(current.patient)} to add "View health records" to the access they gave
            you.
          </p>
        </Alert>
      ) : (
        <ErrorState error={prescription.error} onRetry={() => void prescription.refetch()} />
      )}
      <div>
        <ButtonLink to="/prescriptions" variant="secondary">
          All prescriptions
        </ButtonLink>
      </div>
    </Page>
  );
}

type Notice = {
  tone: 'success' | 'info';
  title: string;
  text?: string;
  link?: { to: string; label: string };
};

function DetailScreen({
  prescription,
  patientId,
}: {
  prescription: Prescription;
  patientId: string | null;
}) {
  const me = useCurrentUser();
  const location = useLocation();
  const issued = (location.state as { issued?: boolean } | null)?.issued === true;
  const doctorSide = isPrescribingDoctor(prescription, me);
  const patientSide = isPatientSide(prescription, me, patientId);
  const [notice, setNotice] = useState<Notice | null>(() =>
    issued
      ? {
          tone: 'success',
          title: 'Prescription signed',
          text: `${prescription.patient_name} can see it now, and it was posted to your conversation with them.`,
        }
      : null,
  );
  const heading = patientSide
    ? `Prescription from ${prescription.doctor.name}`
    : `Prescription for ${prescription.patient_name}`;
  const medicines = medicinesText(prescription);

  return (
    <Page
      title={heading}
      heading={heading}
      description={
        <>
          <Link to="/prescriptions">All prescriptions</Link>
          {prescription.conversation && (
            <>
              {' · '}
              <Link to={`/messages/${encodeURIComponent(prescription.conversation)}`}>
                Open the conversation
              </Link>
            </>
          )}
        </>
      }
    >
      {notice && (
        <Alert tone={notice.tone} title={notice.title}>
          {notice.text && <p>{notice.text}</p>}
          {notice.link && (
            <p>
              <Link to={notice.link.to}>{notice.link.label}</Link>
            </p>
          )}
        </Alert>
      )}

      <Card title="Details">
        <dl className="details">
          <div>
            <dt>Status</dt>
            <dd>
              <PrescriptionStatusBadge status={prescription.status} />
            </dd>
          </div>
          <div>
            <dt>Verification code</dt>
            <dd className="mono rx-code">{prescription.verification_code}</dd>
          </div>
          <div>
            <dt>Issued</dt>
            <dd>{formatDateTime(prescription.issued_at)}</dd>
          </div>
          <div>
            <dt>{prescription.status === 'expired' ? 'Expired' : 'Valid until'}</dt>
            <dd>{formatDate(prescription.expires_at)}</dd>
          </div>
          <div>
            <dt>Doctor</dt>
            <dd>
              {prescription.doctor.name}
              {prescription.doctor.center && (
                <span className="muted">, {prescription.doctor.center}</span>
              )}
              {prescription.doctor.license_number && (
                <span className="muted small rx-block">
                  Licence {prescription.doctor.license_number}
                </span>
              )}
            </dd>
          </div>
          <div>
            <dt>Patient</dt>
            <dd>{prescription.patient_name}</dd>
          </div>
          <div>
            <dt>Refills</dt>
            <dd>{refillsLeftText(prescription.refills_left)}</dd>
          </div>
          {(prescription.refill_of || prescription.renewal) && (
            <div>
              <dt>Related</dt>
              <dd className="stack-sm">
                {prescription.refill_of && (
                  <span className="rx-block">
                    A refill of{' '}
                    <Link to={`/prescriptions/${encodeURIComponent(prescription.refill_of)}`}>
                      the earlier prescription
                    </Link>
                  </span>
                )}
                {prescription.renewal && (
                  <span className="rx-block">
                    Refilled as{' '}
                    <Link to={`/prescriptions/${encodeURIComponent(prescription.renewal)}`}>
                      a newer prescription
                    </Link>
                  </span>
                )}
              </dd>
            </div>
          )}
          {prescription.status === 'cancelled' && prescription.cancel_reason && (
            <div>
              <dt>Why it was cancelled</dt>
              <dd>{prescription.cancel_reason}</dd>
            </div>
          )}
        </dl>
      </Card>

      <Card title="Medicines">
        <ItemsTable items={prescription.items} caption={`Medicines: ${medicines}`} />
      </Card>

      <Actions
        prescription={prescription}
        patientId={patientId}
        patientSide={patientSide}
        doctorSide={doctorSide}
        onNotice={setNotice}
      />

      {doctorSide && prescription.overrides.length > 0 && (
        <Card title="Safety warnings you overrode">
          <ul className="rx-findings">
            {prescription.overrides.map((override) => (
              <li key={override.finding} className={`rx-finding rx-finding--${override.severity}`}>
                <div className="row" style={{ gap: 'var(--space-2)' }}>
                  <SeverityBadge severity={override.severity} />
                  <span>{override.message}</span>
                </div>
                <p className="small">Reason: {override.reason}</p>
              </li>
            ))}
          </ul>
        </Card>
      )}

      {patientSide && <Reminders prescription={prescription} />}

      <Card title="Sent to pharmacies">
        {prescription.sends.length === 0 ? (
          <p className="muted">Not sent to a pharmacy yet.</p>
        ) : (
          <ul className="item-list">
            {prescription.sends.map((send) => {
              const status = asSendStatus(send.status);
              return (
                <li key={send.id}>
                  <div className="item-list__main">
                    <p className="item-list__title">{send.pharmacy.name}</p>
                    <p className="item-list__meta">{formatDateTime(send.created_at)}</p>
                  </div>
                  {status ? <SendStatusBadge status={status} /> : <Badge>{send.status}</Badge>}
                </li>
              );
            })}
          </ul>
        )}
      </Card>
    </Page>
  );
}

// ------------------------------------------------------------------ actions

function Actions({
  prescription,
  patientId,
  patientSide,
  doctorSide,
  onNotice,
}: {
  prescription: Prescription;
  patientId: string | null;
  patientSide: boolean;
  doctorSide: boolean;
  onNotice: (notice: Notice | null) => void;
}) {
  const refill = useRequestRefill(prescription.id);
  const send = useSendToPharmacy(prescription.id);
  const cancel = useCancelPrescription(prescription.id);
  const approve = useApproveRefill();
  const decline = useDeclineRefill();
  const [dialog, setDialog] = useState<'send' | 'cancel' | 'approve' | 'decline' | null>(null);
  const [pageError, setPageError] = useState<{ title: string; error: unknown } | null>(null);
  const refillReasonId = useId();

  const active = prescription.status === 'active';
  const blocker = refillBlocker(prescription);
  const pending =
    prescription.refill_request?.status === 'pending' ? prescription.refill_request : null;
  const request = prescription.refill_request;

  const close = () => setDialog(null);
  const failed = (title: string) => (error: unknown) => {
    setPageError({ title, error });
  };

  return (
    <Card title="What you can do">
      <div className="stack-sm">
        {pageError && <ErrorAlert error={pageError.error} title={pageError.title} />}
        {request && (
          <div className="row" style={{ gap: 'var(--space-2)' }}>
            <span>Refill requested on {formatDate(request.requested_at)}:</span>
            <RefillStatusBadge status={request.status} />
            {request.status === 'declined' && request.decline_reason && (
              <span className="rx-block small">Reason: {request.decline_reason}</span>
            )}
          </div>
        )}
        <div className="btn-row rx-actions">
          <a className="btn btn--secondary" href={prescriptionPdfUrl(prescription)} download>
            Download PDF
          </a>
          {patientSide && (prescription.can_send ?? active) && (
            <Button
              onClick={() => {
                setPageError(null);
                onNotice(null);
                send.reset();
                setDialog('send');
              }}
            >
              Send to pharmacy
            </Button>
          )}
          {patientSide && (
            <Button
              variant="secondary"
              disabled={!!blocker}
              loading={refill.isPending}
              aria-describedby={blocker ? refillReasonId : undefined}
              onClick={() => {
                setPageError(null);
                refill.mutate(undefined, {
                  onSuccess: () =>
                    onNotice({
                      tone: 'success',
                      title: 'Refill requested',
                      text: `${prescription.doctor.name} will decide. You will see the answer here and in your conversation.`,
                    }),
                  onError: failed('The refill was not requested'),
                });
              }}
            >
              Request refill
            </Button>
          )}
          {pending && (prescription.can_decide_refill ?? doctorSide) && (
            <>
              <Button
                onClick={() => {
                  setPageError(null);
                  approve.reset();
                  setDialog('approve');
                }}
              >
                Approve refill
              </Button>
              <Button
                variant="danger-outline"
                onClick={() => {
                  setPageError(null);
                  decline.reset();
                  setDialog('decline');
                }}
              >
                Decline refill
              </Button>
            </>
          )}
          {doctorSide && prescription.can_cancel && (
            <Button
              variant="danger-outline"
              onClick={() => {
                setPageError(null);
                cancel.reset();
                setDialog('cancel');
              }}
            >
              Cancel prescription
            </Button>
          )}
        </div>
        {patientSide && blocker && (
          <p className="muted small" id={refillReasonId}>
            Refill not available: {blocker}
          </p>
        )}
      </div>

      <SendToPharmacyDialog
        open={dialog === 'send'}
        patientId={patientId}
        patientName={patientId ? prescription.patient_name : null}
        medicines={medicinesText(prescription)}
        busy={send.isPending}
        error={send.error}
        onClose={close}
        onSend={(pharmacy) =>
          send.mutate(pharmacy?.id ?? null, {
            onSuccess: () => {
              close();
              onNotice({
                tone: 'success',
                title: 'Sent to the pharmacy',
                text: pharmacy
                  ? `${pharmacy.name} will receive the prescription shortly.`
                  : 'Your preferred pharmacy will receive the prescription shortly.',
              });
            },
          })
        }
      />
      <ReasonDialog
        open={dialog === 'cancel'}
        title="Cancel prescription"
        description={`${prescription.patient_name} and any pharmacy it was sent to can no longer use it. This cannot be undone.`}
        label="Reason for cancelling"
        hint={`${prescription.patient_name} sees this reason.`}
        confirmLabel="Confirm cancellation"
        busy={cancel.isPending}
        error={cancel.error}
        onClose={close}
        onConfirm={(reason) =>
          cancel.mutate(reason, {
            onSuccess: () => {
              close();
              onNotice({ tone: 'info', title: 'Prescription cancelled' });
            },
          })
        }
      />
      <ReasonDialog
        open={dialog === 'decline'}
        title="Decline refill"
        description={`${prescription.patient_name} asked for a refill of ${medicinesText(prescription)}.`}
        label="Reason for declining"
        hint={`${prescription.patient_name} sees this reason in your conversation.`}
        confirmLabel="Confirm decline"
        busy={decline.isPending}
        error={decline.error}
        onClose={close}
        onConfirm={(reason) =>
          pending &&
          decline.mutate(
            { refillId: pending.id, reason },
            {
              onSuccess: () => {
                close();
                onNotice({ tone: 'info', title: 'Refill declined' });
              },
            },
          )
        }
      />
      <ReauthDialog
        open={dialog === 'approve'}
        busy={approve.isPending}
        error={isReauthError(approve.error) ? approve.error : null}
        summary={
          <p>
            Approving issues a new prescription for <strong>{prescription.patient_name}</strong>,
            signed by you: {medicinesText(prescription)}.
          </p>
        }
        onClose={close}
        onConfirm={(auth) =>
          pending &&
          approve.mutate(
            { refillId: pending.id, auth },
            {
              onSuccess: (answer) => {
                close();
                const newId =
                  answer &&
                  typeof answer === 'object' &&
                  typeof (answer as Prescription).id === 'string'
                    ? (answer as Prescription).id
                    : null;
                onNotice({
                  tone: 'success',
                  title: 'Refill approved',
                  text: 'A new prescription was issued and posted to your conversation.',
                  link:
                    newId && newId !== prescription.id
                      ? {
                          to: `/prescriptions/${encodeURIComponent(newId)}`,
                          label: 'See the new prescription',
                        }
                      : undefined,
                });
              },
              onError: (error) => {
                if (isReauthError(error)) return;
                close();
                failed('The refill was not approved')(error);
              },
            },
          )
        }
      />
    </Card>
  );
}

// ------------------------------------------------------------------ reminders

function Reminders({ prescription }: { prescription: Prescription }) {
  const set = useSetReminders(prescription.id);
  const viewerZone = viewerTimeZone();
  // Times are kept in the zone chosen when they were turned on (this device's, when turning on).
  const zone =
    prescription.reminders_enabled && prescription.reminder_timezone
      ? prescription.reminder_timezone
      : viewerZone;
  const times = prescription.reminder_times;
  const active = prescription.status === 'active';
  // What was just chosen shows at once; the server's answer replaces it.
  const [chosen, setChosen] = useState<boolean | null>(null);
  const enabled = chosen ?? prescription.reminders_enabled;
  return (
    <Card title="Reminders">
      <div className="stack-sm">
        <Checkbox
          label="Medication reminders"
          description={
            times.length > 0
              ? `A reminder at ${reminderTimesText(times)} each day (${zoneLabel(zone)}), while the prescription is active.`
              : 'This medicine is taken as needed, so there are no set times to remind you.'
          }
          checked={enabled}
          disabled={!active || (times.length === 0 && !prescription.reminders_enabled)}
          onChange={(event) => {
            if (set.isPending) return;
            const next = event.target.checked;
            setChosen(next);
            set.mutate(
              { enabled: next, timezone: viewerZone },
              { onSettled: () => setChosen(null) },
            );
          }}
        />
        {!active && (
          <p className="muted small">Reminders stop when a prescription is no longer active.</p>
        )}
        {set.error && <ErrorAlert error={set.error} title="The reminders were not changed" />}
      </div>
    </Card>
  );
}
