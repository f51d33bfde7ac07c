import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessage } from '../api/types';
import {
  backoffDelay,
  ChatSocket,
  clearChatStorage,
  outboxKey,
  parsePushedNotification,
  textProblem,
  type ChatEvent,
  type Environment,
  type SocketLike,
  type StorageLike,
} from './chatSocket';

// ------------------------------------------------------------------ fakes

type Frame = Record<string, unknown>;

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Frame[] = [];
  closedWith: number | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError');
    this.sent.push(JSON.parse(data) as Frame);
  }

  close(code = 1000): void {
    this.readyState = 3;
    this.closedWith = code;
  }

  // what the server (or the network) does
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: Frame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  sentOfType(type: string): Frame[] {
    return this.sent.filter((f) => f.type === type);
  }
}

class MemoryStorage implements StorageLike {
  readonly data = new Map<string, string>();
  get length() {
    return this.data.size;
  }
  key(index: number) {
    return [...this.data.keys()][index] ?? null;
  }
  getItem(key: string) {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.data.set(key, value);
  }
  removeItem(key: string) {
    this.data.delete(key);
  }
}

class FakeEnvironment implements Environment {
  visible = true;
  online = true;
  isOnline() {
    return this.online;
  }
  private readonly listeners = new Map<string, Set<() => void>>();
  addEventListener(type: string, listener: () => void) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }
  removeEventListener(type: string, listener: () => void) {
    this.listeners.get(type)?.delete(listener);
  }
  isVisible() {
    return this.visible;
  }
  dispatch(type: string) {
    for (const listener of this.listeners.get(type) ?? []) listener();
  }
}

const ME = '00000000-0000-4000-8000-00000000000a';
const DOCTOR = '00000000-0000-4000-8000-00000000000d';
const CONV = '11111111-1111-4111-8111-111111111111';

function message(seq: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: `m-${seq}`,
    conversation: CONV,
    seq,
    change: seq,
    sender: DOCTOR,
    acting_for: null,
    kind: 'text',
    body: `message ${seq}`,
    edited_at: null,
    deleted: false,
    attachments: [],
    created_at: '2026-03-12T09:00:00+00:00',
    ...overrides,
  };
}

let sockets: FakeSocket[];
let storage: MemoryStorage;
let environment: FakeEnvironment;
let uuids: number;

function makeSocket(options: { random?: () => number } = {}) {
  return new ChatSocket({
    userId: ME,
    url: 'ws://test/ws/chat/',
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    storage,
    environment,
    random: options.random ?? (() => 0.5),
    uuid: () => `00000000-0000-4000-8000-${String((uuids += 1)).padStart(12, '0')}`,
    now: () => Date.now(),
    backoff: { baseMs: 1000, maxMs: 30_000 },
  });
}

const last = () => sockets[sockets.length - 1]!;

function ids(chat: ChatSocket, conversation = CONV) {
  return chat.getConversation(conversation).messages.map((m) => m.id);
}

beforeEach(() => {
  vi.useFakeTimers();
  sockets = [];
  storage = new MemoryStorage();
  environment = new FakeEnvironment();
  uuids = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

// ------------------------------------------------------------------ tests

describe('connecting and sync', () => {
  it('opens one socket and syncs every tracked conversation from its baseline', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 12, last_change: 15, delivered_seq: 9 }]);
    chat.start();
    expect(sockets).toHaveLength(1);
    expect(last().url).toBe('ws://test/ws/chat/');
    expect(chat.getStatus()).toBe('connecting');
    last().open();
    expect(chat.getStatus()).toBe('open');
    // from the delivered cursor: the server replays (and marks delivered) 10..12
    expect(last().sentOfType('sync')).toEqual([
      { type: 'sync', cursors: { [CONV]: 9 }, changes: { [CONV]: 15 } },
    ]);
  });

  it('sends an empty sync when nothing is tracked yet, and syncs conversations tracked later', () => {
    const chat = makeSocket();
    chat.start();
    last().open();
    expect(last().sentOfType('sync')).toEqual([{ type: 'sync', cursors: {}, changes: {} }]);
    chat.track([{ id: CONV, last_seq: 3, last_change: 3 }]);
    expect(last().sentOfType('sync')[1]).toEqual({
      type: 'sync',
      cursors: { [CONV]: 3 },
      changes: { [CONV]: 3 },
    });
    // a second baseline for the same conversation moves nothing and sends nothing
    chat.track([{ id: CONV, last_seq: 50, last_change: 50 }]);
    expect(last().sentOfType('sync')).toHaveLength(2);
    expect(chat.getCursor(CONV)).toEqual({ seq: 3, change: 3 });
  });

  it('repairs a gap in seq with a sync from the cursor, then orders the replay by seq', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 5, last_change: 5 }]);
    chat.start();
    last().open();
    last().receive({ type: 'synced', cursors: { [CONV]: 5 }, more: [] });
    last().sent = [];

    last().receive({ type: 'message.new', message: message(6) });
    expect(chat.getCursor(CONV).seq).toBe(6);
    last().receive({ type: 'message.new', message: message(9) }); // 7 and 8 were dropped
    expect(chat.getCursor(CONV).seq).toBe(6);
    vi.advanceTimersByTime(500);
    expect(last().sentOfType('sync')).toEqual([
      { type: 'sync', cursors: { [CONV]: 6 }, changes: { [CONV]: 6 } },
    ]);
    // the replay, then synced
    last().receive({ type: 'message.new', message: message(7) });
    last().receive({ type: 'message.new', message: message(8) });
    last().receive({ type: 'message.new', message: message(9) });
    last().receive({ type: 'synced', cursors: { [CONV]: 9 }, changes: { [CONV]: 9 }, more: [] });
    expect(ids(chat)).toEqual(['m-6', 'm-7', 'm-8', 'm-9']);
    expect(chat.getCursor(CONV)).toEqual({ seq: 9, change: 9 });
    vi.advanceTimersByTime(2000);
    expect(last().sentOfType('sync')).toHaveLength(1); // nothing left to repair
  });

  it('does not sync for a hole that fills itself in before the wait is over', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 1, last_change: 1 }]);
    chat.start();
    last().open();
    last().sent = [];
    last().receive({ type: 'message.new', message: message(3) });
    last().receive({ type: 'message.new', message: message(2) });
    vi.advanceTimersByTime(1000);
    expect(last().sentOfType('sync')).toEqual([]);
    expect(ids(chat)).toEqual(['m-2', 'm-3']);
  });

  it('asks again for conversations listed in `more`', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 0, last_change: 0 }]);
    chat.start();
    last().open();
    for (let seq = 1; seq <= 3; seq += 1) {
      last().receive({ type: 'message.new', message: message(seq) });
    }
    last().receive({
      type: 'synced',
      cursors: { [CONV]: 3 },
      changes: { [CONV]: 0 },
      more: [CONV],
    });
    expect(last().sentOfType('sync').at(-1)).toEqual({
      type: 'sync',
      cursors: { [CONV]: 3 },
      changes: { [CONV]: 3 },
    });
  });

  it('detects a dropped update through the change cursor', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 2, last_change: 2 }]);
    chat.start();
    last().open();
    last().receive({ type: 'synced', cursors: { [CONV]: 2 }, changes: { [CONV]: 2 }, more: [] });
    last().sent = [];
    // change 3 (say, an edit of message 1) never arrived; change 4 does
    last().receive({ type: 'message.new', message: message(3, { change: 4 }) });
    vi.advanceTimersByTime(500);
    expect(last().sentOfType('sync')).toEqual([
      { type: 'sync', cursors: { [CONV]: 3 }, changes: { [CONV]: 2 } },
    ]);
    last().receive({
      type: 'message.update',
      message: message(1, { change: 3, body: 'edited', edited_at: '2026-03-12T09:01:00Z' }),
    });
    last().receive({ type: 'synced', cursors: { [CONV]: 3 }, changes: { [CONV]: 4 }, more: [] });
    expect(chat.getCursor(CONV)).toEqual({ seq: 3, change: 4 });
    expect(chat.getConversation(CONV).messages[0]?.body).toBe('edited');
  });

  it('forgets a conversation the server says is gone', () => {
    const chat = makeSocket();
    const events: ChatEvent[] = [];
    chat.onEvent((e) => events.push(e));
    chat.track([{ id: CONV, last_seq: 1, last_change: 1 }]);
    chat.start();
    last().open();
    last().receive({ type: 'error', code: 'not_found', message: 'x', conversation: CONV });
    expect(events).toContainEqual({ type: 'gone', conversation: CONV });
  });
});

describe('de-duplication and ordering', () => {
  it('keeps one copy of a message however often it arrives (ack, push, replay, REST)', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 0, last_change: 0 }]);
    chat.start();
    last().open();
    const mine = message(1, { sender: ME, client_id: '00000000-0000-4000-8000-000000000001' });
    last().receive({ type: 'ack', client_id: mine.client_id, message: mine });
    last().receive({ type: 'message.new', message: mine });
    last().receive({ type: 'message.new', message: mine });
    chat.addHistory(CONV, [mine]);
    expect(ids(chat)).toEqual(['m-1']);
  });

  it('orders by seq whatever the arrival order, and a newer change wins', () => {
    const chat = makeSocket();
    chat.addHistory(CONV, [message(4), message(2)]);
    chat.addHistory(CONV, [message(3), message(1)]);
    expect(ids(chat)).toEqual(['m-1', 'm-2', 'm-3', 'm-4']);
    chat.applyMessage(message(2, { change: 9, deleted: true, body: '' }));
    chat.applyMessage(message(2, { change: 5, body: 'stale' }));
    const second = chat.getConversation(CONV).messages[1]!;
    expect(second.deleted).toBe(true);
    expect(second.body).toBe('');
    expect(chat.getConversation(CONV).oldestSeq).toBe(1);
  });

  it('advances the cursor over REST history that closes the hole', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 8, last_change: 8, delivered_seq: 4 }]);
    expect(chat.getCursor(CONV).seq).toBe(4);
    chat.addHistory(
      CONV,
      [5, 6, 7, 8].map((s) => message(s)),
    );
    expect(chat.getCursor(CONV).seq).toBe(8);
  });

  it('returns the same snapshot object until something changes', () => {
    const chat = makeSocket();
    chat.addHistory(CONV, [message(1)]);
    const first = chat.getConversation(CONV);
    expect(chat.getConversation(CONV)).toBe(first);
    chat.addHistory(CONV, [message(1)]);
    expect(chat.getConversation(CONV)).toBe(first);
    chat.addHistory(CONV, [message(2)]);
    expect(chat.getConversation(CONV)).not.toBe(first);
  });
});

describe('outbox', () => {
  it('resends an unacknowledged message with the same client_id after the connection drops', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 0, last_change: 0 }]);
    chat.start();
    last().open();
    const entry = chat.sendText(CONV, '  Hello doctor  ');
    expect(last().sentOfType('message.send')).toEqual([
      {
        type: 'message.send',
        conversation: CONV,
        client_id: entry.client_id,
        body: 'Hello doctor',
      },
    ]);
    expect(chat.getConversation(CONV).pending.map((e) => e.state)).toEqual(['sent']);

    last().drop(); // no ack came back
    expect(chat.getStatus()).toBe('reconnecting');
    expect(chat.getConversation(CONV).pending.map((e) => e.state)).toEqual(['queued']);
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(2);
    last().open();
    // sync first (it may replay the message if it was stored after all), then the same frame
    expect(last().sent.map((f) => f.type)).toEqual(['sync', 'message.send']);
    expect(last().sentOfType('message.send')[0]?.client_id).toBe(entry.client_id);

    const stored = message(1, { sender: ME, client_id: entry.client_id, body: 'Hello doctor' });
    last().receive({ type: 'ack', client_id: entry.client_id, message: stored });
    expect(chat.getConversation(CONV).pending).toEqual([]);
    expect(ids(chat)).toEqual(['m-1']);
    expect(storage.getItem(outboxKey(ME))).toBeNull();
  });

  it('queues while offline and keeps the order of what was typed', () => {
    const chat = makeSocket();
    chat.start();
    last().open();
    environment.dispatch('offline');
    expect(chat.getStatus()).toBe('offline');
    expect(last().closedWith).toBe(1000);
    const a = chat.sendText(CONV, 'first');
    const b = chat.sendText(CONV, 'second');
    const card = chat.submitAction(CONV, 'booking.request_appointment', { reason: 'cough' });
    expect(sockets).toHaveLength(1);
    expect(chat.getOutbox().map((e) => e.state)).toEqual(['queued', 'queued', 'queued']);

    environment.dispatch('online'); // reconnects at once, no backoff wait
    expect(sockets).toHaveLength(2);
    last().open();
    const sent = last().sent.filter((f) => f.type !== 'sync');
    expect(sent.map((f) => f.client_id)).toEqual([a.client_id, b.client_id, card.client_id]);
    expect(sent[2]).toEqual({
      type: 'action.submit',
      conversation: CONV,
      client_id: card.client_id,
      action: 'booking.request_appointment',
      payload: { reason: 'cough' },
    });
  });

  it('survives a reload: a new instance resends the stored outbox with the same client_id', () => {
    const first = makeSocket();
    first.start();
    const entry = first.sendText(CONV, 'written before the reload');
    first.stop();

    const second = makeSocket();
    expect(second.getOutbox().map((e) => e.client_id)).toEqual([entry.client_id]);
    second.start();
    last().open();
    expect(last().sentOfType('message.send')).toEqual([
      {
        type: 'message.send',
        conversation: CONV,
        client_id: entry.client_id,
        body: 'written before the reload',
      },
    ]);
  });

  it('drops an outbox entry when sync replays the stored message (the ack was lost)', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 0, last_change: 0 }]);
    chat.start();
    last().open();
    const entry = chat.sendText(CONV, 'hello');
    last().drop();
    vi.advanceTimersByTime(1000);
    last().open();
    last().receive({
      type: 'message.new',
      message: message(1, { sender: ME, client_id: entry.client_id, body: 'hello' }),
    });
    last().receive({
      type: 'ack',
      client_id: entry.client_id,
      message: message(1, { sender: ME, client_id: entry.client_id, body: 'hello' }),
    });
    expect(chat.getOutbox()).toEqual([]);
    expect(ids(chat)).toEqual(['m-1']);
  });

  it('keeps rejected frames as failed, and retries rate-limited ones after a pause', () => {
    const chat = makeSocket();
    const failed: ChatEvent[] = [];
    chat.onEvent((e) => e.type === 'failed' && failed.push(e));
    chat.start();
    last().open();
    const taken = chat.submitAction(CONV, 'booking.choose_slot', { offer: 'o', slot: 's' });
    const limited = chat.sendText(CONV, 'too fast');
    last().receive({
      type: 'error',
      code: 'slot_taken',
      message: 'Someone else just booked that time.',
      client_id: taken.client_id,
    });
    last().receive({
      type: 'error',
      code: 'rate_limited',
      message: 'slow down',
      client_id: limited.client_id,
    });
    const outbox = chat.getOutbox();
    expect(outbox.find((e) => e.client_id === taken.client_id)).toMatchObject({
      state: 'failed',
      error: { code: 'slot_taken' },
    });
    expect(failed).toHaveLength(1);
    expect(outbox.find((e) => e.client_id === limited.client_id)?.state).toBe('queued');
    last().sent = [];
    vi.advanceTimersByTime(2900);
    expect(last().sentOfType('message.send')).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(
      last()
        .sentOfType('message.send')
        .map((f) => f.client_id),
    ).toEqual([limited.client_id]);
    // a failed entry goes again only when asked, with its own client_id
    chat.retry(taken.client_id);
    expect(
      last()
        .sentOfType('action.submit')
        .map((f) => f.client_id),
    ).toEqual([taken.client_id]);
    chat.discard(taken.client_id);
    expect(chat.getOutbox().map((e) => e.client_id)).toEqual([limited.client_id]);
  });

  it('refuses empty and over-long text before it reaches the outbox', () => {
    const chat = makeSocket();
    expect(() => chat.sendText(CONV, '   ')).toThrow(/Write a message/);
    expect(() => chat.sendText(CONV, 'x'.repeat(10_001))).toThrow(/10,000/);
    expect(textProblem(`  ${'x'.repeat(10_000)}  `)).toBeNull();
    expect(chat.getOutbox()).toEqual([]);
  });

  it('clears drafts and outboxes at log out', () => {
    storage.setItem(outboxKey(ME), '[]');
    storage.setItem('careconnect.chat.drafts.v1.x', '{}');
    storage.setItem('careconnect.actingFor', '{}');
    clearChatStorage(storage);
    expect([...storage.data.keys()]).toEqual(['careconnect.actingFor']);
  });
});

describe('reconnecting', () => {
  it('backs off exponentially with jitter, capped', () => {
    const options = { baseMs: 500, maxMs: 30_000 };
    expect(backoffDelay(0, () => 0, options)).toBe(250);
    expect(backoffDelay(0, () => 1, options)).toBe(500);
    expect(backoffDelay(3, () => 0, options)).toBe(2000);
    expect(backoffDelay(3, () => 1, options)).toBe(4000);
    expect(backoffDelay(30, () => 1, options)).toBe(30_000);
    expect(backoffDelay(30, () => 0, options)).toBe(15_000);
  });

  it('waits longer after each failed attempt and starts over after a good connection', () => {
    const chat = makeSocket({ random: () => 1 }); // the longest wait of each step
    chat.start();
    last().drop();
    const waits: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const before = sockets.length;
      let waited = 0;
      while (sockets.length === before) {
        vi.advanceTimersByTime(100);
        waited += 100;
      }
      waits.push(waited);
      last().drop(); // the handshake failed again
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
    vi.advanceTimersByTime(16_000);
    last().open();
    last().receive({ type: 'synced', cursors: {}, more: [] });
    last().drop();
    vi.advanceTimersByTime(999);
    const count = sockets.length;
    vi.advanceTimersByTime(1);
    expect(sockets.length).toBe(count + 1);
  });

  it('stops for good when the server says the session ended (4401)', () => {
    const chat = makeSocket();
    const events: ChatEvent[] = [];
    chat.onEvent((e) => events.push(e));
    chat.start();
    last().open();
    last().drop(4401);
    expect(chat.getStatus()).toBe('signed_out');
    expect(events).toContainEqual({ type: 'unauthorized' });
    vi.advanceTimersByTime(120_000);
    expect(sockets).toHaveLength(1);
  });

  it('reconnects when a ping goes unanswered', () => {
    const chat = makeSocket();
    chat.start();
    last().open();
    vi.advanceTimersByTime(25_000);
    expect(last().sentOfType('ping')).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    expect(chat.getStatus()).toBe('reconnecting');
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(2);
  });

  it('stays offline until the browser is online again, then connects without waiting', () => {
    const chat = makeSocket();
    chat.start();
    last().open();
    environment.online = false;
    environment.dispatch('offline');
    vi.advanceTimersByTime(120_000); // the fallback look finds the browser still offline
    expect(chat.getStatus()).toBe('offline');
    expect(sockets).toHaveLength(1);
    environment.online = true; // and `online` never fired: the next look reconnects
    vi.advanceTimersByTime(30_000);
    expect(sockets).toHaveLength(2);
  });

  it('reconnects at once when the tab becomes visible again', () => {
    const chat = makeSocket();
    chat.start();
    last().drop();
    expect(sockets).toHaveLength(1);
    environment.dispatch('visibilitychange');
    expect(sockets).toHaveLength(2);
    chat.stop();
    expect(chat.getStatus()).toBe('stopped');
  });
});

describe('typing, reads and presence', () => {
  it('sends typing at most every 3 seconds and shows others typing for a while', () => {
    const chat = makeSocket();
    chat.start();
    last().open();
    chat.typing(CONV);
    chat.typing(CONV);
    vi.advanceTimersByTime(3000);
    chat.typing(CONV);
    expect(last().sentOfType('typing')).toHaveLength(2);

    last().receive({ type: 'typing', conversation: CONV, user: DOCTOR });
    expect(chat.getConversation(CONV).typing).toEqual([DOCTOR]);
    vi.advanceTimersByTime(7000);
    expect(chat.getConversation(CONV).typing).toEqual([]);
    // a message from them ends it at once
    last().receive({ type: 'typing', conversation: CONV, user: DOCTOR });
    last().receive({ type: 'message.new', message: message(1) });
    expect(chat.getConversation(CONV).typing).toEqual([]);
  });

  it('sends read marks forward only, and once the socket is open', () => {
    const chat = makeSocket();
    chat.start();
    chat.markRead(CONV, 4);
    last().open();
    chat.markRead(CONV, 3);
    chat.markRead(CONV, 4);
    chat.markRead(CONV, 6);
    expect(last().sentOfType('read')).toEqual([
      { type: 'read', conversation: CONV, seq: 4 },
      { type: 'read', conversation: CONV, seq: 6 },
    ]);
  });

  it('keeps receipts, tells delivered for live pushes, and follows presence', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 0, last_change: 0 }]);
    chat.start();
    last().open();
    last().receive({ type: 'message.new', message: message(1) });
    vi.advanceTimersByTime(1000);
    expect(last().sentOfType('delivered')).toEqual([
      { type: 'delivered', conversation: CONV, seq: 1 },
    ]);
    last().receive({
      type: 'read',
      conversation: CONV,
      user: DOCTOR,
      seq: 1,
      read_seq: 1,
      delivered_seq: 2,
    });
    expect(chat.getConversation(CONV).receipts[DOCTOR]).toEqual({ read_seq: 1, delivered_seq: 2 });
    last().receive({
      type: 'presence',
      user: DOCTOR,
      online: false,
      last_seen: '2026-03-12T10:00Z',
    });
    expect(chat.getPresence(DOCTOR)).toEqual({ online: false, last_seen: '2026-03-12T10:00Z' });
  });

  it('notifies subscribers once for a burst of frames', () => {
    const chat = makeSocket();
    chat.track([{ id: CONV, last_seq: 0, last_change: 0 }]);
    const listener = vi.fn();
    chat.subscribe(listener);
    chat.start();
    last().open();
    listener.mockClear();
    for (let seq = 1; seq <= 20; seq += 1) {
      last().receive({ type: 'message.new', message: message(seq) });
    }
    vi.advanceTimersByTime(0);
    expect(listener).toHaveBeenCalledTimes(1);
  });
});

describe('notifications', () => {
  it('hands `notification.new` frames to event listeners, and ignores broken ones', () => {
    const chat = makeSocket();
    const events: ChatEvent[] = [];
    chat.onEvent((event) => events.push(event));
    chat.start();
    last().open();
    last().receive({
      type: 'notification.new',
      notification: {
        id: 'n-1',
        kind: 'appointment_reminder',
        title: 'Appointment tomorrow',
        body: 'With Dr Ana at 09:30',
        link: 'https://care.example/appointments',
        actions: [{ label: 'Confirm', url: 'https://care.example/r/abc' }, { label: 3 }],
        created_at: '2026-03-12T09:00:00Z',
      },
    });
    last().receive({ type: 'notification.new', notification: { title: 'no id' } });
    last().receive({ type: 'notification.new' });
    const pushed = events.filter((e) => e.type === 'notification');
    expect(pushed).toEqual([
      {
        type: 'notification',
        notification: {
          id: 'n-1',
          kind: 'appointment_reminder',
          title: 'Appointment tomorrow',
          body: 'With Dr Ana at 09:30',
          link: 'https://care.example/appointments',
          actions: [{ label: 'Confirm', url: 'https://care.example/r/abc' }],
          created_at: '2026-03-12T09:00:00Z',
        },
      },
    ]);
  });

  it('fills in what a pushed notification leaves out', () => {
    expect(parsePushedNotification({ id: 'n-2', created_at: '2026-03-12T09:00:00Z' })).toEqual({
      id: 'n-2',
      kind: '',
      title: '',
      body: '',
      link: '',
      actions: [],
      created_at: '2026-03-12T09:00:00Z',
    });
    expect(parsePushedNotification(null)).toBeNull();
  });
});
