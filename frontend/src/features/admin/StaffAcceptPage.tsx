import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { api } from '../../api/client';
import type { Me, StaffAcceptInput } from '../../api/types';
import { Alert, Button, Card, ErrorAlert, fieldError, Page, TextInput } from '../../components';

export function StaffAcceptPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const navigate = useNavigate();
  const [form, setForm] = useState({ first_name: '', last_name: '', password: '' });
  const accept = useMutation({
    mutationFn: (input: StaffAcceptInput) => api.post<Me>('/api/staff-invitations/accept/', input),
    onSuccess: (me) =>
      navigate('/login', {
        replace: true,
        state: { notice: 'Your staff account is ready. Log in to continue.', email: me?.email },
      }),
  });
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [key]: e.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    accept.mutate({
      token,
      first_name: form.first_name.trim(),
      last_name: form.last_name.trim(),
      password: form.password,
    });
  };

  if (!token) {
    return (
      <Page title="Join your care team" heading="This invitation link is incomplete">
        <Alert tone="error">
          <p>
            Open the link from your invitation email again, or ask your center administrator for a
            new one.
          </p>
        </Alert>
      </Page>
    );
  }

  const error = accept.error;
  return (
    <Page
      title="Join your care team"
      description="You've been invited to CareConnect as a member of a care center's staff. Create your account to get started."
    >
      <Card>
        <form onSubmit={submit}>
          <div className="form-grid form-grid--2">
            <TextInput
              label="First name"
              autoComplete="given-name"
              required
              value={form.first_name}
              onChange={set('first_name')}
              error={fieldError(error, 'first_name')}
            />
            <TextInput
              label="Last name"
              autoComplete="family-name"
              required
              value={form.last_name}
              onChange={set('last_name')}
              error={fieldError(error, 'last_name')}
            />
            <TextInput
              className="span-all"
              label="Password"
              type="password"
              autoComplete="new-password"
              required
              hint="Use at least 8 characters. Avoid common words or anything easy to guess."
              value={form.password}
              onChange={set('password')}
              error={fieldError(error, 'password')}
            />
          </div>
          {error && (
            <div style={{ marginTop: 'var(--space-4)' }}>
              <ErrorAlert
                error={error}
                title="Your account was not created"
                inlineFields={['first_name', 'last_name', 'password']}
              />
            </div>
          )}
          <div className="btn-row">
            <Button type="submit" loading={accept.isPending}>
              Create staff account
            </Button>
          </div>
        </form>
      </Card>
    </Page>
  );
}
