import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Select,
  TextArea,
  TextInput,
  type SelectOption,
} from '../../components';
import {
  asFreeText,
  draftName,
  maxRefillsFor,
  MAX_INSTRUCTIONS,
  MAX_NAME,
  MAX_SHORT_TEXT,
  withMedication,
  type DraftField,
  type DraftProblems,
  type ItemDraft,
} from './format';
import { MedicationCombobox } from './MedicationCombobox';
import type { Vocabulary } from './types';

function options(values: readonly string[]): SelectOption[] {
  return values.map((value) => ({ value, label: value }));
}

/**
 * "Add a medication": the catalog search (or a free-text name), then strength, form, dose,
 * route, frequency, duration, quantity, refills, instructions and substitution.
 */
export function ItemEditor({
  draft,
  vocabulary,
  problems,
  editing,
  full,
  onChange,
  onAdd,
  onClear,
}: {
  draft: ItemDraft;
  vocabulary: Vocabulary;
  /** Problems to show (after an "Add medication" attempt). */
  problems: DraftProblems;
  /** The draft was taken back from the list to be changed. */
  editing: boolean;
  /** The prescription holds the most medications it may. */
  full: boolean;
  onChange: (draft: ItemDraft) => void;
  onAdd: () => void;
  onClear: () => void;
}) {
  const med = draft.medication;
  const set = (field: DraftField | 'substitutionAllowed', value: string | boolean) =>
    onChange({ ...draft, [field]: value });
  const bind = (field: DraftField) => ({
    value: draft[field as keyof ItemDraft] as string,
    onChange: (event: { target: { value: string } }) => set(field, event.target.value),
    error: problems[field],
  });

  const routeOptions: SelectOption[] = (() => {
    const known = vocabulary.routes;
    const allowed = med && med.routes.length > 0 ? med.routes : known.map((r) => r.code);
    return allowed.map((code) => ({
      value: code,
      label: known.find((r) => r.code === code)?.label ?? code,
    }));
  })();
  const frequencyOptions: SelectOption[] = vocabulary.frequencies.map((f) => ({
    value: f.code,
    label: f.label,
  }));
  const limits = vocabulary.limits;
  const maxRefills = maxRefillsFor(med?.controlled, limits);
  const name = draftName(draft);
  const touched =
    !!name ||
    draft.freeText ||
    !!(draft.dose || draft.frequency || draft.durationDays || draft.quantity || draft.instructions);

  return (
    <Card
      title={editing ? `Change ${name || 'the medication'}` : 'Add a medication'}
      description={`Up to ${limits.max_items} medications per prescription.`}
    >
      <div className="stack-sm">
        {draft.freeText ? (
          <div className="stack-sm">
            <TextInput
              label="Medication name"
              hint="The medicine as the pharmacy should read it."
              autoComplete="off"
              maxLength={MAX_NAME}
              value={draft.name}
              onChange={(event) => set('name', event.target.value)}
              error={problems.name}
            />
            <Alert tone="warning" title="Not in the catalog">
              <p>
                {draft.name.trim() || 'This medicine'} is not checked for interactions, allergies or
                duplicates. Check it yourself before signing.
              </p>
            </Alert>
            <Button
              variant="ghost"
              size="small"
              onClick={() => onChange({ ...draft, freeText: false, name: '' })}
            >
              Search the catalog instead
            </Button>
          </div>
        ) : (
          <MedicationCombobox
            key={draft.key}
            selected={med}
            error={problems.medication}
            onSelect={(medication) => onChange(withMedication(draft, medication))}
            onFreeText={(typed) => onChange(asFreeText(draft, typed))}
            onClear={() => onChange({ ...draft, medication: null })}
          />
        )}

        {med && (
          <p className="rx-med-info small">
            {med.ingredients.length > 0 && <>Contains {med.ingredients.join(', ')}. </>}
            {med.classes.length > 0 && <span className="muted">{med.classes.join(', ')}. </span>}
            {med.controlled && <Badge tone="warning">Controlled: schedule {med.controlled}</Badge>}
            {!med.has_interaction_data && (
              <span className="rx-med-info__nodata">
                {' '}
                No interaction data for this medicine: it will not be checked for interactions.
              </span>
            )}
          </p>
        )}

        <div className="form-grid form-grid--2">
          {med && med.strengths.length > 0 ? (
            <Select
              label="Strength"
              placeholder="Choose a strength"
              options={options(med.strengths)}
              {...bind('strength')}
            />
          ) : (
            <TextInput
              label="Strength"
              optional
              autoComplete="off"
              maxLength={MAX_SHORT_TEXT}
              {...bind('strength')}
            />
          )}
          {med && med.forms.length > 0 ? (
            <Select
              label="Form"
              placeholder="Choose a form"
              options={options(med.forms)}
              {...bind('form')}
            />
          ) : (
            <TextInput
              label="Form"
              optional
              autoComplete="off"
              maxLength={MAX_SHORT_TEXT}
              {...bind('form')}
            />
          )}
          <TextInput
            label="Dose"
            hint='Per intake, e.g. "1 capsule" or "5 ml".'
            autoComplete="off"
            maxLength={MAX_SHORT_TEXT}
            {...bind('dose')}
          />
          <Select
            label="Route"
            placeholder="Choose a route"
            options={routeOptions}
            {...bind('route')}
          />
          <Select
            label="Frequency"
            placeholder="Choose how often"
            options={frequencyOptions}
            {...bind('frequency')}
          />
          <TextInput
            label="Duration (days)"
            type="number"
            inputMode="numeric"
            min={1}
            max={limits.max_duration_days}
            {...bind('durationDays')}
          />
          <TextInput
            label="Quantity"
            hint="Units to dispense."
            type="number"
            inputMode="numeric"
            min={1}
            max={limits.max_quantity}
            {...bind('quantity')}
          />
          <TextInput
            label="Refills"
            hint={maxRefills === 0 ? 'None allowed for this medicine.' : `0 to ${maxRefills}.`}
            type="number"
            inputMode="numeric"
            min={0}
            max={maxRefills}
            {...bind('refills')}
          />
        </div>
        <TextArea
          label="Instructions"
          optional
          hint="For the patient, e.g. “Take with food.”"
          rows={2}
          maxLength={MAX_INSTRUCTIONS}
          {...bind('instructions')}
        />
        <Checkbox
          label="Substitution allowed"
          description="The pharmacy may dispense a generic equivalent."
          compact
          checked={draft.substitutionAllowed}
          onChange={(event) => set('substitutionAllowed', event.target.checked)}
        />
        {full && !editing && (
          <p className="field__error">
            This prescription already holds {limits.max_items} medications, the most it may.
          </p>
        )}
        <div className="btn-row">
          <Button onClick={onAdd} disabled={full && !editing}>
            {editing ? 'Save medication' : 'Add medication'}
          </Button>
          {(touched || editing) && (
            <Button variant="ghost" onClick={onClear}>
              {editing ? 'Cancel change' : 'Clear'}
            </Button>
          )}
        </div>
      </div>
    </Card>
  );
}
