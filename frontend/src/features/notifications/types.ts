/**
 * The notifications API's shapes, written by hand from the contract (the server side is being
 * built in parallel, so ../../api/schema.d.ts does not carry them yet). Once `npm run gen:api`
 * includes the notifications serializers, replace these with aliases in ../../api/types.ts.
 */
import type { Appointment } from '../../api/types';
import type { PushedNotificationAction } from '../../realtime/chatSocket';

export type NotificationAction = PushedNotificationAction;

export type Channel = 'email' | 'sms' | 'in_app';

/** One entry of GET /api/notifications/. */
export interface AppNotification {
  id: string;
  kind: string;
  /** What happened (e.g. "appointment.reminder"); empty for a pushed one not refetched yet. */
  event: string;
  title: string;
  body: string;
  /** Where clicking it goes (absolute, under the app's public URL), or empty. */
  link: string;
  actions: NotificationAction[];
  created_at: string;
  read_at: string | null;
}

/** GET /api/notifications/ */
export interface NotificationList {
  unread: number;
  results: AppNotification[];
}

/** POST /api/notifications/read/ */
export interface ReadResult {
  unread: number;
}

export interface KindPreference {
  kind: string;
  label: string;
  email: boolean;
  sms: boolean;
  in_app: boolean;
}

/** "22:00" – "07:00" in the person's time zone. */
export interface QuietHours {
  start: string;
  end: string;
}

/** GET/PATCH /api/notifications/preferences/, and POST …/phone/confirm/ */
export interface NotificationPreferences {
  kinds: KindPreference[];
  timezone: string;
  quiet_hours: QuietHours | null;
  sms: { number_last4: string | null; verified: boolean };
}

export type ChannelFlags = Partial<Record<Channel, boolean>>;

/** PATCH /api/notifications/preferences/ (every part optional). */
export interface PreferencesPatch {
  kinds?: Record<string, ChannelFlags>;
  timezone?: string;
  quiet_hours?: QuietHours | null;
}

/** POST /api/notifications/phone/ → 202 */
export interface PhoneCodeSent {
  sent: boolean;
  expires_at: string;
}

export type LinkPurpose = 'appointment.confirm' | 'appointment.cancel' | 'appointment.reschedule';

/** GET /api/notifications/links/<token>/ (works signed out). */
export interface LinkInfo {
  purpose: LinkPurpose | string;
  expires_at: string;
}

/** POST /api/notifications/links/<token>/ */
export interface LinkResult {
  purpose: LinkPurpose | string;
  message: string;
  /** Where to go next (reschedule: the booking page; sign-in may be asked there). */
  redirect?: string | null;
}

export type DeliveryStatus =
  'queued' | 'deferred' | 'sending' | 'sent' | 'delivered' | 'failed' | 'skipped';

/** One row of GET /api/notifications/log/ (center admins). */
export interface DeliveryLogEntry {
  id: string;
  recipient_name: string;
  kind: string;
  event: string;
  channel: Channel | string;
  status: DeliveryStatus | string;
  error: string;
  provider_status: string;
  created_at: string;
  sent_at: string | null;
}

export interface DeliveryLog {
  results: DeliveryLogEntry[];
}

export type AttendanceVia = 'link' | 'sms' | 'app';

/** Appointment fields the notifications work adds (until the schema is regenerated). */
export interface AttendanceFields {
  attendance_confirmed_at?: string | null;
  attendance_confirmed_via?: AttendanceVia | string | null;
  escalated_at?: string | null;
}

/** GET /api/appointments/unconfirmed/ items. */
export type UnconfirmedAppointment = Appointment & AttendanceFields;
