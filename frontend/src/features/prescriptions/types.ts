/**
 * The prescriptions API's shapes, written by hand from docs/api-prescriptions.md (the server side
 * is being built in parallel, so ../../api/schema.d.ts does not carry them yet). Once
 * `npm run gen:api` includes the prescriptions serializers, replace these with aliases in
 * ../../api/types.ts.
 */

// ------------------------------------------------------------------ catalog and vocabulary

/** US DEA schedule, or "" when not controlled. */
export type ControlledSchedule = '' | 'II' | 'III' | 'IV' | 'V';

/** An entry of GET /api/medications/?q=&limit= */
export interface CatalogMedication {
  id: string;
  slug: string;
  name: string;
  ingredients: string[];
  classes: string[];
  forms: string[];
  strengths: string[];
  routes: string[];
  brand_names: string[];
  rxnorm: string;
  controlled: string;
  has_interaction_data: boolean;
}

export interface MedicationList {
  results: CatalogMedication[];
}

export interface Frequency {
  code: string;
  /** What the patient reads: "twice a day". */
  label: string;
  /** Local "HH:MM" reminder times (empty: no reminders). */
  times: string[];
  as_needed: boolean;
}

export interface RouteOption {
  code: string;
  label: string;
}

export interface PrescribingLimits {
  max_items: number;
  max_quantity: number;
  max_duration_days: number;
  max_refills: number;
  max_refills_controlled: number;
}

/** GET /api/prescriptions/vocabulary/ */
export interface Vocabulary {
  frequencies: Frequency[];
  routes: RouteOption[];
  limits: PrescribingLimits;
}

// ------------------------------------------------------------------ the safety check

export type FindingKind = 'allergy' | 'duplicate' | 'interaction';
export type FindingSeverity = 'contraindicated' | 'major' | 'moderate' | 'minor';

export interface Finding {
  /** Stable id, e.g. "interaction:ibuprofen|warfarin": what an override names. */
  id: string;
  kind: FindingKind;
  severity: FindingSeverity;
  medications: string[];
  message: string;
  source: string;
  requires_override: boolean;
}

/** POST /api/prescriptions/check/ */
export interface CheckInput {
  patient: string;
  /** Catalog ids, or the names of medicines not in the catalog. */
  medications: string[];
}

export interface CheckResult {
  findings: Finding[];
  /** Every medication the check could not cover: the UI says so. */
  no_data: string[];
}

// ------------------------------------------------------------------ prescribing

interface ItemFields {
  strength: string;
  form: string;
  dose: string;
  route: string;
  frequency: string;
  duration_days: number;
  quantity: number;
  refills: number;
  instructions: string;
  substitution_allowed: boolean;
}

export interface CatalogItemInput extends ItemFields {
  medication: string;
}

export interface FreeTextItemInput extends ItemFields {
  medication: null;
  free_text: true;
  name: string;
}

export type PrescriptionItemInput = CatalogItemInput | FreeTextItemInput;

export interface OverrideInput {
  finding: string;
  reason: string;
}

/** Signing asks again for the doctor's password or a current code (TOTP or backup code). */
export type Reauth = { password: string } | { otp: string };

/** POST /api/prescriptions/ */
export type PrescriptionCreate = {
  patient: string;
  appointment?: string;
  items: PrescriptionItemInput[];
  overrides: OverrideInput[];
} & Reauth;

// ------------------------------------------------------------------ reading

export type PrescriptionStatus = 'active' | 'completed' | 'cancelled' | 'expired';
export type RefillStatus = 'pending' | 'approved' | 'declined';
export type SendStatus = 'queued' | 'sent' | 'failed';

export interface PrescriptionItem extends ItemFields {
  medication: string | null;
  name: string;
  free_text: boolean;
  frequency_label: string;
  /** "By mouth" (the server sends it; not in the contract). */
  route_label?: string;
}

export interface PrescriptionOverride {
  finding: string;
  reason: string;
  severity: FindingSeverity;
  kind?: string;
  message: string;
}

export interface PrescriptionDoctor {
  /** The doctor profile's id (Me.doctor for the signed-in doctor). */
  id: string;
  name: string;
  center: string;
  license_number: string;
}

export interface RefillRequest {
  id: string;
  status: RefillStatus;
  requested_at: string;
  decline_reason: string;
  decided_at?: string | null;
  new_prescription?: string | null;
}

export interface PharmacyRef {
  id: string;
  name: string;
}

export interface PharmacySend {
  id: string;
  pharmacy: PharmacyRef;
  status: SendStatus;
  created_at: string;
  channel?: string;
  sent_at?: string | null;
}

/** PRESCRIPTION: GET /api/prescriptions/{id}/ and every change to one. */
export interface Prescription {
  id: string;
  patient: string;
  patient_name: string;
  doctor: PrescriptionDoctor;
  appointment: string | null;
  status: PrescriptionStatus;
  issued_at: string;
  expires_at: string;
  verification_code: string;
  refill_of: string | null;
  renewal: string | null;
  items: PrescriptionItem[];
  overrides: PrescriptionOverride[];
  refills_left: number;
  refill_request: RefillRequest | null;
  cancel_reason: string;
  reminders_enabled: boolean;
  reminder_times: string[];
  sends: PharmacySend[];
  conversation: string | null;
  can_cancel: boolean;
  can_request_refill: boolean;
  // The server sends these too (not in the contract yet): used when present.
  reminder_timezone?: string;
  /** The viewer is the prescribing doctor and a refill request is pending. */
  can_decide_refill?: boolean;
  /** The viewer is the patient side and the prescription is active. */
  can_send?: boolean;
  pdf_url?: string;
  fhir_url?: string;
}

/** GET /api/prescriptions/?patient=&status= */
export interface PrescriptionList {
  results: Prescription[];
}

/** GET /api/prescriptions/verify/?code= (anyone: no patient data). */
export interface VerifyResult {
  valid: boolean;
  /** The rest is absent when no prescription has the code. */
  status?: PrescriptionStatus | string;
  issued_at?: string | null;
  expires_at?: string | null;
  doctor_name?: string;
  center_name?: string;
  item_count?: number;
}

// ------------------------------------------------------------------ pharmacies

export type PharmacyChannel = 'email' | 'fhir';

export interface Pharmacy {
  id: string;
  name: string;
  address: string;
  city: string;
  postal_code: string;
  phone: string;
  email: string;
  opening_hours: string;
  channel: PharmacyChannel;
}

export interface PharmacyList {
  results: Pharmacy[];
}

/** GET/PUT /api/pharmacies/preferred/ */
export interface PreferredPharmacy {
  pharmacy: Pharmacy | null;
}

/** GET /api/pharmacy-inbox/<token>/ (the pharmacy's page behind the emailed link). */
export interface PharmacyInbox {
  /** The pharmacy's name. */
  pharmacy: string;
  verification_code: string;
  status: string;
  issued_at: string;
  expires_at: string;
  doctor_name: string;
  pdf_url?: string;
  fhir_url?: string;
}
