import type { ComponentProps } from 'react';
import { TextInput, type BoundField } from '../../components';

/** First and last name of an account holder, two cells of a form grid. */
export function NameFields({ field }: { field: (key: 'first_name' | 'last_name') => BoundField }) {
  return (
    <>
      <TextInput
        label="First name"
        name="first_name"
        autoComplete="given-name"
        required
        {...field('first_name')}
      />
      <TextInput
        label="Last name"
        name="last_name"
        autoComplete="family-name"
        required
        {...field('last_name')}
      />
    </>
  );
}

type NewPasswordProps = Omit<
  ComponentProps<typeof TextInput>,
  'label' | 'type' | 'autoComplete' | 'required' | 'hint'
> & { label?: string };

/** A password being chosen, with the password rules as its hint. */
export function NewPasswordField({ label = 'Password', ...rest }: NewPasswordProps) {
  return (
    <TextInput
      label={label}
      type="password"
      autoComplete="new-password"
      required
      hint="Use at least 8 characters. Avoid common words or anything easy to guess."
      {...rest}
    />
  );
}
