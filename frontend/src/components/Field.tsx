import { useId, type ComponentPropsWithRef, type ReactNode } from 'react';

interface FieldProps {
  label: ReactNode;
  hint?: ReactNode;
  error?: string;
  optional?: boolean;
  className?: string;
}

function useFieldIds(id: string | undefined, hint: ReactNode, error: string | undefined) {
  const generated = useId();
  const inputId = id ?? `field-${generated}`;
  const hintId = hint ? `${inputId}-hint` : undefined;
  const errorId = error ? `${inputId}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return { inputId, hintId, errorId, describedBy };
}

function FieldShell({
  inputId,
  label,
  hint,
  hintId,
  error,
  errorId,
  optional,
  className,
  children,
}: FieldProps & {
  inputId: string;
  hintId?: string;
  errorId?: string;
  children: ReactNode;
}) {
  return (
    <div className={['field', className].filter(Boolean).join(' ')}>
      <label className="field__label" htmlFor={inputId}>
        {label}
        {optional && <span className="field__optional"> (optional)</span>}
      </label>
      {hint && (
        <p className="field__hint" id={hintId}>
          {hint}
        </p>
      )}
      {children}
      {error && (
        <p className="field__error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}

type TextInputProps = FieldProps &
  Omit<ComponentPropsWithRef<'input'>, 'className'> & {
    inputClassName?: string;
    /** Text shown after the input, e.g. a currency code. */
    suffix?: ReactNode;
  };

export function TextInput({
  label,
  hint,
  error,
  optional,
  className,
  inputClassName,
  suffix,
  id,
  ...rest
}: TextInputProps) {
  const ids = useFieldIds(id, hint, error);
  const input = (
    <input
      {...rest}
      id={ids.inputId}
      className={['input', inputClassName].filter(Boolean).join(' ')}
      aria-invalid={error ? true : undefined}
      aria-describedby={ids.describedBy}
    />
  );
  return (
    <FieldShell {...ids} {...{ label, hint, error, optional, className }}>
      {suffix ? (
        <div className="input-adorned">
          {input}
          <span className="input-adorned__suffix">{suffix}</span>
        </div>
      ) : (
        input
      )}
    </FieldShell>
  );
}

type TextAreaProps = FieldProps & Omit<ComponentPropsWithRef<'textarea'>, 'className'>;

export function TextArea({ label, hint, error, optional, className, id, ...rest }: TextAreaProps) {
  const ids = useFieldIds(id, hint, error);
  return (
    <FieldShell {...ids} {...{ label, hint, error, optional, className }}>
      <textarea
        {...rest}
        id={ids.inputId}
        className="textarea"
        aria-invalid={error ? true : undefined}
        aria-describedby={ids.describedBy}
      />
    </FieldShell>
  );
}

export interface SelectOption {
  value: string;
  label: string;
  disabled?: boolean;
}

type SelectProps = FieldProps &
  Omit<ComponentPropsWithRef<'select'>, 'className'> & {
    options: SelectOption[];
    /** An empty first option such as "Select severity". */
    placeholder?: string;
  };

export function Select({
  label,
  hint,
  error,
  optional,
  className,
  id,
  options,
  placeholder,
  ...rest
}: SelectProps) {
  const ids = useFieldIds(id, hint, error);
  return (
    <FieldShell {...ids} {...{ label, hint, error, optional, className }}>
      <select
        {...rest}
        id={ids.inputId}
        className="select"
        aria-invalid={error ? true : undefined}
        aria-describedby={ids.describedBy}
      >
        {placeholder !== undefined && <option value="">{placeholder}</option>}
        {options.map((option) => (
          <option key={option.value} value={option.value} disabled={option.disabled}>
            {option.label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

type CheckboxProps = Omit<ComponentPropsWithRef<'input'>, 'type' | 'className'> & {
  label: ReactNode;
  description?: ReactNode;
  compact?: boolean;
};

/** A checkbox whose whole card is the <label>. */
export function Checkbox({ label, description, compact, id, ...rest }: CheckboxProps) {
  const generated = useId();
  const inputId = id ?? `check-${generated}`;
  const descriptionId = description ? `${inputId}-description` : undefined;
  return (
    <label className={compact ? 'checkbox checkbox--compact' : 'checkbox'} htmlFor={inputId}>
      <input {...rest} id={inputId} type="checkbox" aria-describedby={descriptionId} />
      <span className="checkbox__text">
        <span className="checkbox__label">{label}</span>
        {description && (
          <span className="checkbox__description" id={descriptionId}>
            {description}
          </span>
        )}
      </span>
    </label>
  );
}
