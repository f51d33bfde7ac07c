/**
 * The API's shapes, as the rest of the app names them.
 *
 * Every type here is an alias of a component of ./schema.d.ts, which `npm run gen:api` generates
 * from the server's OpenAPI schema (never edit it by hand). Responses use the plain components,
 * request bodies the `...Request` ones. The app imports these names from this file only, so that
 * a regenerated schema is checked against every use.
 *
 * The few places where the generated schema is looser than what the server really sends are
 * narrowed in the "Corrections" block at the end, each with the serializer to fix; delete a
 * correction once the regenerated schema carries the precise type.
 */
import type { components } from './schema';

type Schemas = components['schemas'];

// ------------------------------------------------------------------ enums

export type Role = Schemas['RoleEnum'];
export type Severity = Schemas['SeverityEnum'];
export type Scope = Schemas['ScopeEnum'];
export type GrantStatus = Schemas['GrantStatusEnum'];
export type Relationship = Schemas['RelationshipEnum'];
export type StaffRole = Schemas['StaffRoleEnum'];
export type InvitationStatus = Schemas['InvitationStatusEnum'];
export type LanguageCode = Schemas['LanguageEnum'];

// ------------------------------------------------------------------ auth

export type Me = Schemas['MeOutput'];
export type RegisterResult = Schemas['RegisterOutput'];
export type MfaSetup = Schemas['MfaSetupOutput'];
export type BackupCodes = Schemas['BackupCodesOutput'];

export type LoginInput = Schemas['LoginInputRequest'];
export type RegisterInput = Schemas['RegisterInputRequest'];
export type PasswordResetConfirmInput = Schemas['PasswordResetConfirmInputRequest'];
export type TokenInput = Schemas['TokenInputRequest'];
export type EmailInput = Schemas['EmailInputRequest'];
export type OtpInput = Schemas['OtpInputRequest'];
export type PasswordInput = Schemas['PasswordInputRequest'];

// ------------------------------------------------------------------ profile

export type Address = Schemas['Address'];
export type EmergencyContact = Schemas['EmergencyContact'];
export type Allergy = Schemas['Allergy'];
export type Condition = Schemas['Condition'];
export type Medication = Schemas['Medication'];
export type Profile = Schemas['ProfileOutput'];

/** PATCH /api/profile/ and /api/patients/{id}/profile/. */
export type ProfileUpdate = Schemas['PatchedProfileInputRequest'];

// ------------------------------------------------------------------ family

export type PersonRef = Schemas['PersonOutput'];
export type Grant = Schemas['GrantOutput'];
export type GrantCreate = Schemas['GrantInputRequest'];
/** An entry of GET /api/family/patients/: someone the signed-in user may act for. */
export type ActingForPatient = Schemas['ActablePatientOutput'];
export type Dependent = Schemas['DependentOutput'];
export type DependentCreate = Schemas['DependentInputRequest'];

// ------------------------------------------------------------------ centers and staff

export type Center = Schemas['CenterOutput'];
export type CenterUpdate = Schemas['PatchedCenterInputRequest'];
export type StaffMember = Schemas['StaffOutput'];
export type StaffInvitation = Schemas['StaffInvitationOutput'];
export type StaffInvitationCreate = Schemas['StaffInvitationInputRequest'];
export type StaffAcceptInput = Schemas['StaffAcceptInputRequest'];

// ------------------------------------------------------------------ doctors

/**
 * An amount of money, e.g. `{ amount: "35.00", currency: "EUR" }`. The schema has this shape only
 * as a request component (the fee fields of DoctorProfileOutput are not typed by the server: see
 * the corrections below).
 */
export type Money = Schemas['MoneyOutput'];
export type MoneyInput = Schemas['MoneyRequest'];
export type Specialty = Schemas['SpecialtyOutput'];
export type DoctorProfileUpdate = Schemas['PatchedDoctorProfileInputRequest'];

export type Language = Schemas['LanguageOutput'];
export type DoctorProfile = Schemas['DoctorProfileOutput'];

// ------------------------------------------------------------------ directory and booking

export type ConsultMode = Schemas['ConsultModeEnum'];
export type SlotMode = Schemas['SlotModeEnum'];
export type AppointmentStatus = Schemas['AppointmentOutputStatusEnum'];
export type WaitlistStatus = Schemas['WaitlistOutputStatusEnum'];
export type ExceptionKind = Schemas['KindEnum'];

export type DoctorFees = Schemas['FeesOutput'];
export type NextAvailable = Schemas['NextSlotOutput'];
/** A search result of GET /api/doctors/. */
export type DoctorCard = Schemas['DoctorCardOutput'];
export type DoctorSearchResult = Schemas['DoctorPageOutput'];
/** GET /api/doctors/{id}/. */
export type Doctor = Schemas['DoctorDetailOutput'];
export type Review = Schemas['ReviewOutput'];
export type Slot = Schemas['SlotOutput'];

/** `{id, name}` of a patient or of who booked. */
export type NamedRef = Schemas['AppointmentPersonOutput'];
export type AppointmentDoctor = Schemas['DoctorLiteOutput'];
export type Appointment = Schemas['AppointmentOutput'];
export type AppointmentCreate = Schemas['BookInputRequest'];
export type NewPatient = Schemas['NewPatientInputRequest'];
export type RescheduleInput = Schemas['RescheduleInputRequest'];
export type ReviewCreate = Schemas['ReviewInputRequest'];

export type WaitlistOffer = Schemas['OfferOutput'];
export type WaitlistEntry = Schemas['WaitlistOutput'];
export type WaitlistCreate = Schemas['WaitlistInputRequest'];

export type Rule = Schemas['RuleOutput'];
export type RuleInput = Schemas['RuleInputRequest'];
export type RulePreviewInput = Schemas['PreviewInputRequest'];
export type ScheduleException = Schemas['ExceptionOutput'];
export type ScheduleExceptionCreate = Schemas['ExceptionInputRequest'];
export type ScheduleChange = Schemas['ScheduleChangeOutput'];
export type SchedulePreview = Schemas['PreviewOutput'];
export type DoctorWeek = Schemas['WeekOutput'];
/** An entry of GET /api/doctor/patients/. */
export type DoctorPatient = Schemas['AppointmentPersonOutput'];
export type BookingPolicy = Schemas['PolicyOutput'];

// ------------------------------------------------------------------ chat

export type ConversationKind = Schemas['ConversationKindEnum'];
/** An inbox entry: GET /api/conversations/ and /api/conversations/{id}/. */
export type Conversation = Schemas['ConversationOutput'];
export type ConversationParticipant = Schemas['ParticipantOutput'];
export type ParticipantRole = Schemas['ParticipantOutputRoleEnum'];
export type ConversationOpen = Schemas['OpenConversationInputRequest'];
/** API.md's MESSAGE (REST history and every websocket frame that carries one). */
export type ChatMessage = Schemas['MessageOutput'];
export type ChatAttachment = Schemas['AttachmentOutput'];
export type AttachmentContentType = Schemas['ContentTypeEnum'];
export type CardState = Schemas['StateEnum'];
export type ChatSettings = Schemas['ChatSettingsOutput'];
export type CenterChatSettings = Schemas['CenterChatSettingsOutput'];

// ------------------------------------------------------------------ consults

/** An entry of GET /api/consults/waiting/: someone in one of the doctor's waiting rooms. */
export type ConsultWaiting = Schemas['WaitingOutput'];
