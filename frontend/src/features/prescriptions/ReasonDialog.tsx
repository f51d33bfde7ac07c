import { useState, type FormEvent, type ReactNode } from 'react';
import { Button, Dialog, ErrorAlert, TextArea, fieldError } from '../../components';

export const MAX_REASON = 500;

/** A dialog asking for a required reason (cancelling a prescription, declining a refill). */
export function ReasonDialog({
  open,
  title,
  description,
  label,
  hint,
  confirmLabel,
  busy,
  error,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  description?: ReactNode;
  label: string;
  hint?: string;
  confirmLabel: string;
  busy: boolean;
  error: unknown;
  onConfirm: (reason: string) => void;
  onClose: () => void;
}) {
  return (
    <Dialog open={open} title={title} description={description} busy={busy} onClose={onClose}>
      {open && (
        <ReasonForm
          label={label}
          hint={hint}
          confirmLabel={confirmLabel}
          busy={busy}
          error={error}
          onConfirm={onConfirm}
          onClose={onClose}
        />
      )}
    </Dialog>
  );
}

function ReasonForm({
  label,
  hint,
  confirmLabel,
  busy,
  error,
  onConfirm,
  onClose,
}: {
  label: string;
  hint?: string;
  confirmLabel: string;
  busy: boolean;
  error: unknown;
  onConfirm: (reason: string) => void;
  onClose: () => void;
}) {
  const [reason, setReason] = useState('');
  const [checked, setChecked] = useState(false);
  const trimmed = reason.trim();
  const problem = !trimmed
    ? 'A reason is required.'
    : trimmed.length > MAX_REASON
      ? `At most ${MAX_REASON} characters.`
      : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (problem) return;
    onConfirm(trimmed);
  };

  return (
    <form onSubmit={submit} noValidate>
      {!!error && <ErrorAlert error={error} title="That did not work" inlineFields={['reason']} />}
      <TextArea
        label={label}
        hint={hint}
        rows={3}
        required
        autoFocus
        value={reason}
        onChange={(event) => setReason(event.target.value)}
        error={(checked ? problem : null) ?? fieldError(error, 'reason')}
      />
      <div className="btn-row row-end">
        <Button variant="secondary" onClick={onClose} disabled={busy}>
          Back
        </Button>
        <Button type="submit" variant="danger" loading={busy}>
          {confirmLabel}
        </Button>
      </div>
    </form>
  );
}
