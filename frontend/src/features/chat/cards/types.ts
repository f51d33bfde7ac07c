import type { ChatMessage, ParticipantRole } from '../../../api/types';
import type { OutboxEntry } from '../../../realtime/chatSocket';

/** What every chat card is drawn with (ActionCard passes it down to each card type). */
export interface CardContext {
  conversationId: string;
  role: ParticipantRole;
  zone: string;
  /** "Dr Lee · 14:05" */
  senderName: string;
  /** The conversation's patient (the user id prescriptions and pharmacies are asked for). */
  patientId: string;
  patientName: string;
  /** This card is the newest one about its appointment (only that one offers changes). */
  latestForAppointment: boolean;
  pending: readonly OutboxEntry[];
  onOfferTimes: (requestId: string) => void;
  /** The list's clock (it ticks), for "is this appointment still ahead". */
  now: number;
}

export interface CardProps {
  message: ChatMessage;
  context: CardContext;
  by: string;
}
