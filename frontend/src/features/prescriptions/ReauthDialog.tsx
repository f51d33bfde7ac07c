import { useState, type FormEvent, type ReactNode } from 'react';
import { isApiError } from '../../api/client';
import { Button, Dialog, ErrorAlert, TextInput } from '../../components';
import { reauthPayload, type ReauthMode } from './format';
import type { Reauth } from './types';

/**
 * The server refused the password or code, or too many wrong ones locked signing for a while:
 * the dialog shows these itself (at the field, or above it for the lockout).
 */
export function isReauthError(error: unknown): boolean {
  return (
    isApiError(error, 'reauth_failed') ||
    isApiError(error, 'reauth_required') ||
    isApiError(error, 'throttled')
  );
}

/**
 * "Confirm it's you": signing (and approving a refill, which signs a new prescription) asks
 * again for the doctor's password, or a current authenticator or backup code.
 */
export function ReauthDialog({
  open,
  title = "Confirm it's you",
  summary,
  confirmLabel = 'Confirm and sign',
  busy,
  error,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title?: string;
  /** What is being signed, above the password. */
  summary?: ReactNode;
  confirmLabel?: string;
  busy: boolean;
  /** The last attempt's error: a re-auth problem shows at the field, anything else above. */
  error: unknown;
  onConfirm: (auth: Reauth) => void;
  onClose: () => void;
}) {
  return (
    <Dialog open={open} title={title} busy={busy} onClose={onClose}>
      {open && (
        <ReauthForm
          summary={summary}
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

function ReauthForm({
  summary,
  confirmLabel,
  busy,
  error,
  onConfirm,
  onClose,
}: {
  summary?: ReactNode;
  confirmLabel: string;
  busy: boolean;
  error: unknown;
  onConfirm: (auth: Reauth) => void;
  onClose: () => void;
}) {
  const [mode, setMode] = useState<ReauthMode>('password');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  // A server error belongs to the attempt that caused it: typing again hides it.
  const [shownError, setShownError] = useState<unknown>(null);
  const [lastError, setLastError] = useState<unknown>(error);
  if (error !== lastError) {
    setLastError(error);
    setShownError(error);
  }

  const reauthProblem = isApiError(shownError, 'reauth_failed')
    ? mode === 'password'
      ? 'That password is not right. Try again.'
      : 'That code is not right or has expired. Try again.'
    : isApiError(shownError, 'reauth_required')
      ? mode === 'password'
        ? 'Enter your password.'
        : 'Enter a code from your authenticator app.'
      : null;
  // Too many wrong answers: the server says for how long (shown above the field).
  const locked = isApiError(shownError, 'throttled');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const auth = reauthPayload(mode, mode === 'password' ? password : code);
    if (!auth) {
      setProblem(
        mode === 'password' ? 'Enter your password.' : 'Enter a code from your authenticator app.',
      );
      return;
    }
    setProblem(null);
    onConfirm(auth);
  };

  const switchMode = () => {
    setMode((m) => (m === 'password' ? 'otp' : 'password'));
    setProblem(null);
    setShownError(null);
  };

  return (
    <form onSubmit={submit} className="stack-sm" noValidate>
      {summary}
      <p className="muted small">
        Signing is a legal act: enter your password again
        {mode === 'otp' ? ', or a code from your authenticator app' : ''} to confirm it is you.
      </p>
      {!!shownError && (locked || !isReauthError(shownError)) && (
        <ErrorAlert error={shownError} title="Not signed" />
      )}
      {mode === 'password' ? (
        <TextInput
          key="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          autoFocus
          value={password}
          onChange={(event) => {
            setPassword(event.target.value);
            setProblem(null);
            setShownError(null);
          }}
          error={problem ?? reauthProblem ?? undefined}
        />
      ) : (
        <TextInput
          key="otp"
          label="Authentication code"
          hint="The 6-digit code from your authenticator app, or one of your backup codes."
          inputMode="numeric"
          autoComplete="one-time-code"
          autoFocus
          value={code}
          onChange={(event) => {
            setCode(event.target.value);
            setProblem(null);
            setShownError(null);
          }}
          error={problem ?? reauthProblem ?? undefined}
        />
      )}
      <p>
        <Button variant="ghost" size="small" onClick={switchMode}>
          {mode === 'password' ? 'Use an authenticator code instead' : 'Use your password instead'}
        </Button>
      </p>
      <div className="btn-row row-end">
        <Button variant="secondary" onClick={onClose} disabled={busy}>
          Back
        </Button>
        <Button type="submit" loading={busy}>
          {confirmLabel}
        </Button>
      </div>
    </form>
  );
}
