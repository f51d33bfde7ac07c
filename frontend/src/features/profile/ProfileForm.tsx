import type { UseMutationResult } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { Profile, ProfileUpdate } from '../../api/types';
import {
  Alert,
  Button,
  Card,
  ErrorAlert,
  fieldError,
  TextInput,
  type BoundField,
} from '../../components';
import { todayInput } from '../../lib/dates';
import { NameFields } from '../auth/AccountFields';
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
import { RowListEditor, type RowList } from './RowListEditor';

const ALLERGIES: RowList<AllergyRow> = {
  name: 'allergies',
  title: 'Allergies',
  description:
    'Medicines, foods or materials that cause a reaction. Your doctors check these before prescribing.',
  itemName: 'allergy',
  addLabel: 'Add allergy',
  emptyText: 'No allergies recorded.',
  fields: [
    { key: 'substance', label: 'Substance', required: true },
    { key: 'reaction', label: 'Reaction' },
    {
      key: 'severity',
      label: 'Severity',
      required: true,
      placeholder: 'Select severity',
      options: SEVERITY_OPTIONS,
    },
  ],
  makeEmpty: emptyAllergy,
};

const CONDITIONS: RowList<ConditionRow> = {
  name: 'conditions',
  title: 'Conditions',
  description: 'Ongoing or past health conditions your care team should know about.',
  itemName: 'condition',
  addLabel: 'Add condition',
  emptyText: 'No conditions recorded.',
  fields: [
    { key: 'name', label: 'Condition', required: true },
    { key: 'notes', label: 'Notes', multiline: true },
  ],
  makeEmpty: emptyCondition,
};

const MEDICATIONS: RowList<MedicationRow> = {
  name: 'medications',
  title: 'Current medications',
  description:
    'Everything you take regularly, including over-the-counter medicines and supplements.',
  itemName: 'medication',
  addLabel: 'Add medication',
  emptyText: 'No medications recorded.',
  fields: [
    { key: 'name', label: 'Medication', required: true },
    { key: 'dose', label: 'Dose', placeholder: 'e.g. 500 mg' },
    { key: 'frequency', label: 'Frequency', placeholder: 'e.g. twice a day' },
  ],
  makeEmpty: emptyMedication,
};

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

  /** Binds a top-level text value of the form. */
  const own = (key: 'first_name' | 'last_name' | 'date_of_birth' | 'phone'): BoundField => ({
    value: state[key],
    onChange: (e) => update({ [key]: e.target.value }),
    error: err(key),
  });
  /** Binds the values inside the address or the emergency contact; `apiName` for their errors. */
  const inside =
    <G extends 'address' | 'emergency'>(group: G, apiName: string) =>
    (key: keyof ProfileFormState[G] & string): BoundField => ({
      value: state[group][key] as string,
      onChange: (e) =>
        update({
          [group]: { ...state[group], [key]: e.target.value },
        } as Partial<ProfileFormState>),
      error: err(`${apiName}.${key}`),
    });
  const address = inside('address', 'address');
  const emergency = inside('emergency', 'emergency_contact');

  return (
    <form onSubmit={submit} className="stack" aria-label={`Edit ${whose} profile`}>
      <Card title="Personal details">
        <div className="form-grid form-grid--2">
          <NameFields field={own} />
          <TextInput
            label="Date of birth"
            type="date"
            autoComplete="bday"
            max={todayInput()}
            {...own('date_of_birth')}
          />
          <TextInput label="Phone" type="tel" autoComplete="tel" {...own('phone')} />
        </div>
      </Card>

      <Card title="Address">
        <div className="form-grid form-grid--2">
          <TextInput
            className="span-all"
            label="Address line 1"
            autoComplete="address-line1"
            {...address('line1')}
          />
          <TextInput
            className="span-all"
            label="Address line 2"
            optional
            autoComplete="address-line2"
            {...address('line2')}
          />
          <TextInput label="City" autoComplete="address-level2" {...address('city')} />
          <TextInput label="Region or state" autoComplete="address-level1" {...address('region')} />
          <TextInput label="Postal code" autoComplete="postal-code" {...address('postal_code')} />
          <TextInput label="Country" autoComplete="country-name" {...address('country')} />
        </div>
        {err('address') && <p className="field__error">{err('address')}</p>}
      </Card>

      <Card
        title="Emergency contact"
        description="Someone we can call if you need urgent help during a consultation."
      >
        <div className="form-grid form-grid--3">
          <TextInput label="Contact name" {...emergency('name')} />
          <TextInput label="Relationship" {...emergency('relationship')} />
          <TextInput label="Contact number" type="tel" {...emergency('phone')} />
        </div>
        {err('emergency_contact') && <p className="field__error">{err('emergency_contact')}</p>}
      </Card>

      {includeHealth && (
        <>
          <RowListEditor
            list={ALLERGIES}
            rows={state.allergies}
            onChange={(allergies) => update({ allergies })}
            error={error}
          />
          <RowListEditor
            list={CONDITIONS}
            rows={state.conditions}
            onChange={(conditions) => update({ conditions })}
            error={error}
          />
          <RowListEditor
            list={MEDICATIONS}
            rows={state.medications}
            onChange={(medications) => update({ medications })}
            error={error}
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
