import { useState } from 'react';
import { fieldError } from './Alert';

/** What a TextInput or Select needs to edit one value of a form. */
export interface BoundField {
  value: string;
  onChange: (event: { target: { value: string } }) => void;
  error?: string;
}

/**
 * The state of a form of text values keyed by their API field names. `field(key)` binds one
 * input: its value, a change handler (which also calls `onEdit`), and the server's message for
 * that field from `error`, the last submit's error.
 */
export function useFormFields<F extends { [K in keyof F]: string }>(
  initial: F | (() => F),
  { error, onEdit }: { error?: unknown; onEdit?: () => void } = {},
) {
  const [values, setValues] = useState<F>(initial);
  const field = (key: keyof F & string): BoundField => ({
    value: values[key],
    onChange: (event) => {
      onEdit?.();
      setValues((v) => ({ ...v, [key]: event.target.value }));
    },
    error: fieldError(error, key),
  });
  return { values, setValues, field };
}
