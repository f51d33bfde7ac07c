import type { UseMutationResult } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Button, ErrorAlert, fieldError, TextInput } from '../../components';

/**
 * An Email field and a submit button that sends the trimmed address through `request`; once that
 * succeeds, `sent(address)` takes the form's place.
 */
export function EmailForm({
  request,
  submitLabel,
  sent,
  inlineFieldError = false,
}: {
  request: UseMutationResult<void, Error, string>;
  submitLabel: string;
  sent: (email: string) => ReactNode;
  /** Show the server's message about the address under the field rather than in the alert. */
  inlineFieldError?: boolean;
}) {
  const [email, setEmail] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    request.mutate(email.trim());
  };
  if (request.isSuccess) return sent(email.trim());
  return (
    <form onSubmit={submit}>
      <TextInput
        label="Email"
        type="email"
        autoComplete="email"
        required
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        error={inlineFieldError ? fieldError(request.error, 'email') : undefined}
      />
      {request.isError && (
        <ErrorAlert error={request.error} inlineFields={inlineFieldError ? ['email'] : undefined} />
      )}
      <div className="btn-row">
        <Button type="submit" loading={request.isPending}>
          {submitLabel}
        </Button>
      </div>
    </form>
  );
}
