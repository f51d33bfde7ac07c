import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

export type AlertTone = 'info' | 'success' | 'warning' | 'error';

const ICONS: Record<AlertTone, string> = { info: 'i', success: '✓', warning: '!', error: '!' };

/**
 * Errors and warnings are announced assertively (role="alert"); info and success politely.
 */
export function Alert({
  tone = 'info',
  title,
  children,
  id,
}: {
  tone?: AlertTone;
  title?: ReactNode;
  children?: ReactNode;
  id?: string;
}) {
  return (
    <div
      id={id}
      className={`alert alert--${tone}`}
      role={tone === 'error' || tone === 'warning' ? 'alert' : 'status'}
    >
      <span className="alert__icon" aria-hidden="true">
        {ICONS[tone]}
      </span>
      <div className="alert__body">
        {title && <p className="alert__title">{title}</p>}
        {children}
      </div>
    </div>
  );
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong. Please try again.';
}

/** The first server message for one field (dotted path for nested fields). */
export function fieldError(error: unknown, key: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.fieldErrors[key]?.join(' ');
}

/**
 * Shows an API error's `message`, plus any field problems that no input on the form displays
 * (pass the keys that are shown inline as `inlineFields`).
 */
export function ErrorAlert({
  error,
  title,
  inlineFields,
  children,
}: {
  error: unknown;
  title?: ReactNode;
  inlineFields?: string[];
  children?: ReactNode;
}) {
  if (!error) return null;
  const extra =
    error instanceof ApiError
      ? Object.entries(error.fieldErrors).filter(
          ([key]) => !inlineFields?.some((shown) => key === shown || key.startsWith(`${shown}.`)),
        )
      : [];
  return (
    <Alert tone="error" title={title}>
      <p>{errorMessage(error)}</p>
      {extra.length > 0 && (
        <ul>
          {extra.map(([key, messages]) => (
            <li key={key}>
              {key === 'non_field_errors' || key === 'detail' ? '' : `${key}: `}
              {messages.join(' ')}
            </li>
          ))}
        </ul>
      )}
      {children}
    </Alert>
  );
}
