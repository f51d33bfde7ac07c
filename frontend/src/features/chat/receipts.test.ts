import { describe, expect, it } from 'vitest';
import type { Conversation } from '../../api/types';
import { conversationTitle, deliveryMark, myRole, recipientsOf } from './receipts';

const participants: Conversation['participants'] = [
  {
    user: 'me',
    name: 'Ana Lima',
    role: 'patient',
    read_seq: 9,
    delivered_seq: 9,
    online: true,
    last_seen: null,
  },
  {
    user: 'doc',
    name: 'Dr Lee',
    role: 'doctor',
    read_seq: 3,
    delivered_seq: 5,
    online: false,
    last_seen: null,
  },
];

describe('delivery marks', () => {
  it('combines REST cursors with pushed read frames, forward only', () => {
    const recipients = recipientsOf(participants, { doc: { read_seq: 2, delivered_seq: 7 } }, 'me');
    expect(recipients).toEqual([{ user: 'doc', name: 'Dr Lee', read_seq: 3, delivered_seq: 7 }]);
  });

  it('marks sent, delivered and read per message', () => {
    const recipients = recipientsOf(participants, {}, 'me');
    expect(deliveryMark(3, recipients)).toEqual({ label: 'Read', detail: 'Read by Dr Lee' });
    expect(deliveryMark(5, recipients)).toEqual({
      label: 'Delivered',
      detail: 'Delivered to Dr Lee',
    });
    expect(deliveryMark(6, recipients).label).toBe('Sent');
  });

  it('names who has not read yet when there are several recipients', () => {
    const recipients = [
      { user: 'a', name: 'Dr Lee', read_seq: 4, delivered_seq: 4 },
      { user: 'b', name: 'Nurse Kim', read_seq: 1, delivered_seq: 4 },
    ];
    expect(deliveryMark(4, recipients).detail).toBe('Read by Dr Lee (not yet by Nurse Kim)');
  });
});

describe('roles and titles', () => {
  const conversation = {
    id: 'c',
    kind: 'doctor',
    patient: { id: 'me', name: 'Ana Lima' },
    doctor: { id: 'd1', user: 'doc', name: 'Dr Lee' },
    center: { id: 'x', name: 'Harbour Clinic' },
    participants,
  } as unknown as Conversation;

  it('knows which side the viewer is on', () => {
    expect(myRole(conversation, { id: 'me', roles: ['patient'] })).toBe('patient');
    expect(myRole(conversation, { id: 'doc', roles: ['doctor'] })).toBe('doctor');
    expect(myRole(conversation, { id: 'fam', roles: ['patient'] })).toBe('proxy');
    expect(conversationTitle(conversation, 'patient')).toBe('Dr Lee');
    expect(conversationTitle(conversation, 'doctor')).toBe('Ana Lima');
    expect(conversationTitle({ ...conversation, doctor: null }, 'proxy')).toBe(
      'Harbour Clinic care team',
    );
  });
});
