import { useId, useState, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import {
  Alert,
  Badge,
  ButtonLink,
  Card,
  EmptyState,
  ErrorState,
  LoadingState,
  Page,
  Select,
} from '../../components';
import { formatDate, fullName } from '../../lib/format';
import { hasRole } from '../../lib/roles';
import { useActingFor } from '../acting-for/ActingForContext';
import { isScopeMissing, useAccessEnded } from '../acting-for/useAccessEnded';
import { useCurrentUser } from '../auth/session';
import { useDoctorPatients } from '../schedule/api';
import { usePreferredPharmacy, usePrescriptions } from './api';
import { medicineLine, PRESCRIPTION_STATUS, refillsLeftText, sortPrescriptions } from './format';
import { PrescriptionStatusBadge } from './PrescriptionParts';
import type { Prescription, PrescriptionStatus } from './types';
import './prescriptions.css';

const STATUS_FILTERS: { value: PrescriptionStatus | ''; label: string }[] = [
  { value: '', label: 'All prescriptions' },
  ...(Object.keys(PRESCRIPTION_STATUS) as PrescriptionStatus[]).map((value) => ({
    value,
    label: PRESCRIPTION_STATUS[value].label,
  })),
];

/** /prescriptions — a patient's (or the acted-for patient's) prescriptions; a doctor's issued. */
export function PrescriptionsPage() {
  const me = useCurrentUser();
  const { current } = useActingFor();
  const doctorView = hasRole(me, 'doctor') && !current;
  const name = current ? fullName(current.patient) : null;
  const title = doctorView
    ? 'Prescriptions'
    : name
      ? `${name}'s prescriptions`
      : 'My prescriptions';
  return (
    <Page
      title={title}
      heading={title}
      description={
        doctorView
          ? 'Prescriptions you issued, active first.'
          : 'Active prescriptions first. Download them, send them to a pharmacy or ask for a refill.'
      }
      actions={
        doctorView ? (
          <ButtonLink to="/prescribe" size="small">
            Write a prescription
          </ButtonLink>
        ) : undefined
      }
    >
      {doctorView ? (
        <DoctorPrescriptions doctorId={me.doctor ?? ''} />
      ) : (
        <PatientPrescriptions key={current?.patient.id ?? 'me'} />
      )}
    </Page>
  );
}

function PatientPrescriptions() {
  const { current } = useActingFor();
  const patientId = current?.patient.id ?? null;
  const [status, setStatus] = useState<PrescriptionStatus | ''>('');
  const list = usePrescriptions(patientId, status);
  const ended = useAccessEnded(current, list.error);

  if (ended) return <LoadingState />;
  if (list.isError && isScopeMissing(list.error) && current) {
    return (
      <Alert tone="info" title="You can't see these prescriptions">
        <p>
          Ask {fullName(current.patient)} to add "View health records" to the access they gave you.
        </p>
      </Alert>
    );
  }
  return (
    <>
      <PreferredPharmacyCard patientId={patientId} />
      <PrescriptionListCard
        list={list}
        status={status}
        onStatus={setStatus}
        showPatient={false}
        empty={
          status
            ? 'No prescriptions with this status.'
            : 'When your doctor prescribes something, it shows here and in your conversation with them.'
        }
      />
    </>
  );
}

function DoctorPrescriptions({ doctorId }: { doctorId: string }) {
  const [patient, setPatient] = useState('');
  const [status, setStatus] = useState<PrescriptionStatus | ''>('');
  const patients = useDoctorPatients(doctorId, '');
  const list = usePrescriptions(patient || null, status);
  return (
    <PrescriptionListCard
      list={list}
      status={status}
      onStatus={setStatus}
      showPatient
      filters={
        <Select
          label="Patient"
          value={patient}
          onChange={(event) => setPatient(event.target.value)}
          options={[
            { value: '', label: 'All patients' },
            ...(patients.data ?? []).map((p) => ({ value: p.id, label: p.name })),
          ]}
        />
      }
      empty={
        patient || status
          ? 'No prescriptions match these filters.'
          : 'Prescriptions you sign show here. Write one from a consult, the conversation with a patient or your week.'
      }
    />
  );
}

function PreferredPharmacyCard({ patientId }: { patientId: string | null }) {
  const preferred = usePreferredPharmacy(patientId);
  return (
    <Card
      title="Preferred pharmacy"
      actions={
        <ButtonLink to="/settings/pharmacy" variant="secondary" size="small">
          {preferred.data?.pharmacy ? 'Change pharmacy' : 'Choose a pharmacy'}
        </ButtonLink>
      }
    >
      {preferred.isPending ? (
        <p className="muted">Loading…</p>
      ) : preferred.isError ? (
        <p className="muted">We could not load the preferred pharmacy.</p>
      ) : preferred.data.pharmacy ? (
        <p>
          <strong>{preferred.data.pharmacy.name}</strong>
          <span className="muted">
            {' '}
            ·{' '}
            {[preferred.data.pharmacy.address, preferred.data.pharmacy.city]
              .filter(Boolean)
              .join(', ')}
          </span>
        </p>
      ) : (
        <p className="muted">None yet. Choose one to send prescriptions to it in one step.</p>
      )}
    </Card>
  );
}

function PrescriptionListCard({
  list,
  status,
  onStatus,
  showPatient,
  filters,
  empty,
}: {
  list: ReturnType<typeof usePrescriptions>;
  status: PrescriptionStatus | '';
  onStatus: (status: PrescriptionStatus | '') => void;
  showPatient: boolean;
  filters?: ReactNode;
  empty: string;
}) {
  return (
    <Card title="Prescriptions">
      <div className="form-grid form-grid--2 rx-filters">
        {filters}
        <Select
          label="Status"
          value={status}
          onChange={(event) => onStatus(event.target.value as PrescriptionStatus | '')}
          options={STATUS_FILTERS}
        />
      </div>
      {list.isPending ? (
        <LoadingState label="Loading prescriptions…" />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.results.length === 0 ? (
        <EmptyState title="No prescriptions yet">{empty}</EmptyState>
      ) : (
        <ul className="item-list rx-list" aria-busy={list.isFetching || undefined}>
          {sortPrescriptions(list.data.results).map((prescription) => (
            <PrescriptionRow
              key={prescription.id}
              prescription={prescription}
              showPatient={showPatient}
            />
          ))}
        </ul>
      )}
    </Card>
  );
}

function PrescriptionRow({
  prescription,
  showPatient,
}: {
  prescription: Prescription;
  showPatient: boolean;
}) {
  const headingId = useId();
  const medicines = prescription.items.map(medicineLine);
  const title = medicines.join(', ') || 'Prescription';
  const active = prescription.status === 'active';
  return (
    <li aria-labelledby={headingId}>
      <div className="item-list__main stack-sm">
        <div className="row" style={{ gap: 'var(--space-2)' }}>
          <h3 id={headingId} className="item-list__title rx-row-title">
            <Link to={`/prescriptions/${encodeURIComponent(prescription.id)}`}>{title}</Link>
          </h3>
          <PrescriptionStatusBadge status={prescription.status} />
          {prescription.refill_request?.status === 'pending' && (
            <Badge tone="warning">Refill requested</Badge>
          )}
        </div>
        <p className="item-list__meta">
          {[
            showPatient ? `For ${prescription.patient_name}` : null,
            prescription.doctor.name,
            `issued ${formatDate(prescription.issued_at)}`,
            refillsLeftText(prescription.refills_left),
            active && prescription.expires_at
              ? `valid until ${formatDate(prescription.expires_at)}`
              : null,
          ]
            .filter(Boolean)
            .join(' · ')}
        </p>
      </div>
    </li>
  );
}
