import type { Conversation, ParticipantRole } from '../../api/types';
import type { Receipt } from '../../realtime/chatSocket';

export interface Recipient {
  user: string;
  name: string;
  read_seq: number;
  delivered_seq: number;
}

/**
 * Everyone else in the conversation with their cursors: the REST participants, moved forward
 * by the `read` frames pushed since (cursors only ever move forward).
 */
export function recipientsOf(
  participants: Conversation['participants'],
  live: Readonly<Record<string, Receipt>>,
  me: string,
): Recipient[] {
  const byUser = new Map<string, Recipient>();
  for (const p of participants) {
    if (p.user === me) continue;
    byUser.set(p.user, {
      user: p.user,
      name: p.name,
      read_seq: p.read_seq,
      delivered_seq: p.delivered_seq,
    });
  }
  for (const [user, receipt] of Object.entries(live)) {
    if (user === me) continue;
    const held = byUser.get(user) ?? {
      user,
      name: 'A care team member',
      read_seq: 0,
      delivered_seq: 0,
    };
    byUser.set(user, {
      ...held,
      read_seq: Math.max(held.read_seq, receipt.read_seq),
      delivered_seq: Math.max(held.delivered_seq, receipt.delivered_seq, receipt.read_seq),
    });
  }
  return [...byUser.values()];
}

export interface DeliveryMark {
  label: 'Sent' | 'Delivered' | 'Read';
  /** Who has it, for a screen reader and the tooltip: "Read by Dr Lee". */
  detail: string;
}

function names(list: Recipient[]): string {
  const all = list.map((r) => r.name);
  if (all.length <= 1) return all.join('');
  return `${all.slice(0, -1).join(', ')} and ${all[all.length - 1]}`;
}

/** The mark of one of my messages: read by everyone, by some, delivered, or only sent. */
export function deliveryMark(seq: number, recipients: Recipient[]): DeliveryMark {
  if (recipients.length === 0) return { label: 'Sent', detail: 'Sent' };
  const read = recipients.filter((r) => r.read_seq >= seq);
  const delivered = recipients.filter((r) => r.delivered_seq >= seq || r.read_seq >= seq);
  if (read.length > 0) {
    const unread = recipients.filter((r) => r.read_seq < seq);
    const rest = unread.length > 0 ? ` (not yet by ${names(unread)})` : '';
    return { label: 'Read', detail: `Read by ${names(read)}${rest}` };
  }
  if (delivered.length > 0)
    return { label: 'Delivered', detail: `Delivered to ${names(delivered)}` };
  return { label: 'Sent', detail: 'Sent, not delivered yet' };
}

/** My role in a conversation, as the server decides it (chat-protocol §9). */
export function myRole(
  conversation: Conversation,
  me: { id: string; roles: readonly string[] },
): ParticipantRole {
  if (conversation.patient.id === me.id) return 'patient';
  if (conversation.doctor?.user === me.id) return 'doctor';
  const participant = conversation.participants.find((p) => p.user === me.id);
  if (participant) return participant.role;
  if (me.roles.includes('nurse')) return 'nurse';
  if (me.roles.includes('doctor')) return 'doctor';
  if (me.roles.includes('center_admin')) return 'staff';
  return 'proxy';
}

export const PATIENT_SIDE: readonly ParticipantRole[] = ['patient', 'proxy'];
export const CARE_SIDE: readonly ParticipantRole[] = ['doctor', 'nurse', 'staff'];

/** The name the viewer sees for a conversation: the other side. */
export function conversationTitle(conversation: Conversation, role: ParticipantRole): string {
  if (PATIENT_SIDE.includes(role)) {
    return conversation.doctor?.name ?? `${conversation.center.name} care team`;
  }
  return conversation.patient.name;
}
