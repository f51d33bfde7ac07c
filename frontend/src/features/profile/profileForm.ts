import type {
  Address,
  Allergy,
  Condition,
  EmergencyContact,
  Medication,
  Profile,
  ProfileUpdate,
  Severity,
} from '../../api/types';

/** Form rows carry a stable `key` for React; it is never sent. */
export type AllergyRow = Omit<Allergy, 'severity'> & { key: string; severity: Severity | '' };
export type ConditionRow = Condition & { key: string };
export type MedicationRow = Medication & { key: string };

export interface ProfileFormState {
  first_name: string;
  last_name: string;
  date_of_birth: string;
  phone: string;
  address: Address;
  emergency: EmergencyContact;
  allergies: AllergyRow[];
  conditions: ConditionRow[];
  medications: MedicationRow[];
}

let nextKey = 0;
export function rowKey(): string {
  nextKey += 1;
  return `row-${nextKey}`;
}

export const EMPTY_ADDRESS: Address = {
  line1: '',
  line2: '',
  city: '',
  region: '',
  postal_code: '',
  country: '',
};

export function emptyAllergy(): AllergyRow {
  return { key: rowKey(), substance: '', reaction: '', severity: '' };
}
export function emptyCondition(): ConditionRow {
  return { key: rowKey(), name: '', notes: '' };
}
export function emptyMedication(): MedicationRow {
  return { key: rowKey(), name: '', dose: '', frequency: '' };
}

export function toFormState(profile: Profile): ProfileFormState {
  return {
    first_name: profile.first_name ?? '',
    last_name: profile.last_name ?? '',
    date_of_birth: profile.date_of_birth ?? '',
    phone: profile.phone ?? '',
    address: { ...EMPTY_ADDRESS, ...(profile.address ?? {}) },
    emergency: {
      name: profile.emergency_contact?.name ?? '',
      relationship: profile.emergency_contact?.relationship ?? '',
      phone: profile.emergency_contact?.phone ?? '',
    },
    allergies: (profile.allergies ?? []).map((a) => ({ key: rowKey(), ...a })),
    conditions: (profile.conditions ?? []).map((c) => ({ key: rowKey(), ...c })),
    medications: (profile.medications ?? []).map((m) => ({ key: rowKey(), ...m })),
  };
}

const filled = (...values: string[]) => values.some((v) => v.trim() !== '');

/**
 * Drops rows the user left completely empty, so that list indices in server errors
 * (`allergies.2.severity`) match the rows on screen after saving.
 */
export function withoutBlankRows(state: ProfileFormState): ProfileFormState {
  return {
    ...state,
    allergies: state.allergies.filter((a) => filled(a.substance, a.reaction, a.severity)),
    conditions: state.conditions.filter((c) => filled(c.name, c.notes)),
    medications: state.medications.filter((m) => filled(m.name, m.dose, m.frequency)),
  };
}

/** The PATCH body. Lists are replaced whole by the server. */
export function toPatch(state: ProfileFormState, includeHealth: boolean): ProfileUpdate {
  const trim = (v: string) => v.trim();
  const emergency = state.emergency;
  const patch: ProfileUpdate = {
    first_name: trim(state.first_name),
    last_name: trim(state.last_name),
    date_of_birth: state.date_of_birth || null,
    phone: trim(state.phone),
    address: {
      line1: trim(state.address.line1),
      line2: trim(state.address.line2),
      city: trim(state.address.city),
      region: trim(state.address.region),
      postal_code: trim(state.address.postal_code),
      country: trim(state.address.country),
    },
    emergency_contact: filled(emergency.name, emergency.relationship, emergency.phone)
      ? {
          name: trim(emergency.name),
          relationship: trim(emergency.relationship),
          phone: trim(emergency.phone),
        }
      : null,
  };
  if (includeHealth) {
    const clean = withoutBlankRows(state);
    patch.allergies = clean.allergies.map((a) => ({
      substance: trim(a.substance),
      reaction: trim(a.reaction),
      severity: a.severity as Severity, // required by the form; the server validates too
    }));
    patch.conditions = clean.conditions.map((c) => ({ name: trim(c.name), notes: trim(c.notes) }));
    patch.medications = clean.medications.map((m) => ({
      name: trim(m.name),
      dose: trim(m.dose),
      frequency: trim(m.frequency),
    }));
  }
  return patch;
}

export const SEVERITY_OPTIONS: { value: Severity; label: string }[] = [
  { value: 'mild', label: 'Mild' },
  { value: 'moderate', label: 'Moderate' },
  { value: 'severe', label: 'Severe' },
];
