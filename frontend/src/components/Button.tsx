import type { ComponentPropsWithRef, ReactNode } from 'react';
import { Link, type LinkProps } from 'react-router-dom';
import { Spinner } from './Spinner';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'danger-outline' | 'ghost';

interface StyleProps {
  variant?: ButtonVariant;
  size?: 'normal' | 'small';
  block?: boolean;
}

function classes({ variant = 'primary', size = 'normal', block }: StyleProps, extra?: string) {
  return ['btn', `btn--${variant}`, size === 'small' && 'btn--small', block && 'btn--block', extra]
    .filter(Boolean)
    .join(' ');
}

type ButtonProps = ComponentPropsWithRef<'button'> &
  StyleProps & {
    /** Shows a spinner and blocks further clicks while a request is in flight. */
    loading?: boolean;
    children: ReactNode;
  };

export function Button({
  variant,
  size,
  block,
  loading = false,
  disabled,
  className,
  children,
  type = 'button',
  ...rest
}: ButtonProps) {
  return (
    <button
      {...rest}
      type={type}
      className={classes({ variant, size, block }, className)}
      disabled={disabled || loading}
      aria-busy={loading || undefined}
    >
      {loading && <Spinner />}
      {children}
    </button>
  );
}

type ButtonLinkProps = LinkProps & StyleProps;

/** A navigation link that looks like a button. */
export function ButtonLink({ variant, size, block, className, ...rest }: ButtonLinkProps) {
  return <Link {...rest} className={classes({ variant, size, block }, className)} />;
}
