import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../../api/client';
import type { RegisterInput, RegisterResult } from '../../api/types';
import { Alert, Button, Card, ErrorAlert, fieldError, Page, TextInput } from '../../components';
import { loginPath, safeNext } from '../../lib/navigation';
import { rememberAfterConfirm } from './afterConfirm';
import { useResendConfirmation } from './useResendConfirmation';

const FIELDS = ['email', 'password', 'first_name', 'last_name', 'phone'];

export function RegisterPage() {
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [form, setForm] = useState({
    email: '',
    password: '',
    first_name: '',
    last_name: '',
    phone: '',
  });
  const register = useMutation({
    mutationFn: (input: RegisterInput) => api.post<RegisterResult>('/api/auth/register/', input),
    onSuccess: () => rememberAfterConfirm(next),
  });
  const resend = useResendConfirmation();

  const set = (key: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [key]: e.target.value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const input: RegisterInput = {
      email: form.email.trim(),
      password: form.password,
      first_name: form.first_name.trim(),
      last_name: form.last_name.trim(),
    };
    if (form.phone.trim()) input.phone = form.phone.trim();
    register.mutate(input);
  };

  if (register.isSuccess) {
    const sentTo = register.data?.email || form.email.trim();
    return (
      <Page title="Check your email">
        <Card>
          <p>
            We have sent a confirmation link to <strong>{sentTo}</strong>. Open it to activate your
            account, then log in.
          </p>
          <p className="muted small">
            The link may take a minute to arrive. Check your spam folder if you don't see it.
          </p>
          {resend.isSuccess ? (
            <Alert tone="success">We have sent another confirmation email.</Alert>
          ) : (
            <Button
              variant="secondary"
              loading={resend.isPending}
              onClick={() => resend.mutate(sentTo)}
            >
              Resend confirmation email
            </Button>
          )}
          {resend.isError && <ErrorAlert error={resend.error} />}
        </Card>
        <p className="center-text">
          <Link to={loginPath(next)}>Go to log in</Link>
        </p>
      </Page>
    );
  }

  const error = register.error;
  return (
    <Page
      title="Create your account"
      description="Book care, message your doctors and manage your family's health in one place."
    >
      <Card>
        <form onSubmit={submit} className="stack-sm">
          <div className="form-grid form-grid--2">
            <TextInput
              label="First name"
              name="first_name"
              autoComplete="given-name"
              required
              value={form.first_name}
              onChange={set('first_name')}
              error={fieldError(error, 'first_name')}
            />
            <TextInput
              label="Last name"
              name="last_name"
              autoComplete="family-name"
              required
              value={form.last_name}
              onChange={set('last_name')}
              error={fieldError(error, 'last_name')}
            />
          </div>
          <TextInput
            label="Email"
            type="email"
            name="email"
            autoComplete="email"
            required
            value={form.email}
            onChange={set('email')}
            error={fieldError(error, 'email')}
          />
          <TextInput
            label="Password"
            type="password"
            name="password"
            autoComplete="new-password"
            required
            hint="Use at least 8 characters. Avoid common words or anything easy to guess."
            value={form.password}
            onChange={set('password')}
            error={fieldError(error, 'password')}
          />
          <TextInput
            label="Phone"
            optional
            type="tel"
            name="phone"
            autoComplete="tel"
            hint="For appointment reminders by text message."
            value={form.phone}
            onChange={set('phone')}
            error={fieldError(error, 'phone')}
          />
          {error && <ErrorAlert error={error} inlineFields={FIELDS} />}
          <div className="btn-row">
            <Button type="submit" loading={register.isPending}>
              Create account
            </Button>
          </div>
        </form>
      </Card>
      <p className="center-text">
        Already have an account? <Link to={loginPath(next)}>Log in</Link>
      </p>
    </Page>
  );
}
