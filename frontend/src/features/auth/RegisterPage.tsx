import { useMutation } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../../api/client';
import type { RegisterInput, RegisterResult } from '../../api/types';
import { Alert, Button, Card, ErrorAlert, Page, TextInput, useFormFields } from '../../components';
import { loginPath, safeNext } from '../../lib/navigation';
import { NameFields, NewPasswordField } from './AccountFields';
import { rememberAfterConfirm } from './afterConfirm';
import { useResendConfirmation } from './useResendConfirmation';

const FIELDS = ['email', 'password', 'first_name', 'last_name', 'phone'];

export function RegisterPage() {
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const register = useMutation({
    mutationFn: (input: RegisterInput) => api.post<RegisterResult>('/api/auth/register/', input),
    onSuccess: () => rememberAfterConfirm(next),
  });
  const resend = useResendConfirmation();
  const error = register.error;
  const { values: form, field } = useFormFields(
    { email: '', password: '', first_name: '', last_name: '', phone: '' },
    { error },
  );

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

  return (
    <Page
      title="Create your account"
      description="Book care, message your doctors and manage your family's health in one place."
    >
      <Card>
        <form onSubmit={submit} className="stack-sm">
          <div className="form-grid form-grid--2">
            <NameFields field={field} />
          </div>
          <TextInput
            label="Email"
            type="email"
            name="email"
            autoComplete="email"
            required
            {...field('email')}
          />
          <NewPasswordField name="password" {...field('password')} />
          <TextInput
            label="Phone"
            optional
            type="tel"
            name="phone"
            autoComplete="tel"
            hint="For appointment reminders by text message."
            {...field('phone')}
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
