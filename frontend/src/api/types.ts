/**
 * Shapes from docs/api-accounts.md.
 *
 * Once `npm run gen:api` has produced ./schema.d.ts from the server's OpenAPI schema, each
 * interface below becomes an alias, e.g.
 *   import type { components } from './schema';
 *   export type Me = components['schemas']['Me'];
 * Keep the names here stable: the rest of the app imports them from this file only.
 */

export type Role = 'patient' | 'doctor' | 'nurse' | 'center_admin' | 'platform_admin';

export interface Me {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  roles: Role[];
  email_confirmed: boolean;
  mfa_enabled: boolean;
  mfa_setup_required: boolean;
  center: string | null;
  doctor: string | null;
}

export interface Address {
  line1: string;
  line2: string;
  city: string;
  region: string;
  postal_code: string;
  country: string;
}

export interface EmergencyContact {
  name: string;
  relationship: string;
  phone: string;
}

export type Severity = 'mild' | 'moderate' | 'severe';

export interface Allergy {
  substance: string;
  reaction: string;
  severity: Severity;
}

export interface Condition {
  name: string;
  notes: string;
}

export interface Medication {
  name: string;
  dose: string;
  frequency: string;
}

export interface Profile {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  roles: Role[];
  date_of_birth: string | null;
  phone: string;
  address: Address;
  emergency_contact: EmergencyContact | null;
  allergies: Allergy[];
  conditions: Condition[];
  medications: Medication[];
  is_dependent: boolean;
}

export type ProfileUpdate = Partial<
  Pick<
    Profile,
    | 'first_name'
    | 'last_name'
    | 'date_of_birth'
    | 'phone'
    | 'address'
    | 'emergency_contact'
    | 'allergies'
    | 'conditions'
    | 'medications'
  >
>;

export interface PersonRef {
  id: string;
  first_name: string;
  last_name: string;
}

export type Scope = 'book' | 'message' | 'pay' | 'view_records';
export type GrantStatus = 'pending' | 'active' | 'revoked' | 'expired';

export interface Grant {
  id: string;
  email: string;
  grantee: PersonRef | null;
  patient: PersonRef;
  scopes: Scope[];
  status: GrantStatus;
  expires_at: string | null;
  created_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
}

export interface GrantCreate {
  email: string;
  scopes: Scope[];
  expires_at?: string;
}

/** An entry of GET /api/family/patients/: someone the signed-in user may act for. */
export interface ActingForPatient {
  patient: PersonRef;
  scopes: Scope[];
  relationship: 'family' | 'guardian';
  grant: string;
  expires_at: string | null;
}

export interface Dependent {
  id: string;
  first_name: string;
  last_name: string;
  date_of_birth: string;
}

export interface Money {
  amount: string;
  currency: string;
}

export interface Center {
  id: string;
  name: string;
  address: string;
  city: string;
  latitude: string | null;
  longitude: string | null;
  phone: string;
  timezone: string;
}

export interface StaffMember {
  id: string;
  user: string;
  first_name: string;
  last_name: string;
  email: string;
  role: 'doctor' | 'nurse' | 'center_admin';
}

export type StaffRole = 'doctor' | 'nurse';

export interface StaffInvitation {
  id: string;
  email: string;
  role: StaffRole;
  status: 'pending' | 'accepted' | 'revoked';
  created_at: string;
  accepted_at: string | null;
}

export interface DoctorProfile {
  id: string;
  user: string;
  name: string;
  center: string;
  specialties: string[];
  bio: string;
  languages: string[];
  fee_online: Money | null;
  fee_in_person: Money | null;
  license_number: string;
  photo_url: string | null;
}

export type DoctorProfileUpdate = Partial<
  Pick<
    DoctorProfile,
    'specialties' | 'bio' | 'languages' | 'fee_online' | 'fee_in_person' | 'license_number'
  >
>;

export interface Specialty {
  slug: string;
  name: string;
}

export interface Language {
  code: string;
  name: string;
}

export interface MfaSetup {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

export interface RegisterResult {
  email: string;
  email_confirmation_required: boolean;
}
