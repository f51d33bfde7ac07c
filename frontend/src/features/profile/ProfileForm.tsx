import type { UseMutationResult } from '@tanstack/react-query';
import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { Profile, ProfileUpdate, Severity } from '../../api/types';
import {
  Alert,
  Button,
  Card,
  EmptyState,
  ErrorAlert,
  fieldError,
  Select,
  TextArea,
  TextInput,
} from '../../components';
import { todayInput } from '../../lib/dates';
import {
  emptyAllergy,
  emptyCondition,
  emptyMedication,
  SEVERITY_OPTIONS,
  toFormState,
  toPatch,
  withoutBlankRows,
  type AllergyRow,
  type ConditionRow,
  type MedicationRow,
  type ProfileFormState,
} from './profileForm';

const INLINE_FIELDS = [
  'first_name',
  'last_name',
  'date_of_birth',
  'phone',
  'address',
  'emergency_contact',
  'allergies',
  'conditions',
  'medications',
];

export function ProfileForm({
  profile,
  includeHealth,
  save,
  whose = 'your',
}: {
  profile: Profile;
  includeHealth: boolean;
  save: UseMutationResult<Profile, Error, ProfileUpdate>;
  /** "your", or a possessive such as "Leo's" when a guardian edits a dependent. */
  whose?: string;
}) {
  const [state, setState] = useState<ProfileFormState>(() => toFormState(profile));
  const [savedAt, setSavedAt] = useState<number | null>(null);
  const error = save.error;
  const err = (key: string) => fieldError(error, key);

  const update = (patch: Partial<ProfileFormState>) => {
    setSavedAt(null);
    setState((s) => ({ ...s, ...patch }));
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const clean = withoutBlankRows(state);
    setState(clean);
    setSavedAt(null);
    save.mutate(toPatch(clean, includeHealth), { onSuccess: () => setSavedAt(Date.now()) });
  };

  const text =
    (group: 'address' | 'emergency', key: string) => (e: { target: { value: string } }) =>
      update({ [group]: { ...state[group], [key]: e.target.value } } as Partial<ProfileFormState>);

  return (
    <form onSubmit={submit} className="stack" aria-label={`Edit ${whose} profile`}>
      <Card title="Personal details">
        <div className="form-grid form-grid--2">
          <TextInput
            label="First name"
            autoComplete="given-name"
            required
            value={state.first_name}
            onChange={(e) => update({ first_name: e.target.value })}
            error={err('first_name')}
          />
          <TextInput
            label="Last name"
            autoComplete="family-name"
            required
            value={state.last_name}
            onChange={(e) => update({ last_name: e.target.value })}
            error={err('last_name')}
          />
          <TextInput
            label="Date of birth"
            type="date"
            autoComplete="bday"
            max={todayInput()}
            value={state.date_of_birth}
            onChange={(e) => update({ date_of_birth: e.target.value })}
            error={err('date_of_birth')}
          />
          <TextInput
            label="Phone"
            type="tel"
            autoComplete="tel"
            value={state.phone}
            onChange={(e) => update({ phone: e.target.value })}
            error={err('phone')}
          />
        </div>
      </Card>

      <Card title="Address">
        <div className="form-grid form-grid--2">
          <TextInput
            className="span-all"
            label="Address line 1"
            autoComplete="address-line1"
            value={state.address.line1}
            onChange={text('address', 'line1')}
            error={err('address.line1')}
          />
          <TextInput
            className="span-all"
            label="Address line 2"
            optional
            autoComplete="address-line2"
            value={state.address.line2}
            onChange={text('address', 'line2')}
            error={err('address.line2')}
          />
          <TextInput
            label="City"
            autoComplete="address-level2"
            value={state.address.city}
            onChange={text('address', 'city')}
            error={err('address.city')}
          />
          <TextInput
            label="Region or state"
            autoComplete="address-level1"
            value={state.address.region}
            onChange={text('address', 'region')}
            error={err('address.region')}
          />
          <TextInput
            label="Postal code"
            autoComplete="postal-code"
            value={state.address.postal_code}
            onChange={text('address', 'postal_code')}
            error={err('address.postal_code')}
          />
          <TextInput
            label="Country"
            autoComplete="country-name"
            value={state.address.country}
            onChange={text('address', 'country')}
            error={err('address.country')}
          />
        </div>
        {err('address') && <p className="field__error">{err('address')}</p>}
      </Card>

      <Card
        title="Emergency contact"
        description="Someone we can call if you need urgent help during a consultation."
      >
        <div className="form-grid form-grid--3">
          <TextInput
            label="Contact name"
            value={state.emergency.name}
            onChange={text('emergency', 'name')}
            error={err('emergency_contact.name')}
          />
          <TextInput
            label="Relationship"
            value={state.emergency.relationship}
            onChange={text('emergency', 'relationship')}
            error={err('emergency_contact.relationship')}
          />
          <TextInput
            label="Contact number"
            type="tel"
            value={state.emergency.phone}
            onChange={text('emergency', 'phone')}
            error={err('emergency_contact.phone')}
          />
        </div>
        {err('emergency_contact') && <p className="field__error">{err('emergency_contact')}</p>}
      </Card>

      {includeHealth && (
        <>
          <RowSection<AllergyRow>
            title="Allergies"
            description="Medicines, foods or materials that cause a reaction. Your doctors check these before prescribing."
            rows={state.allergies}
            onChange={(allergies) => update({ allergies })}
            makeEmpty={emptyAllergy}
            itemName="allergy"
            addLabel="Add allergy"
            emptyText="No allergies recorded."
            columns={3}
            listError={err('allergies')}
            renderRow={(row, n, set, autoFocus) => (
              <>
                <TextInput
                  label={<RowLabel text="Substance" item="allergy" n={n} />}
                  required
                  autoFocus={autoFocus}
                  value={row.substance}
                  onChange={(e) => set({ substance: e.target.value })}
                  error={err(`allergies.${n - 1}.substance`)}
                />
                <TextInput
                  label={<RowLabel text="Reaction" item="allergy" n={n} />}
                  value={row.reaction}
                  onChange={(e) => set({ reaction: e.target.value })}
                  error={err(`allergies.${n - 1}.reaction`)}
                />
                <Select
                  label={<RowLabel text="Severity" item="allergy" n={n} />}
                  required
                  placeholder="Select severity"
                  options={SEVERITY_OPTIONS}
                  value={row.severity}
                  onChange={(e) => set({ severity: e.target.value as Severity | '' })}
                  error={err(`allergies.${n - 1}.severity`)}
                />
              </>
            )}
          />
          <RowSection<ConditionRow>
            title="Conditions"
            description="Ongoing or past health conditions your care team should know about."
            rows={state.conditions}
            onChange={(conditions) => update({ conditions })}
            makeEmpty={emptyCondition}
            itemName="condition"
            addLabel="Add condition"
            emptyText="No conditions recorded."
            columns={2}
            listError={err('conditions')}
            renderRow={(row, n, set, autoFocus) => (
              <>
                <TextInput
                  label={<RowLabel text="Condition" item="condition" n={n} />}
                  required
                  autoFocus={autoFocus}
                  value={row.name}
                  onChange={(e) => set({ name: e.target.value })}
                  error={err(`conditions.${n - 1}.name`)}
                />
                <TextArea
                  label={<RowLabel text="Notes" item="condition" n={n} />}
                  rows={1}
                  style={{ minHeight: 'var(--control-height)' }}
                  value={row.notes}
                  onChange={(e) => set({ notes: e.target.value })}
                  error={err(`conditions.${n - 1}.notes`)}
                />
              </>
            )}
          />
          <RowSection<MedicationRow>
            title="Current medications"
            description="Everything you take regularly, including over-the-counter medicines and supplements."
            rows={state.medications}
            onChange={(medications) => update({ medications })}
            makeEmpty={emptyMedication}
            itemName="medication"
            addLabel="Add medication"
            emptyText="No medications recorded."
            columns={3}
            listError={err('medications')}
            renderRow={(row, n, set, autoFocus) => (
              <>
                <TextInput
                  label={<RowLabel text="Medication" item="medication" n={n} />}
                  required
                  autoFocus={autoFocus}
                  value={row.name}
                  onChange={(e) => set({ name: e.target.value })}
                  error={err(`medications.${n - 1}.name`)}
                />
                <TextInput
                  label={<RowLabel text="Dose" item="medication" n={n} />}
                  placeholder="e.g. 500 mg"
                  value={row.dose}
                  onChange={(e) => set({ dose: e.target.value })}
                  error={err(`medications.${n - 1}.dose`)}
                />
                <TextInput
                  label={<RowLabel text="Frequency" item="medication" n={n} />}
                  placeholder="e.g. twice a day"
                  value={row.frequency}
                  onChange={(e) => set({ frequency: e.target.value })}
                  error={err(`medications.${n - 1}.frequency`)}
                />
              </>
            )}
          />
        </>
      )}

      <div className="stack-sm">
        {error && (
          <ErrorAlert
            error={error}
            title="Your changes were not saved"
            inlineFields={INLINE_FIELDS}
          />
        )}
        {savedAt && !save.isPending && (
          <Alert tone="success">
            {whose === 'your' ? 'Your profile has been saved.' : `${whose} profile has been saved.`}
          </Alert>
        )}
        <div className="btn-row" style={{ marginTop: 0 }}>
          <Button type="submit" loading={save.isPending}>
            Save profile
          </Button>
        </div>
      </div>
    </form>
  );
}

/** "Substance" visibly; "Substance (allergy 2)" for assistive technology. */
function RowLabel({ text, item, n }: { text: string; item: string; n: number }) {
  return (
    <>
      {text}
      <span className="sr-only">
        {' '}
        ({item} {n})
      </span>
    </>
  );
}

function RowSection<T extends { key: string }>({
  title,
  description,
  rows,
  onChange,
  makeEmpty,
  itemName,
  addLabel,
  emptyText,
  columns,
  listError,
  renderRow,
}: {
  title: string;
  description: string;
  rows: T[];
  onChange: (rows: T[]) => void;
  makeEmpty: () => T;
  itemName: string;
  addLabel: string;
  emptyText: string;
  columns: number;
  listError?: string;
  renderRow: (row: T, n: number, set: (patch: Partial<T>) => void, autoFocus: boolean) => ReactNode;
}) {
  const [focusKey, setFocusKey] = useState<string | null>(null);
  const addRef = useRef<HTMLButtonElement>(null);
  const add = () => {
    const row = makeEmpty();
    setFocusKey(row.key);
    onChange([...rows, row]);
  };
  const remove = (key: string) => {
    onChange(rows.filter((r) => r.key !== key));
    addRef.current?.focus();
  };
  return (
    <Card title={title} description={description}>
      {rows.length === 0 ? (
        <EmptyState title={emptyText} />
      ) : (
        <div className="rows">
          {rows.map((row, index) => (
            <fieldset key={row.key} className="row-item" style={{ ['--cols' as string]: columns }}>
              <legend className="sr-only">
                {itemName} {index + 1}
              </legend>
              {renderRow(
                row,
                index + 1,
                (patch) => onChange(rows.map((r) => (r.key === row.key ? { ...r, ...patch } : r))),
                row.key === focusKey,
              )}
              <Button variant="ghost" size="small" onClick={() => remove(row.key)}>
                Remove
                <span className="sr-only">
                  {' '}
                  {itemName} {index + 1}
                </span>
              </Button>
            </fieldset>
          ))}
        </div>
      )}
      {listError && <p className="field__error">{listError}</p>}
      <div className="btn-row" style={{ marginTop: 'var(--space-4)' }}>
        <Button ref={addRef} variant="secondary" onClick={add}>
          <span aria-hidden="true">+</span> {addLabel}
        </Button>
      </div>
    </Card>
  );
}
