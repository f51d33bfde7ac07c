import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../../api/client';
import type { TokenInput } from '../../api/types';
import { Alert, ButtonLink, Card, ErrorAlert, LoadingState, Page } from '../../components';
import { loginPath } from '../../lib/navigation';
import { takeAfterConfirm } from './afterConfirm';
import { EmailForm } from './EmailForm';
import { useResendConfirmation } from './useResendConfirmation';

export function ConfirmEmailPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const confirm = useMutation({
    mutationFn: (value: string) =>
      api.post<void>('/api/auth/confirm-email/', { token: value } satisfies TokenInput),
  });
  const { mutate } = confirm;
  const sent = useRef(false);
  const [next, setNext] = useState('/');

  useEffect(() => {
    // Post once, even under StrictMode's double effects; a token works only once.
    if (!token || sent.current) return;
    sent.current = true;
    mutate(token, { onSuccess: () => setNext(takeAfterConfirm()) });
  }, [token, mutate]);

  if (!token) {
    return (
      <Page title="Confirm your email" heading="This confirmation link is incomplete">
        <Alert tone="error">
          <p>
            The link is missing its token. Open the link from your email again, or request a new
            one.
          </p>
        </Alert>
        <ResendForm />
      </Page>
    );
  }

  if (confirm.isSuccess) {
    return (
      <Page title="Email confirmed">
        <Alert tone="success" title="Your email address is confirmed">
          <p>Your account is ready. Log in to get started.</p>
        </Alert>
        <ButtonLink to={loginPath(next)}>Log in</ButtonLink>
      </Page>
    );
  }

  if (confirm.isError) {
    return (
      <Page title="Confirm your email" heading="We couldn't confirm your email">
        <ErrorAlert error={confirm.error}>
          <p>The link may have expired or been used already. Request a new one below.</p>
        </ErrorAlert>
        <ResendForm />
        <p>
          Already confirmed? <Link to="/login">Log in</Link>
        </p>
      </Page>
    );
  }

  return (
    <Page title="Confirm your email" heading="Confirming your email…">
      <LoadingState label="Confirming your email address…" />
    </Page>
  );
}

function ResendForm() {
  const resend = useResendConfirmation();
  return (
    <Card title="Get a new confirmation link">
      <EmailForm
        request={resend}
        submitLabel="Resend confirmation email"
        sent={(email) => (
          <Alert tone="success">
            If {email} has an account waiting for confirmation, a new link is on its way.
          </Alert>
        )}
      />
    </Card>
  );
}
