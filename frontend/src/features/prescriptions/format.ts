/**
 * The pure side of prescriptions: statuses and severities, the prescribe form's items and the
 * body it posts, which findings need an override, why a refill cannot be asked for, and the
 * chat cards' badges. No React here (see prescriptions.test.ts).
 */
import type { CardState } from '../../api/types';
import type { BadgeTone } from '../../components/Badge';
import { flattenFieldErrors } from '../../api/client';
import type {
  CatalogMedication,
  CheckResult,
  Finding,
  FindingKind,
  FindingSeverity,
  OverrideInput,
  PrescribingLimits,
  Prescription,
  PrescriptionCreate,
  PrescriptionItem,
  PrescriptionItemInput,
  PrescriptionStatus,
  Reauth,
  RefillStatus,
  SendStatus,
} from './types';

// ------------------------------------------------------------------ statuses

type Look = { label: string; tone: BadgeTone };

export const PRESCRIPTION_STATUS: Record<PrescriptionStatus, Look> = {
  active: { label: 'Active', tone: 'success' },
  completed: { label: 'Completed', tone: 'neutral' },
  cancelled: { label: 'Cancelled', tone: 'danger' },
  expired: { label: 'Expired', tone: 'neutral' },
};

export const REFILL_STATUS: Record<RefillStatus, Look> = {
  pending: { label: 'Waiting for the doctor', tone: 'warning' },
  approved: { label: 'Approved', tone: 'success' },
  declined: { label: 'Declined', tone: 'danger' },
};

export const SEND_STATUS: Record<SendStatus, Look> = {
  queued: { label: 'Sending', tone: 'info' },
  sent: { label: 'Sent', tone: 'success' },
  failed: { label: 'Failed', tone: 'danger' },
};

function oneOf<T extends string>(values: Record<T, unknown>, value: unknown): T | null {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(values, value)
    ? (value as T)
    : null;
}

export const asPrescriptionStatus = (value: unknown) => oneOf(PRESCRIPTION_STATUS, value);
export const asRefillStatus = (value: unknown) => oneOf(REFILL_STATUS, value);
export const asSendStatus = (value: unknown) => oneOf(SEND_STATUS, value);

export function prescriptionStatusLook(status: string): Look {
  const known = asPrescriptionStatus(status);
  return known ? PRESCRIPTION_STATUS[known] : { label: status || 'Unknown', tone: 'neutral' };
}

// ------------------------------------------------------------------ findings

export const SEVERITY: Record<FindingSeverity, Look & { rank: number }> = {
  contraindicated: { label: 'Contraindicated', tone: 'danger', rank: 0 },
  major: { label: 'Major', tone: 'danger', rank: 1 },
  moderate: { label: 'Moderate', tone: 'warning', rank: 2 },
  minor: { label: 'Minor', tone: 'info', rank: 3 },
};

export const KIND_LABEL: Record<FindingKind, string> = {
  allergy: 'Allergy',
  duplicate: 'Duplicate therapy',
  interaction: 'Interaction',
};

export function severityLook(severity: string): Look & { rank: number } {
  const known = oneOf(SEVERITY, severity);
  return known ? SEVERITY[known] : { label: severity || 'Unknown', tone: 'neutral', rank: 4 };
}

/** Contraindicated and major findings need a written reason before signing. */
export function needsOverride(finding: Pick<Finding, 'severity' | 'requires_override'>): boolean {
  return (
    finding.requires_override ||
    finding.severity === 'contraindicated' ||
    finding.severity === 'major'
  );
}

/** Most severe first; among equals, the ones needing an override first; then a stable order. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityLook(a.severity).rank - severityLook(b.severity).rank ||
      Number(needsOverride(b)) - Number(needsOverride(a)) ||
      a.id.localeCompare(b.id),
  );
}

export function findingsNeedingOverride(findings: readonly Finding[]): Finding[] {
  return sortFindings(findings).filter(needsOverride);
}

/** "Warfarin and Ibuprofen", "A, B and C". */
export function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * The override textbox's label: "Override reason for Warfarin and Ibuprofen"; when two findings
 * name the same medicines, the kind (and then the id) tells them apart.
 */
export function overrideLabel(finding: Finding, all: readonly Finding[]): string {
  const base = `Override reason for ${joinNames(finding.medications) || finding.id}`;
  const same = all.filter((f) => joinNames(f.medications) === joinNames(finding.medications));
  if (same.length <= 1) return base;
  const sameKind = same.filter((f) => f.kind === finding.kind);
  const kind = KIND_LABEL[finding.kind] ?? finding.kind;
  return sameKind.length <= 1 ? `${base} (${kind.toLowerCase()})` : `${base} (${finding.id})`;
}

/** The ids of findings that need an override and have no reason yet. */
export function missingOverrides(
  findings: readonly Finding[],
  reasons: Readonly<Record<string, string>>,
): string[] {
  return findingsNeedingOverride(findings)
    .filter((f) => !(reasons[f.id] ?? '').trim())
    .map((f) => f.id);
}

export function noDataText(name: string): string {
  return `No interaction data for: ${name}. This medicine was not checked for interactions.`;
}

/** A check answer with nothing to say (no findings, every medicine covered). */
export function isAllClear(result: CheckResult | undefined): boolean {
  return !!result && result.findings.length === 0 && result.no_data.length === 0;
}

// ------------------------------------------------------------------ the prescribe form

/** One medicine of the prescription being written, as typed (numbers still text). */
export interface ItemDraft {
  /** A local key (React lists; the override and error mapping use the position). */
  key: string;
  medication: CatalogMedication | null;
  freeText: boolean;
  /** The medicine's name when it is not in the catalog. */
  name: string;
  strength: string;
  form: string;
  dose: string;
  route: string;
  frequency: string;
  durationDays: string;
  quantity: string;
  refills: string;
  instructions: string;
  substitutionAllowed: boolean;
}

export type DraftField =
  | 'medication'
  | 'name'
  | 'strength'
  | 'form'
  | 'dose'
  | 'route'
  | 'frequency'
  | 'durationDays'
  | 'quantity'
  | 'refills'
  | 'instructions';

export type DraftProblems = Partial<Record<DraftField, string>>;

/** The API's item field each draft field is sent as (for the server's 400 field errors). */
export const API_FIELD: Record<DraftField, string> = {
  medication: 'medication',
  name: 'name',
  strength: 'strength',
  form: 'form',
  dose: 'dose',
  route: 'route',
  frequency: 'frequency',
  durationDays: 'duration_days',
  quantity: 'quantity',
  refills: 'refills',
  instructions: 'instructions',
};

let draftCounter = 0;

export function emptyDraft(): ItemDraft {
  draftCounter += 1;
  return {
    key: `item-${draftCounter}`,
    medication: null,
    freeText: false,
    name: '',
    strength: '',
    form: '',
    dose: '',
    route: '',
    frequency: '',
    durationDays: '',
    quantity: '',
    refills: '0',
    instructions: '',
    substitutionAllowed: true,
  };
}

function only(values: readonly string[]): string {
  return values.length === 1 ? (values[0] ?? '') : '';
}

/** A catalog medicine was chosen: keep what was typed, take its single strength/form/route. */
export function withMedication(draft: ItemDraft, medication: CatalogMedication): ItemDraft {
  const keep = (value: string, allowed: readonly string[]) =>
    allowed.includes(value) ? value : only(allowed);
  return {
    ...draft,
    medication,
    freeText: false,
    name: '',
    strength: keep(draft.strength, medication.strengths),
    form: keep(draft.form, medication.forms),
    route: keep(draft.route, medication.routes),
  };
}

/** "Not in catalog (free text)": the name is typed; nothing checks it for interactions. */
export function asFreeText(draft: ItemDraft, name: string): ItemDraft {
  return { ...draft, medication: null, freeText: true, name, strength: '', form: '' };
}

/** The medicine's name as the form shows it. */
export function draftName(draft: ItemDraft): string {
  return draft.freeText ? draft.name.trim() : (draft.medication?.name ?? '');
}

/** Whether a medicine has been chosen (from the catalog, or typed as free text). */
export function hasMedicine(draft: ItemDraft): boolean {
  return !!draftName(draft);
}

/** What the safety check is sent for this item: the catalog id, or the free-text name. */
export function checkKey(draft: ItemDraft): string | null {
  if (draft.freeText) return draft.name.trim() || null;
  return draft.medication?.id ?? null;
}

export function checkKeys(drafts: readonly ItemDraft[]): string[] {
  return drafts.map(checkKey).filter((k): k is string => !!k);
}

/** Refills allowed for a medicine: none for schedule II, fewer for III–V. */
export function maxRefillsFor(controlled: string | undefined, limits: PrescribingLimits): number {
  const schedule = (controlled ?? '').trim().toUpperCase();
  if (schedule === 'II') return 0;
  if (schedule) return Math.min(limits.max_refills, limits.max_refills_controlled);
  return limits.max_refills;
}

/** A whole number typed in a field, or null. */
export function wholeNumber(value: string): number | null {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  return Number(trimmed);
}

export const MAX_INSTRUCTIONS = 1000;
/** The server's limits on a free-text name, and on dose, strength and form. */
export const MAX_NAME = 120;
export const MAX_SHORT_TEXT = 60;

/** What is wrong with one item (empty when it can be added); the server checks again. */
export function itemProblems(
  draft: ItemDraft,
  limits: PrescribingLimits,
  known?: { frequencies: readonly string[]; routes: readonly string[] },
): DraftProblems {
  const problems: DraftProblems = {};
  const med = draft.medication;
  if (draft.freeText) {
    if (!draft.name.trim()) problems.name = 'Enter the name of the medicine.';
    else if (draft.name.trim().length > MAX_NAME) problems.name = `At most ${MAX_NAME} characters.`;
  } else if (!med) {
    problems.medication = 'Choose a medication from the list.';
  }
  if (med && med.strengths.length > 0 && !draft.strength) problems.strength = 'Choose a strength.';
  if (med && med.forms.length > 0 && !draft.form) problems.form = 'Choose a form.';
  if (!draft.dose.trim()) problems.dose = 'Enter the dose, for example "1 tablet".';
  else if (draft.dose.trim().length > MAX_SHORT_TEXT) {
    problems.dose = `At most ${MAX_SHORT_TEXT} characters.`;
  }
  if (draft.strength.trim().length > MAX_SHORT_TEXT) {
    problems.strength = `At most ${MAX_SHORT_TEXT} characters.`;
  }
  if (draft.form.trim().length > MAX_SHORT_TEXT) {
    problems.form = `At most ${MAX_SHORT_TEXT} characters.`;
  }
  if (!draft.route) problems.route = 'Choose a route.';
  else if (known && !known.routes.includes(draft.route)) problems.route = 'Choose a route.';
  if (!draft.frequency) problems.frequency = 'Choose how often.';
  else if (known && !known.frequencies.includes(draft.frequency)) {
    problems.frequency = 'Choose how often.';
  }

  const days = wholeNumber(draft.durationDays);
  if (days === null) problems.durationDays = 'Enter the number of days.';
  else if (days < 1 || days > limits.max_duration_days) {
    problems.durationDays = `Between 1 and ${limits.max_duration_days} days.`;
  }

  const quantity = wholeNumber(draft.quantity);
  if (quantity === null) problems.quantity = 'Enter the quantity to dispense.';
  else if (quantity < 1 || quantity > limits.max_quantity) {
    problems.quantity = `Between 1 and ${limits.max_quantity}.`;
  }

  const refills = wholeNumber(draft.refills || '0');
  const maxRefills = maxRefillsFor(med?.controlled, limits);
  if (refills === null) problems.refills = 'Enter a whole number (0 for none).';
  else if (refills > maxRefills) {
    problems.refills =
      maxRefills === 0
        ? 'No refills are allowed for this medicine (schedule II).'
        : `At most ${maxRefills} refills${med?.controlled ? ` (schedule ${med.controlled})` : ''}.`;
  }
  if (draft.instructions.trim().length > MAX_INSTRUCTIONS) {
    problems.instructions = `At most ${MAX_INSTRUCTIONS} characters.`;
  }
  return problems;
}

export function hasProblems(problems: DraftProblems): boolean {
  return Object.values(problems).some(Boolean);
}

/** One item as the API takes it. */
export function itemInput(draft: ItemDraft): PrescriptionItemInput {
  const fields = {
    strength: draft.strength.trim(),
    form: draft.form.trim(),
    dose: draft.dose.trim(),
    route: draft.route,
    frequency: draft.frequency,
    duration_days: wholeNumber(draft.durationDays) ?? 0,
    quantity: wholeNumber(draft.quantity) ?? 0,
    refills: wholeNumber(draft.refills || '0') ?? 0,
    instructions: draft.instructions.trim(),
    substitution_allowed: draft.substitutionAllowed,
  };
  if (draft.freeText || !draft.medication) {
    return { medication: null, free_text: true, name: draft.name.trim(), ...fields };
  }
  return { medication: draft.medication.id, ...fields };
}

/** The overrides to send: a reason for every finding that needs one (trimmed, none empty). */
export function overridesFor(
  findings: readonly Finding[],
  reasons: Readonly<Record<string, string>>,
): OverrideInput[] {
  return findingsNeedingOverride(findings)
    .map((f) => ({ finding: f.id, reason: (reasons[f.id] ?? '').trim() }))
    .filter((o) => o.reason);
}

export type ReauthMode = 'password' | 'otp';

/** The re-authentication part of a signing body, or null when nothing was typed. */
export function reauthPayload(mode: ReauthMode, value: string): Reauth | null {
  if (mode === 'password') return value ? { password: value } : null;
  const code = value.replace(/\s+/g, '');
  return code ? { otp: code } : null;
}

/** POST /api/prescriptions/ from the form's state. */
export function buildPrescriptionBody({
  patient,
  appointment,
  items,
  findings,
  reasons,
  auth,
}: {
  patient: string;
  appointment?: string | null;
  items: readonly ItemDraft[];
  findings: readonly Finding[];
  reasons: Readonly<Record<string, string>>;
  auth: Reauth;
}): PrescriptionCreate {
  return {
    patient,
    ...(appointment ? { appointment } : {}),
    items: items.map(itemInput),
    overrides: overridesFor(findings, reasons),
    ...auth,
  };
}

export type SignBlockerCode =
  'editor' | 'empty' | 'too_many' | 'check_failed' | 'check_pending' | 'overrides';

export interface SignBlocker {
  code: SignBlockerCode;
  text: string;
}

/**
 * Why the form cannot be signed yet (empty when it can): a medicine left in the editor, no
 * items or too many, a check still running or failed, an override reason missing.
 */
export function signBlockers({
  items,
  limits,
  checkCurrent,
  checkFailed,
  findings,
  reasons,
  editor,
}: {
  items: readonly ItemDraft[];
  limits: PrescribingLimits;
  checkCurrent: boolean;
  checkFailed: boolean;
  findings: readonly Finding[];
  reasons: Readonly<Record<string, string>>;
  /** A medicine in the editor not added yet (or a change to one not saved). */
  editor?: { name: string; editing: boolean } | null;
}): SignBlocker[] {
  const out: SignBlocker[] = [];
  if (editor) {
    out.push({
      code: 'editor',
      text: editor.editing
        ? `Save your change to ${editor.name} (Save medication) or cancel it first.`
        : `Add ${editor.name} to the prescription (Add medication) or clear it first.`,
    });
  }
  if (items.length === 0) out.push({ code: 'empty', text: 'Add at least one medication.' });
  if (items.length > limits.max_items) {
    out.push({
      code: 'too_many',
      text: `A prescription holds at most ${limits.max_items} medications.`,
    });
  }
  if (items.length > 0 && checkFailed) {
    out.push({ code: 'check_failed', text: 'The safety check did not run. Run it again.' });
  } else if (items.length > 0 && !checkCurrent) {
    out.push({ code: 'check_pending', text: 'Wait for the safety check to finish.' });
  }
  const missing = checkCurrent ? missingOverrides(findings, reasons).length : 0;
  if (missing > 0) {
    out.push({
      code: 'overrides',
      text:
        missing === 1
          ? 'Give an override reason for the warning above.'
          : `Give an override reason for each of the ${missing} warnings above.`,
    });
  }
  return out;
}

/** Only the running check stands in the way: signing can go on once it answers. */
export function onlyWaitingForCheck(blockers: readonly SignBlocker[]): boolean {
  return blockers.length > 0 && blockers.every((b) => b.code === 'check_pending');
}

/** The server's 400 field errors about item `index` ("items.2.quantity"), as lines to show. */
export function itemServerErrors(fields: Record<string, unknown>, index: number): string[] {
  const flat = flattenFieldErrors(fields);
  const prefix = `items.${index}`;
  const out: string[] = [];
  for (const [key, messages] of Object.entries(flat)) {
    if (key !== prefix && !key.startsWith(`${prefix}.`)) continue;
    const field = key.slice(prefix.length + 1);
    const label = field ? (FIELD_LABEL[field] ?? field) : '';
    out.push(`${label ? `${label}: ` : ''}${messages.join(' ')}`);
  }
  return out;
}

const FIELD_LABEL: Record<string, string> = {
  medication: 'Medication',
  name: 'Medication name',
  free_text: 'Medication',
  strength: 'Strength',
  form: 'Form',
  dose: 'Dose',
  route: 'Route',
  frequency: 'Frequency',
  duration_days: 'Duration',
  quantity: 'Quantity',
  refills: 'Refills',
  instructions: 'Instructions',
  substitution_allowed: 'Substitution',
};

/** The finding ids of a 400 `override_required` (`fields.findings`). */
export function overrideRequiredIds(fields: Record<string, unknown>): string[] {
  const value = fields.findings;
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return [value];
  return [];
}

// ------------------------------------------------------------------ reading a prescription

/** "Amoxicillin 500 mg capsule" */
export function medicineLine(item: Pick<PrescriptionItem, 'name' | 'strength' | 'form'>): string {
  return [item.name, item.strength, item.form].filter(Boolean).join(' ');
}

/** "Amoxicillin 500 mg capsule; Ibuprofen 400 mg tablet" */
export function medicinesText(prescription: Pick<Prescription, 'items'>): string {
  return prescription.items.map(medicineLine).join('; ');
}

/** "1 capsule, by mouth, three times a day, for 7 days" */
export function directions(
  item: Pick<
    PrescriptionItem,
    'dose' | 'route' | 'frequency' | 'frequency_label' | 'duration_days'
  >,
  routeLabel?: (code: string) => string,
): string {
  const route = routeLabel ? routeLabel(item.route) : item.route;
  const days = item.duration_days === 1 ? 'for 1 day' : `for ${item.duration_days} days`;
  return [item.dose, route.toLowerCase(), item.frequency_label || item.frequency, days]
    .filter(Boolean)
    .join(', ');
}

/** Active first, then newest first (the server's order, kept when the cache is patched). */
export function sortPrescriptions(list: readonly Prescription[]): Prescription[] {
  return [...list].sort(
    (a, b) =>
      Number(b.status === 'active') - Number(a.status === 'active') ||
      Date.parse(b.issued_at) - Date.parse(a.issued_at),
  );
}

/** "08:00 and 20:00" */
export function reminderTimesText(times: readonly string[]): string {
  return joinNames(times);
}

/**
 * Why "Request refill" is disabled (null: it can be asked for). The server's
 * `can_request_refill` has the final word; the reasons explain it.
 */
export function refillBlocker(
  prescription: Pick<
    Prescription,
    'status' | 'refills_left' | 'refill_request' | 'can_request_refill' | 'doctor'
  >,
): string | null {
  switch (prescription.status) {
    case 'cancelled':
      return 'This prescription was cancelled.';
    case 'expired':
      return 'This prescription has expired.';
    case 'completed':
      return 'This prescription is completed.';
    default:
      break;
  }
  if (prescription.status !== 'active') return 'This prescription is not active.';
  if (prescription.refill_request?.status === 'pending') {
    return `A refill request is already waiting for ${prescription.doctor.name}.`;
  }
  if (prescription.refills_left <= 0) {
    return 'No refills left. Ask your doctor for a new prescription.';
  }
  if (!prescription.can_request_refill) return 'A refill cannot be requested right now.';
  return null;
}

/** "2 refills left", "1 refill left", "No refills left". */
export function refillsLeftText(count: number): string {
  if (count <= 0) return 'No refills left';
  return count === 1 ? '1 refill left' : `${count} refills left`;
}

/** The signed-in doctor wrote this prescription. */
export function isPrescribingDoctor(
  prescription: Pick<Prescription, 'doctor'>,
  me: { doctor: string | null },
): boolean {
  return !!me.doctor && prescription.doctor.id === me.doctor;
}

/** The viewer is the patient or acts for them (refills, pharmacy, reminders). */
export function isPatientSide(
  prescription: Pick<Prescription, 'patient'>,
  me: { id: string },
  actingFor: string | null,
): boolean {
  return prescription.patient === me.id || (!!actingFor && prescription.patient === actingFor);
}

/** "k7qx 4m2p9tra" → "K7QX-4M2P-9TRA" (the printed form); anything else is left as typed. */
export function normaliseCode(value: string): string {
  const compact = value.replace(/[\s-]+/g, '').toUpperCase();
  if (/^[A-Z0-9]{12}$/.test(compact)) {
    return `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8)}`;
  }
  return value.trim().toUpperCase();
}

// ------------------------------------------------------------------ entry points

/** /prescribe?patient=…&appointment=… */
export function prescribePath(patient?: string | null, appointment?: string | null): string {
  const params = new URLSearchParams();
  if (patient) params.set('patient', patient);
  if (appointment) params.set('appointment', appointment);
  const query = params.toString();
  return query ? `/prescribe?${query}` : '/prescribe';
}

export const PRESCRIBE_WINDOW_DAYS = 7;
const CONSULT_OPENS_MS = 10 * 60_000;
const DAY_MS = 24 * 60 * 60_000;

/**
 * Whether the week page offers "Prescribe" for an appointment: while it is on (from ten minutes
 * before its start) and up to seven days after it ended. The server decides (403
 * `no_recent_consult`).
 */
export function canPrescribeFor(
  appointment: { status: string; start: string; end: string },
  now: number = Date.now(),
): boolean {
  if (appointment.status !== 'confirmed' && appointment.status !== 'completed') return false;
  const start = Date.parse(appointment.start);
  const end = Date.parse(appointment.end);
  if (!Number.isFinite(start) || !Number.isFinite(end)) return false;
  return now >= start - CONSULT_OPENS_MS && now <= end + PRESCRIBE_WINDOW_DAYS * DAY_MS;
}

// ------------------------------------------------------------------ chat cards

/** The `prescriptions.issue_prescription` card: the payload's status follows the prescription. */
export function prescriptionCardLook(state: CardState | undefined, status: unknown): Look {
  const known = asPrescriptionStatus(status);
  if (known) return PRESCRIPTION_STATUS[known];
  if (state === 'cancelled') return PRESCRIPTION_STATUS.cancelled;
  if (state === 'expired') return PRESCRIPTION_STATUS.expired;
  return PRESCRIPTION_STATUS.active;
}

/** The `prescriptions.request_refill` card: open until the doctor decides. */
export function refillCardStatus(state: CardState | undefined, status: unknown): RefillStatus {
  const known = asRefillStatus(status);
  if (known) return known;
  if (state === 'completed') return 'approved';
  if (state === 'cancelled') return 'declined';
  return 'pending';
}

/** The `prescriptions.send_to_pharmacy` card: `failed` when the pharmacy could not be reached. */
export function sendCardStatus(state: CardState | undefined, status: unknown): SendStatus {
  if (state === 'failed') return 'failed';
  const known = asSendStatus(status);
  if (known) return known;
  return state === 'completed' ? 'sent' : 'queued';
}
