import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { api, isApiError } from '../../api/client';
import { queryKeys } from '../../api/keys';
import type {
  BackupCodes as BackupCodesResult,
  MfaSetup,
  OtpInput,
  PasswordInput,
} from '../../api/types';
import {
  Alert,
  Badge,
  Button,
  Card,
  ErrorAlert,
  fieldError,
  Page,
  TextInput,
} from '../../components';
import { backupCodesText } from '../../lib/files';
import { svgDataUrl } from '../../lib/svg';
import { useCurrentUser } from '../auth/session';

export function SecurityPage() {
  const me = useCurrentUser();
  const [backupCodes, setBackupCodes] = useState<string[] | null>(null);

  return (
    <Page
      title="Security"
      heading="Security"
      description="Protect your account and the health information in it."
    >
      {me.mfa_setup_required && !backupCodes && (
        <Alert tone="warning" title="Two-factor authentication is required for your account">
          <p>
            Because staff accounts can see patients' health information, your organisation requires
            two-factor authentication. Set it up below to continue using CareConnect; until then the
            other pages are locked.
          </p>
        </Alert>
      )}
      {backupCodes ? (
        <BackupCodes codes={backupCodes} email={me.email} onDone={() => setBackupCodes(null)} />
      ) : me.mfa_enabled ? (
        <MfaOn />
      ) : (
        <MfaSetupCard onEnabled={setBackupCodes} />
      )}
    </Page>
  );
}

function StatusLine({ on }: { on: boolean }) {
  return (
    <p className="status-line">
      Status: {on ? <Badge tone="success">On</Badge> : <Badge tone="neutral">Off</Badge>}
    </p>
  );
}

function MfaSetupCard({ onEnabled }: { onEnabled: (codes: string[]) => void }) {
  const queryClient = useQueryClient();
  const [otp, setOtp] = useState('');
  const codeRef = useRef<HTMLInputElement>(null);
  const setup = useMutation({
    mutationFn: () => api.post<MfaSetup>('/api/auth/mfa/setup/'),
    onSuccess: () => window.setTimeout(() => codeRef.current?.focus(), 0),
  });
  const enable = useMutation({
    mutationFn: (code: string) =>
      api.post<BackupCodesResult>('/api/auth/mfa/enable/', { otp: code } satisfies OtpInput),
    onSuccess: (data) => {
      onEnabled(data.backup_codes);
      void queryClient.invalidateQueries({ queryKey: queryKeys.me });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    enable.mutate(otp.replace(/\s+/g, ''));
  };

  const enableError = enable.error;
  const otpProblem = isApiError(enableError, 'invalid_otp')
    ? enableError.message
    : fieldError(enableError, 'otp');

  return (
    <Card
      title="Two-factor authentication"
      description="Each time you log in, you'll also enter a code from an authenticator app on your phone (such as Google Authenticator, Microsoft Authenticator or 1Password)."
    >
      <StatusLine on={false} />
      {!setup.data ? (
        <>
          {setup.isError && <ErrorAlert error={setup.error} />}
          <div className="btn-row">
            <Button loading={setup.isPending} onClick={() => setup.mutate()}>
              Set up two-factor authentication
            </Button>
          </div>
        </>
      ) : (
        <ol className="steps">
          <li>
            <h3>Scan this QR code with your authenticator app</h3>
            <img
              className="qr"
              src={svgDataUrl(setup.data.qr_svg)}
              alt="QR code to add CareConnect to your authenticator app"
              width={192}
              height={192}
            />
            <p className="small" style={{ marginTop: 'var(--space-3)' }}>
              Can't scan it? Choose "enter a setup key" in your app and type this key:
            </p>
            <p>
              <code className="secret">{setup.data.secret}</code>{' '}
              <CopyButton text={setup.data.secret} label="Copy key" />
            </p>
          </li>
          <li>
            <h3>Enter the 6-digit code your app shows</h3>
            <form onSubmit={submit}>
              <TextInput
                ref={codeRef}
                label="Verification code"
                name="otp"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9 ]{6,7}"
                maxLength={7}
                required
                inputClassName="input--code"
                value={otp}
                onChange={(e) => setOtp(e.target.value)}
                error={otpProblem}
              />
              {enableError && !otpProblem && (
                <ErrorAlert error={enableError} inlineFields={['otp']} />
              )}
              <div className="btn-row">
                <Button type="submit" loading={enable.isPending}>
                  Turn on two-factor authentication
                </Button>
                <Button
                  variant="ghost"
                  onClick={() => {
                    setOtp('');
                    enable.reset();
                    setup.mutate();
                  }}
                  disabled={setup.isPending}
                >
                  Start again with a new code
                </Button>
              </div>
            </form>
          </li>
        </ol>
      )}
    </Card>
  );
}

function BackupCodes({
  codes,
  email,
  onDone,
}: {
  codes: string[];
  email: string | null;
  onDone: () => void;
}) {
  const download = () => {
    const blob = new Blob([backupCodesText(codes, email)], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = 'careconnect-backup-codes.txt';
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <Card title="Save your backup codes">
      <Alert tone="success" title="Two-factor authentication is on">
        <p>From now on you'll enter a code from your app each time you log in.</p>
      </Alert>
      <p style={{ marginTop: 'var(--space-4)' }}>
        If you lose your phone, you can log in with one of these codes instead. Each code works
        once.
        <strong> This is the only time we'll show them</strong>: copy or download them now and keep
        them somewhere safe.
      </p>
      <ul className="backup-codes" aria-label="Backup codes">
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ul>
      <div className="btn-row">
        <CopyButton text={codes.join('\n')} label="Copy codes" />
        <Button variant="secondary" onClick={download}>
          Download codes
        </Button>
        <span className="spacer" />
        <Button onClick={onDone}>I've saved my codes</Button>
      </div>
    </Card>
  );
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
    window.setTimeout(() => setState('idle'), 2500);
  };
  return (
    <>
      <Button variant="secondary" size="small" onClick={() => void copy()}>
        {label}
      </Button>
      <span role="status" className="small muted">
        {state === 'copied'
          ? ' Copied'
          : state === 'failed'
            ? ' Copy failed: select and copy it by hand'
            : ''}
      </span>
    </>
  );
}

function MfaOn() {
  const queryClient = useQueryClient();
  const [password, setPassword] = useState('');
  const disable = useMutation({
    mutationFn: (value: string) =>
      api.post<void>('/api/auth/mfa/disable/', { password: value } satisfies PasswordInput),
    onSuccess: () => {
      setPassword('');
      void queryClient.invalidateQueries({ queryKey: queryKeys.me });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    disable.mutate(password);
  };
  return (
    <>
      <Card
        title="Two-factor authentication"
        description="You enter a code from your authenticator app (or a backup code) each time you log in."
      >
        <StatusLine on />
      </Card>
      <Card
        title="Turn off two-factor authentication"
        description="Your account will be protected by your password only. Enter your password to confirm."
      >
        <form onSubmit={submit}>
          <TextInput
            label="Password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={fieldError(disable.error, 'password')}
          />
          {disable.error && (
            <div style={{ marginTop: 'var(--space-4)' }}>
              <ErrorAlert
                error={disable.error}
                inlineFields={['password']}
                title={
                  isApiError(disable.error, 'mfa_enforced')
                    ? 'Staff accounts must keep two-factor authentication on'
                    : undefined
                }
              />
            </div>
          )}
          <div className="btn-row">
            <Button type="submit" variant="danger-outline" loading={disable.isPending}>
              Turn off
            </Button>
          </div>
        </form>
      </Card>
    </>
  );
}
