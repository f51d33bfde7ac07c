/**
 * Shapes of the consult API (GET /api/consults/{id}/, the visit note). Kept here until
 * `npm run gen:api` picks up the consult endpoints.
 */

export type ConsultRole = 'doctor' | 'patient' | 'proxy';
export type ConsultStatus = 'not_started' | 'open' | 'ended';

export interface ConsultPerson {
  user: string;
  name: string;
  role?: string;
}

export interface Consult {
  /** The appointment's id (an online appointment's `consult` field). */
  id: string;
  appointment: string;
  role: ConsultRole;
  status: ConsultStatus;
  /** Inside the window (10 min before the start until 30 min after the end) and not ended. */
  joinable: boolean;
  opens_at: string;
  closes_at: string;
  start: string;
  end: string;
  doctor_name: string;
  patient_name: string;
  /** The doctor–patient conversation (for the chat beside the video), if there is one. */
  conversation: string | null;
  /** Who is in the waiting room (the doctor only; empty for others). */
  waiting: ConsultPerson[];
  ice_servers: RTCIceServer[];
  video: { width: number; height: number };
  started_at: string | null;
  ended_at: string | null;
}

export interface ConsultNote {
  text: string;
  updated_at: string | null;
}
