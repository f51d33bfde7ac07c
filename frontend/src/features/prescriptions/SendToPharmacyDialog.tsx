import { useId, useState, type FormEvent } from 'react';
import { isApiError } from '../../api/client';
import { Button, Checkbox, Dialog, ErrorAlert, ErrorState, LoadingState } from '../../components';
import { usePreferredPharmacy, useSetPreferredPharmacy } from './api';
import { CHANNEL_TEXT, PharmacyDetails, PharmacyPicker } from './PharmacyPicker';
import type { Pharmacy } from './types';

/**
 * "Send to pharmacy": the preferred pharmacy, or one chosen from the directory (optionally made
 * the preferred one). The caller sends (REST on the prescription's page, the chat action from
 * a card) and passes its pending state and error back.
 */
export function SendToPharmacyDialog({
  open,
  patientId,
  patientName,
  medicines,
  busy,
  error,
  onSend,
  onClose,
}: {
  open: boolean;
  /** The patient acted for (null: the signed-in patient). */
  patientId: string | null;
  patientName?: string | null;
  /** "Amoxicillin 500 mg capsule" (what is being sent). */
  medicines?: string;
  busy: boolean;
  error: unknown;
  /** `pharmacy` null: the preferred one (the server's default). */
  onSend: (pharmacy: Pharmacy | null) => void;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={open}
      title="Send to pharmacy"
      wide
      busy={busy}
      onClose={onClose}
      description={medicines ? `Prescription: ${medicines}.` : undefined}
    >
      {open && (
        <SendForm
          patientId={patientId}
          patientName={patientName ?? null}
          busy={busy}
          error={error}
          onSend={onSend}
          onClose={onClose}
        />
      )}
    </Dialog>
  );
}

function SendForm({
  patientId,
  patientName,
  busy,
  error,
  onSend,
  onClose,
}: {
  patientId: string | null;
  patientName: string | null;
  busy: boolean;
  error: unknown;
  onSend: (pharmacy: Pharmacy | null) => void;
  onClose: () => void;
}) {
  const preferred = usePreferredPharmacy(patientId);
  const setPreferred = useSetPreferredPharmacy(patientId);
  const [choice, setChoice] = useState<'preferred' | 'other' | null>(null);
  const [picked, setPicked] = useState<Pharmacy | null>(null);
  const [makePreferred, setMakePreferred] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const radioName = useId();

  if (preferred.isPending) return <LoadingState label="Loading your pharmacy…" />;
  if (preferred.isError) {
    return <ErrorState error={preferred.error} onRetry={() => void preferred.refetch()} />;
  }
  const current = preferred.data.pharmacy;
  const mode = choice ?? (current ? 'preferred' : 'other');
  const target = mode === 'preferred' ? current : picked;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!target) {
      setProblem('Choose a pharmacy from the list.');
      return;
    }
    setProblem(null);
    const send = () => onSend(mode === 'preferred' ? null : target);
    if (mode === 'other' && makePreferred && target.id !== current?.id) {
      setPreferred.mutate(target.id, { onSuccess: send });
    } else {
      send();
    }
  };

  const whose = patientName ? `${patientName}'s` : 'your';
  const pending = busy || setPreferred.isPending;

  return (
    <form onSubmit={submit} className="stack-sm" noValidate>
      {!!error && (
        <ErrorAlert
          error={error}
          title={
            isApiError(error, 'no_pharmacy')
              ? 'Choose a pharmacy'
              : isApiError(error, 'prescription_not_active')
                ? 'This prescription is no longer active'
                : 'Not sent'
          }
        />
      )}
      {setPreferred.error && (
        <ErrorAlert error={setPreferred.error} title="The preferred pharmacy was not saved" />
      )}
      {current && (
        <fieldset className="stack-sm">
          <legend className="field__label">Where to send it</legend>
          <label className="checkbox">
            <input
              type="radio"
              name={radioName}
              checked={mode === 'preferred'}
              onChange={() => setChoice('preferred')}
            />
            <span className="checkbox__text">
              <span className="checkbox__label">Preferred pharmacy: {current.name}</span>
              <span className="checkbox__description">
                <PharmacyDetails pharmacy={current} />
              </span>
            </span>
          </label>
          <label className="checkbox">
            <input
              type="radio"
              name={radioName}
              checked={mode === 'other'}
              onChange={() => setChoice('other')}
            />
            <span className="checkbox__text">
              <span className="checkbox__label">Another pharmacy</span>
              <span className="checkbox__description">Search the pharmacy directory.</span>
            </span>
          </label>
        </fieldset>
      )}
      {!current && (
        <p className="muted">
          {patientName ? `${patientName} has` : 'You have'} no preferred pharmacy yet. Choose one
          from the directory.
        </p>
      )}
      {mode === 'other' && (
        <>
          <PharmacyPicker
            value={picked?.id ?? ''}
            preferredId={current?.id}
            onChange={(pharmacy) => {
              setPicked(pharmacy);
              setProblem(null);
            }}
            error={problem ?? undefined}
          />
          <Checkbox
            compact
            label={
              patientName
                ? `Make this ${patientName}'s preferred pharmacy`
                : 'Make this my preferred pharmacy'
            }
            checked={makePreferred}
            onChange={(event) => setMakePreferred(event.target.checked)}
          />
        </>
      )}
      {target && <p className="small muted">{CHANNEL_TEXT[target.channel] ?? ''}</p>}
      <p className="small muted">
        The pharmacy receives the prescription to dispense it; {whose} care team sees that it was
        sent.
      </p>
      <div className="btn-row row-end">
        <Button variant="secondary" onClick={onClose} disabled={pending}>
          Back
        </Button>
        <Button type="submit" loading={pending}>
          Send prescription
        </Button>
      </div>
    </form>
  );
}
