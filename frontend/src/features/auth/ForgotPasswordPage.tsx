import { useMutation } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { api } from '../../api/client';
import type { EmailInput } from '../../api/types';
import { Alert, Card, Page } from '../../components';
import { EmailForm } from './EmailForm';

export function ForgotPasswordPage() {
  const reset = useMutation({
    mutationFn: (value: string) =>
      api.post<void>('/api/auth/password-reset/', { email: value } satisfies EmailInput),
  });
  return (
    <Page
      title="Reset your password"
      description="Enter the email address you use for CareConnect and we'll send you a link to choose a new password."
    >
      <Card>
        <EmailForm
          request={reset}
          submitLabel="Send reset link"
          inlineFieldError
          sent={(email) => (
            <Alert tone="success" title="Check your email">
              <p>
                If an account exists for {email}, we have sent a link to reset the password. The
                link works once, for one hour.
              </p>
            </Alert>
          )}
        />
      </Card>
      <p className="center-text">
        <Link to="/login">Back to log in</Link>
      </p>
    </Page>
  );
}
