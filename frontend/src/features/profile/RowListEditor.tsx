import { useRef, useState } from 'react';
import {
  Button,
  Card,
  EmptyState,
  fieldError,
  Select,
  TextArea,
  TextInput,
  type SelectOption,
} from '../../components';

/** The names of a row's text fields (every string field but the React `key`). */
type TextKey<T> = Exclude<
  { [K in keyof T]: T[K] extends string ? K : never }[keyof T],
  'key' | undefined
> &
  string;

/** One column of a row. */
export interface RowField<T> {
  key: TextKey<T>;
  /** Shown on the input; assistive technology also hears the row: "Substance (allergy 2)". */
  label: string;
  required?: boolean;
  placeholder?: string;
  /** A select of these options, with `placeholder` as its empty first option. */
  options?: SelectOption[];
  /** A one-line text area instead of a text input, for free-form notes. */
  multiline?: boolean;
}

/** What one editable list on a form is: its card, its columns and its wording. */
export interface RowList<T> {
  /** The list's field in the API, so that `allergies.1.severity` errors land on their input. */
  name: string;
  title: string;
  description: string;
  /** One row, as said in accessible names: "Remove allergy 2", "allergy 2". */
  itemName: string;
  addLabel: string;
  emptyText: string;
  /** The columns, in order; the first is focused when a row is added. */
  fields: RowField<T>[];
  makeEmpty: () => T;
}

/**
 * A card holding a list of rows, each a fieldset of the list's fields and a Remove button, with
 * an Add button below. Rows carry a stable `key`; server errors are matched by row index.
 */
export function RowListEditor<T extends { key: string }>({
  list,
  rows,
  onChange,
  error,
}: {
  list: RowList<T>;
  rows: T[];
  onChange: (rows: T[]) => void;
  /** The save error, if any: its field errors are shown on the inputs they belong to. */
  error: unknown;
}) {
  const [focusKey, setFocusKey] = useState<string | null>(null);
  const addRef = useRef<HTMLButtonElement>(null);
  const add = () => {
    const row = list.makeEmpty();
    setFocusKey(row.key);
    onChange([...rows, row]);
  };
  const remove = (key: string) => {
    onChange(rows.filter((r) => r.key !== key));
    addRef.current?.focus();
  };
  const update = (key: string, patch: Partial<T>) =>
    onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const listError = fieldError(error, list.name);

  return (
    <Card title={list.title} description={list.description}>
      {rows.length === 0 ? (
        <EmptyState title={list.emptyText} />
      ) : (
        <div className="rows">
          {rows.map((row, index) => (
            <fieldset
              key={row.key}
              className="row-item"
              style={{ ['--cols' as string]: list.fields.length }}
            >
              <legend className="sr-only">
                {list.itemName} {index + 1}
              </legend>
              {list.fields.map((field, column) => (
                <RowInput
                  key={field.key}
                  field={field}
                  item={`${list.itemName} ${index + 1}`}
                  autoFocus={column === 0 && row.key === focusKey}
                  value={row[field.key] as string}
                  onChange={(value) => update(row.key, { [field.key]: value } as Partial<T>)}
                  error={fieldError(error, `${list.name}.${index}.${field.key}`)}
                />
              ))}
              <Button variant="ghost" size="small" onClick={() => remove(row.key)}>
                Remove
                <span className="sr-only">
                  {' '}
                  {list.itemName} {index + 1}
                </span>
              </Button>
            </fieldset>
          ))}
        </div>
      )}
      {listError && <p className="field__error">{listError}</p>}
      <div className="btn-row" style={{ marginTop: 'var(--space-4)' }}>
        <Button ref={addRef} variant="secondary" onClick={add}>
          <span aria-hidden="true">+</span> {list.addLabel}
        </Button>
      </div>
    </Card>
  );
}

function RowInput<T>({
  field,
  item,
  autoFocus,
  value,
  onChange,
  error,
}: {
  field: RowField<T>;
  /** "allergy 2" */
  item: string;
  autoFocus: boolean;
  value: string;
  onChange: (value: string) => void;
  error?: string;
}) {
  // "Substance" visibly; "Substance (allergy 2)" for assistive technology.
  const label = (
    <>
      {field.label}
      <span className="sr-only"> ({item})</span>
    </>
  );
  const common = {
    label,
    required: field.required,
    autoFocus,
    value,
    error,
    onChange: (e: { target: { value: string } }) => onChange(e.target.value),
  };
  if (field.options) {
    return <Select {...common} placeholder={field.placeholder} options={field.options} />;
  }
  if (field.multiline) {
    return <TextArea {...common} rows={1} style={{ minHeight: 'var(--control-height)' }} />;
  }
  return <TextInput {...common} placeholder={field.placeholder} />;
}
