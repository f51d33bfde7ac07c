import { describe, expect, it } from 'vitest';
import { offerState } from './cards/ActionCard';
import type { ChatMessage } from '../../api/types';

const offer = (state: ChatMessage['state'], expiresAt?: string) =>
  ({
    id: 'offer-1',
    kind: 'action',
    action: 'booking.offer_slots',
    state,
    payload: { slots: [], ...(expiresAt ? { expires_at: expiresAt } : {}) },
  }) as unknown as ChatMessage;

describe('offerState', () => {
  const at = Date.parse('2026-11-22T10:15:00Z');

  it('shows an open offer past its expiry as expired, before the server says so', () => {
    expect(offerState(offer('open', '2026-11-22T10:14:59Z'), at)).toBe('expired');
    expect(offerState(offer('open', '2026-11-22T10:15:00Z'), at)).toBe('expired');
    expect(offerState(offer('open', '2026-11-22T10:16:00Z'), at)).toBe('open');
  });

  it("keeps the server's state otherwise", () => {
    expect(offerState(offer('completed', '2026-11-22T10:00:00Z'), at)).toBe('completed');
    expect(offerState(offer('open'), at)).toBe('open');
  });
});
