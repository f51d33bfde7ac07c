import { useState, type FormEvent } from 'react';
import { useParams, useSearchParams } from 'react-router-dom';
import { isApiError } from '../../api/client';
import { Alert, Button, Card, ErrorState, LoadingState, Page, TextInput } from '../../components';
import { formatDate, formatDateTime } from '../../lib/format';
import { pharmacyInboxPath, usePharmacyInbox, useVerifyPrescription } from './api';
import { normaliseCode, prescriptionStatusLook } from './format';
import { PrescriptionStatusBadge } from './PrescriptionParts';
import './prescriptions.css';

/** /verify?code=… — anyone (a pharmacist) checks a printed prescription's code. No patient data. */
export function VerifyPage() {
  const [params, setParams] = useSearchParams();
  const code = params.get('code') ?? '';
  const [typed, setTyped] = useState(code);
  const verify = useVerifyPrescription(code);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const next = normaliseCode(typed);
    setTyped(next);
    setParams(next ? { code: next } : {});
  };

  return (
    <Page
      title="Verify a prescription"
      description="Enter the verification code printed on a CareConnect prescription."
    >
      <Card>
        <form onSubmit={submit} className="stack-sm" noValidate>
          <TextInput
            label="Verification code"
            hint="For example K7QX-4M2P-9TRA."
            autoComplete="off"
            spellCheck={false}
            inputClassName="mono"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
          />
          <div className="btn-row">
            <Button type="submit">Verify</Button>
          </div>
        </form>
      </Card>
      {code && <VerifyAnswer code={code} verify={verify} />}
    </Page>
  );
}

function VerifyAnswer({
  code,
  verify,
}: {
  code: string;
  verify: ReturnType<typeof useVerifyPrescription>;
}) {
  if (verify.isPending) return <LoadingState label="Checking the code…" />;
  if (verify.isError) {
    return <ErrorState error={verify.error} onRetry={() => void verify.refetch()} />;
  }
  const result = verify.data;
  if (!result.valid) {
    return (
      <Alert tone="error" title="Not a CareConnect prescription">
        <p>No prescription has the code {code}. Check the code, or contact the prescriber.</p>
      </Alert>
    );
  }
  const active = result.status === 'active';
  const status = prescriptionStatusLook(result.status ?? '').label.toLowerCase();
  return (
    <Alert
      tone={active ? 'success' : 'warning'}
      title={active ? 'Genuine and active' : `Genuine, but ${status}: do not dispense`}
    >
      <dl className="details">
        <div>
          <dt>Status</dt>
          <dd>{prescriptionStatusLook(result.status ?? '').label}</dd>
        </div>
        <div>
          <dt>Prescribed by</dt>
          <dd>
            {result.doctor_name}
            {result.center_name ? `, ${result.center_name}` : ''}
          </dd>
        </div>
        <div>
          <dt>Issued</dt>
          <dd>{formatDate(result.issued_at)}</dd>
        </div>
        <div>
          <dt>Valid until</dt>
          <dd>{formatDate(result.expires_at)}</dd>
        </div>
        <div>
          <dt>Medicines</dt>
          <dd>{result.item_count ?? ''}</dd>
        </div>
      </dl>
    </Alert>
  );
}

/**
 * /pharmacy/rx/:token — where the email sent to a pharmacy leads: the PDF and the FHIR bundle
 * to download (the link works for 14 days).
 */
export function PharmacyInboxPage() {
  const { token = '' } = useParams();
  const inbox = usePharmacyInbox(token);
  const base = pharmacyInboxPath(token);
  return (
    <Page title="Prescription for your pharmacy" heading="A prescription was sent to you">
      {inbox.isPending ? (
        <LoadingState label="Opening the prescription…" />
      ) : inbox.isError ? (
        isApiError(inbox.error) && (inbox.error.status === 404 || inbox.error.status === 410) ? (
          <Alert tone="error" title="This link is not valid">
            <p>
              It may have expired (links work for 14 days) or been cancelled. Ask the patient to
              send the prescription again.
            </p>
          </Alert>
        ) : (
          <ErrorState error={inbox.error} onRetry={() => void inbox.refetch()} />
        )
      ) : (
        <Card title="Prescription">
          <div className="stack-sm">
            <dl className="details">
              <div>
                <dt>Sent to</dt>
                <dd>{inbox.data.pharmacy}</dd>
              </div>
              {inbox.data.status && (
                <div>
                  <dt>Status</dt>
                  <dd>
                    <PrescriptionStatusBadge status={inbox.data.status} />
                  </dd>
                </div>
              )}
              {inbox.data.verification_code && (
                <div>
                  <dt>Verification code</dt>
                  <dd className="mono rx-code">{inbox.data.verification_code}</dd>
                </div>
              )}
              {inbox.data.doctor_name && (
                <div>
                  <dt>Prescribed by</dt>
                  <dd>{inbox.data.doctor_name}</dd>
                </div>
              )}
              {inbox.data.issued_at && (
                <div>
                  <dt>Issued</dt>
                  <dd>{formatDateTime(inbox.data.issued_at)}</dd>
                </div>
              )}
              {inbox.data.expires_at && (
                <div>
                  <dt>Valid until</dt>
                  <dd>{formatDate(inbox.data.expires_at)}</dd>
                </div>
              )}
            </dl>
            <div className="btn-row">
              <a className="btn btn--primary" href={inbox.data.pdf_url || `${base}pdf/`} download>
                Download PDF
              </a>
              <a
                className="btn btn--secondary"
                href={inbox.data.fhir_url || `${base}fhir/`}
                download
              >
                Download FHIR bundle
              </a>
            </div>
            <p className="small muted">Every download is recorded.</p>
          </div>
        </Card>
      )}
    </Page>
  );
}
