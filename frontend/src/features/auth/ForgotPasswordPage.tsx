import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../../api/client';
import type { EmailInput } from '../../api/types';
import { Alert, Button, Card, ErrorAlert, fieldError, Page, TextInput } from '../../components';

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const reset = useMutation({
    mutationFn: (value: string) =>
      api.post<void>('/api/auth/password-reset/', { email: value } satisfies EmailInput),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    reset.mutate(email.trim());
  };
  return (
    <Page
      title="Reset your password"
      description="Enter the email address you use for CareConnect and we'll send you a link to choose a new password."
    >
      <Card>
        {reset.isSuccess ? (
          <Alert tone="success" title="Check your email">
            <p>
              If an account exists for {email.trim()}, we have sent a link to reset the password.
              The link works once, for one hour.
            </p>
          </Alert>
        ) : (
          <form onSubmit={submit}>
            <TextInput
              label="Email"
              type="email"
              autoComplete="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              error={fieldError(reset.error, 'email')}
            />
            {reset.isError && <ErrorAlert error={reset.error} inlineFields={['email']} />}
            <div className="btn-row">
              <Button type="submit" loading={reset.isPending}>
                Send reset link
              </Button>
            </div>
          </form>
        )}
      </Card>
      <p className="center-text">
        <Link to="/login">Back to log in</Link>
      </p>
    </Page>
  );
}
