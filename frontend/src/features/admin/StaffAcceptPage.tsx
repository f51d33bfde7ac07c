import { useMutation } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { api } from '../../api/client';
import type { Me, StaffAcceptInput } from '../../api/types';
import { Alert, Card, FormFooter, Page, useFormFields } from '../../components';
import { NameFields, NewPasswordField } from '../auth/AccountFields';

export function StaffAcceptPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const navigate = useNavigate();
  const accept = useMutation({
    mutationFn: (input: StaffAcceptInput) => api.post<Me>('/api/staff-invitations/accept/', input),
    onSuccess: (me) =>
      navigate('/login', {
        replace: true,
        state: { notice: 'Your staff account is ready. Log in to continue.', email: me?.email },
      }),
  });
  const error = accept.error;
  const { values: form, field } = useFormFields(
    { first_name: '', last_name: '', password: '' },
    { error },
  );
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

  return (
    <Page
      title="Join your care team"
      description="You've been invited to CareConnect as a member of a care center's staff. Create your account to get started."
    >
      <Card>
        <form onSubmit={submit}>
          <div className="form-grid form-grid--2">
            <NameFields field={field} />
            <NewPasswordField className="span-all" {...field('password')} />
          </div>
          <FormFooter
            request={accept}
            submitLabel="Create staff account"
            errorTitle="Your account was not created"
            inlineFields={['first_name', 'last_name', 'password']}
          />
        </form>
      </Card>
    </Page>
  );
}
