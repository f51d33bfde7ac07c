import type { ReactNode } from 'react';
import { Alert, ErrorAlert } from './Alert';
import { Button } from './Button';

/**
 * The end of a form laid out as a grid (not a stack): the request's error, less the fields shown
 * inline, or a success note, each spaced from the fields; then the submit button.
 */
export function FormFooter({
  request: { isPending, error },
  submitLabel,
  errorTitle,
  errorDetail,
  inlineFields,
  success,
}: {
  /** The submit's mutation (or anything with its pending flag and error). */
  request: { isPending: boolean; error: unknown };
  submitLabel: string;
  errorTitle?: string;
  /** More under the error message, such as a link to start again. */
  errorDetail?: ReactNode;
  inlineFields?: string[];
  /** Shown once the submit has succeeded; falsy until then. */
  success?: ReactNode;
}) {
  return (
    <>
      {!!error && (
        <div style={{ marginTop: 'var(--space-4)' }}>
          <ErrorAlert error={error} title={errorTitle} inlineFields={inlineFields}>
            {errorDetail}
          </ErrorAlert>
        </div>
      )}
      {success && (
        <div style={{ marginTop: 'var(--space-4)' }}>
          <Alert tone="success">{success}</Alert>
        </div>
      )}
      <div className="btn-row">
        <Button type="submit" loading={isPending}>
          {submitLabel}
        </Button>
      </div>
    </>
  );
}
