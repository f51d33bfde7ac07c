import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../../api/client';
import type { PasswordResetConfirmInput } from '../../api/types';
import { Alert, ButtonLink, Card, fieldError, FormFooter, Page, TextInput } from '../../components';
import { NewPasswordField } from './AccountFields';

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const reset = useMutation({
    mutationFn: (value: PasswordResetConfirmInput) =>
      api.post<void>('/api/auth/password-reset/confirm/', value),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== confirmation) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    reset.mutate({ token, password });
  };

  if (!token) {
    return (
      <Page title="Choose a new password" heading="This reset link is incomplete">
        <Alert tone="error">
          <p>
            The link is missing its token. Open the link from your email again, or ask for a new
            one.
          </p>
        </Alert>
        <ButtonLink to="/forgot-password">Request a new link</ButtonLink>
      </Page>
    );
  }

  if (reset.isSuccess) {
    return (
      <Page title="Password changed">
        <Alert tone="success" title="Your password has been changed">
          <p>You can now log in with your new password.</p>
        </Alert>
        <ButtonLink to="/login">Log in</ButtonLink>
      </Page>
    );
  }

  const error = reset.error;
  const tokenProblem = error && 'code' in error && error.code === 'invalid_token';
  return (
    <Page title="Choose a new password">
      <Card>
        <form onSubmit={submit}>
          <NewPasswordField
            label="New password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={fieldError(error, 'password')}
          />
          <TextInput
            label="Confirm password"
            type="password"
            autoComplete="new-password"
            required
            value={confirmation}
            onChange={(e) => setConfirmation(e.target.value)}
            error={mismatch ? 'The two passwords do not match.' : undefined}
          />
          <FormFooter
            request={reset}
            submitLabel="Set new password"
            inlineFields={['password']}
            errorDetail={
              tokenProblem && (
                <p>
                  <Link to="/forgot-password">Request a new link</Link>
                </p>
              )
            }
          />
        </form>
      </Card>
    </Page>
  );
}
