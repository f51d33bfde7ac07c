import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { Alert, Button, Card, ErrorAlert, ErrorState, LoadingState, Page } from '../../components';
import { fullName } from '../../lib/format';
import { useActingFor } from '../acting-for/ActingForContext';
import { isScopeMissing, useAccessEnded } from '../acting-for/useAccessEnded';
import { usePreferredPharmacy, useSetPreferredPharmacy } from './api';
import { CHANNEL_TEXT, PharmacyDetails, PharmacyPicker } from './PharmacyPicker';
import type { Pharmacy } from './types';
import './prescriptions.css';

/** /settings/pharmacy — the preferred pharmacy (of the patient, or of the one acted for). */
export function PharmacySettingsPage() {
  const { current } = useActingFor();
  const name = current ? fullName(current.patient) : null;
  const title = name ? `${name}'s pharmacy` : 'My pharmacy';
  return (
    <Page
      title={title}
      heading={title}
      description="Prescriptions are sent to the preferred pharmacy unless you choose another one."
    >
      <PharmacySettings key={current?.patient.id ?? 'me'} />
    </Page>
  );
}

function PharmacySettings() {
  const { current } = useActingFor();
  const patientId = current?.patient.id ?? null;
  const preferred = usePreferredPharmacy(patientId);
  const save = useSetPreferredPharmacy(patientId);
  const ended = useAccessEnded(current, preferred.error);
  const [picked, setPicked] = useState<Pharmacy | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  if (ended) return <LoadingState />;
  if (preferred.isPending) return <LoadingState label="Loading the pharmacy…" />;
  if (preferred.isError) {
    if (isScopeMissing(preferred.error) && current) {
      return (
        <Alert tone="info" title="You can't choose a pharmacy for them">
          <p>
            Ask {fullName(current.patient)} to add "View health records" to the access they gave
            you.
          </p>
        </Alert>
      );
    }
    return <ErrorState error={preferred.error} onRetry={() => void preferred.refetch()} />;
  }
  const currentPharmacy = preferred.data.pharmacy;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!picked) {
      setProblem('Choose a pharmacy from the list.');
      return;
    }
    setProblem(null);
    save.mutate(picked.id, { onSuccess: () => setSaved(picked.name) });
  };

  return (
    <>
      {saved && (
        <Alert tone="success" title="Preferred pharmacy saved">
          <p>
            Prescriptions go to {saved} when sent.{' '}
            <Link to="/prescriptions">See prescriptions</Link>
          </p>
        </Alert>
      )}
      <Card title="Preferred pharmacy">
        {currentPharmacy ? (
          <div className="stack-sm">
            <PharmacyDetails pharmacy={currentPharmacy} />
            <p className="small muted">{CHANNEL_TEXT[currentPharmacy.channel] ?? ''}</p>
          </div>
        ) : (
          <p className="muted">None chosen yet.</p>
        )}
      </Card>
      <Card title={currentPharmacy ? 'Choose another pharmacy' : 'Choose a pharmacy'}>
        <form onSubmit={submit} noValidate className="stack-sm">
          <PharmacyPicker
            value={picked?.id ?? ''}
            preferredId={currentPharmacy?.id}
            legend="Pharmacy directory"
            onChange={(pharmacy) => {
              setPicked(pharmacy);
              setProblem(null);
              setSaved(null);
            }}
            error={problem ?? undefined}
          />
          {save.error && <ErrorAlert error={save.error} title="Not saved" />}
          <div className="btn-row">
            <Button type="submit" loading={save.isPending}>
              Save preferred pharmacy
            </Button>
          </div>
        </form>
      </Card>
    </>
  );
}
