/**
 * The chat websocket of this tab (docs/chat-protocol.md), in plain TypeScript (no React).
 *
 * - One socket per tab to `/ws/chat/` (same origin, the session cookie). It reconnects with
 *   exponential backoff and jitter, at once when the browser comes back online or the tab
 *   becomes visible, and never after close code 4401 (signed out).
 * - An outbox keyed by `client_id`: every `message.send` / `action.submit` stays in it until
 *   its `ack` (or the same message replayed by `sync`) arrives, and is resent unchanged (the same
 *   `client_id`) after a reconnect, so the server stores it once. It is kept in sessionStorage,
 *   so a reload loses nothing. Rejected frames (`invalid`, `slot_taken`, …) are kept as
 *   `failed` for the page to show; `rate_limited` and `server_error` are retried.
 * - Per-conversation cursors: `seq` (the highest seq held with nothing missing below it, from
 *   the baseline the inbox gave) and `change`. On every (re)connect, and when a pushed frame
 *   reveals a gap, `sync` asks the server to replay what was missed (again for `more`).
 * - A timeline per conversation de-duplicated by message id (a newer `change` wins) and ordered
 *   by `seq`; read and delivered cursors, typing and presence as the server pushes them.
 *
 * The page layer subscribes (`subscribe` for state, `onEvent` for side effects) and feeds in
 * what REST returns (`track` for inbox baselines, `addHistory`, `applyMessage`).
 */
import type { ChatMessage } from '../api/types';

// ------------------------------------------------------------------ limits (chat-protocol §3)

export const MAX_TEXT = 10_000;
const MAX_SYNC_CONVERSATIONS = 500;
const TYPING_EVERY_MS = 3_000;
const TYPING_SHOWN_MS = 6_000;
const HEARTBEAT_EVERY_MS = 25_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;
const RATE_LIMIT_PAUSE_MS = 3_000;
const GAP_WAIT_MS = 400;
const DELIVERED_WAIT_MS = 1_000;
const MAX_IN_FLIGHT = 10;
/** Close code the server uses for "not signed in" (chat-protocol §2). */
export const CLOSE_UNAUTHORIZED = 4401;
/** Codes of error frames after which the same frame is sent again later. */
const RETRYABLE = new Set(['rate_limited', 'server_error']);

// ------------------------------------------------------------------ the outside world

/** What the module needs of a WebSocket (the browser's, or a fake in tests). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Where `online` / `offline` / `visibilitychange` come from (window and document). */
export interface Environment {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
  isVisible(): boolean;
  /** What the browser believes (navigator.onLine); only consulted after an `offline` event. */
  isOnline(): boolean;
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export interface ChatSocketOptions {
  /** The signed-in user: their outbox is stored under their id. */
  userId: string;
  url?: string;
  createSocket?: (url: string) => SocketLike;
  storage?: StorageLike | null;
  environment?: Environment | null;
  random?: () => number;
  uuid?: () => string;
  now?: () => number;
  backoff?: BackoffOptions;
}

const OPEN = 1;

// ------------------------------------------------------------------ public shapes

export type ConnectionStatus =
  | 'idle' // not started
  | 'connecting' // first attempt, or an attempt in progress after a drop
  | 'open'
  | 'reconnecting' // dropped; the next attempt is scheduled
  | 'offline' // the browser says there is no network; waiting for it to come back
  | 'signed_out' // the server closed with 4401
  | 'stopped';

export type OutboxState = 'queued' | 'sent' | 'failed';

export interface FrameError {
  code: string;
  message: string;
  fields?: unknown;
}

interface OutboxBase {
  client_id: string;
  conversation: string;
  created_at: string;
  state: OutboxState;
  error?: FrameError;
}

export interface OutboxMessage extends OutboxBase {
  kind: 'message';
  body: string;
}

export interface OutboxAction extends OutboxBase {
  kind: 'action';
  action: string;
  payload: Record<string, unknown>;
}

export type OutboxEntry = OutboxMessage | OutboxAction;

export interface Receipt {
  read_seq: number;
  delivered_seq: number;
}

export interface Presence {
  online: boolean;
  last_seen: string | null;
}

/** What a page renders of one conversation; a new object whenever something in it changed. */
export interface ConversationSnapshot {
  /** Held messages in `seq` order, each once. */
  messages: readonly ChatMessage[];
  /** This tab's unacknowledged (or failed) sends in this conversation, oldest first. */
  pending: readonly OutboxEntry[];
  /** Users typing right now. */
  typing: readonly string[];
  /** Read and delivered cursors per user, as pushed since the page loaded. */
  receipts: Readonly<Record<string, Receipt>>;
  cursor: number;
  /** The lowest seq held (0 when none): older history comes from REST before it. */
  oldestSeq: number;
}

/** A conversation as the inbox (REST) saw it: where its cursors start. */
export interface ConversationBaseline {
  id: string;
  last_seq: number;
  last_change: number;
  /** This user's delivered cursor there: `sync` replays (and marks delivered) what is above. */
  delivered_seq?: number;
}

export type ChatEvent =
  | { type: 'status'; status: ConnectionStatus; previous: ConnectionStatus }
  | { type: 'message'; message: ChatMessage; event: 'new' | 'update' }
  | { type: 'receipt'; conversation: string; user: string; receipt: Receipt }
  | { type: 'presence'; user: string; presence: Presence }
  | { type: 'failed'; entry: OutboxEntry }
  | { type: 'acked'; entry: OutboxEntry; message: ChatMessage }
  /** A conversation this user can no longer read (a grant ended): `not_found` from `sync`. */
  | { type: 'gone'; conversation: string }
  /** A message of a conversation the inbox has not shown yet: refetch it, then `track`. */
  | { type: 'unknown-conversation'; conversation: string }
  | { type: 'synced'; conversations: string[] }
  | { type: 'unauthorized' }
  | { type: 'error'; error: FrameError }
  /** An in-app notification for this user (`notification.new`), as the server pushed it. */
  | { type: 'notification'; notification: PushedNotification };

/** A link under a notification ("Confirm", "Cancel appointment"): usually a one-tap /r/ link. */
export interface PushedNotificationAction {
  label: string;
  url: string;
}

/** The `notification` of a `notification.new` frame (the same channel as chat, another topic). */
export interface PushedNotification {
  id: string;
  kind: string;
  title: string;
  body: string;
  link: string;
  actions: PushedNotificationAction[];
  created_at: string;
}

// ------------------------------------------------------------------ helpers

interface ConversationState {
  id: string;
  tracked: boolean;
  cursor: number;
  change: number;
  seenChanges: Set<number>;
  messages: Map<string, ChatMessage>;
  bySeq: Map<number, string>;
  receipts: Record<string, Receipt>;
  typing: Map<string, number>;
  syncing: boolean;
  gapTimer: ReturnType<typeof setTimeout> | null;
  deliveredSent: number;
  deliveredTimer: ReturnType<typeof setTimeout> | null;
  readSent: number;
  readWanted: number;
  typingSentAt: number;
  snapshot: ConversationSnapshot | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMessage(value: unknown): value is ChatMessage {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.conversation === 'string' &&
    typeof value.seq === 'number'
  );
}

function isAction(value: unknown): value is PushedNotificationAction {
  return isRecord(value) && typeof value.label === 'string' && typeof value.url === 'string';
}

/** A pushed notification, or null when the frame does not carry a usable one. */
export function parsePushedNotification(value: unknown): PushedNotification | null {
  if (!isRecord(value) || typeof value.id !== 'string' || !value.id) return null;
  const text = (key: string) => (typeof value[key] === 'string' ? (value[key] as string) : '');
  return {
    id: value.id,
    kind: text('kind'),
    title: text('title'),
    body: text('body'),
    link: text('link'),
    actions: Array.isArray(value.actions) ? value.actions.filter(isAction) : [],
    created_at: text('created_at') || new Date().toISOString(),
  };
}

/** A version-4 UUID from the platform (crypto.randomUUID needs a secure context). */
export function randomUuid(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The wait before reconnect attempt `attempt` (0 first): exponential, capped, with "equal
 * jitter" (half fixed, half random) so a server restart is not met by every tab at once.
 */
export function backoffDelay(attempt: number, random: () => number, options: BackoffOptions) {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Why a text cannot be sent, or null (the server checks again: chat-protocol §3). */
export function textProblem(body: string): string | null {
  const text = body.trim();
  if (!text) return 'Write a message first.';
  if (text.length > MAX_TEXT) {
    return `Messages can be at most ${MAX_TEXT.toLocaleString('en-US')} characters.`;
  }
  return null;
}

function defaultUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/ws/chat/`;
}

function defaultSocket(url: string): SocketLike {
  return new WebSocket(url) as unknown as SocketLike;
}

function defaultStorage(): StorageLike | null {
  try {
    return typeof window === 'undefined' ? null : window.sessionStorage;
  } catch {
    return null;
  }
}

function defaultEnvironment(): Environment | null {
  if (typeof window === 'undefined' || typeof document === 'undefined') return null;
  return {
    addEventListener: (type, listener) =>
      (type === 'visibilitychange' ? document : window).addEventListener(type, listener),
    removeEventListener: (type, listener) =>
      (type === 'visibilitychange' ? document : window).removeEventListener(type, listener),
    isVisible: () => document.visibilityState !== 'hidden',
    isOnline: () => navigator.onLine !== false,
  };
}

export const STORAGE_PREFIX = 'careconnect.chat.';
export const outboxKey = (userId: string) => `${STORAGE_PREFIX}outbox.v1.${userId}`;

function loadOutbox(storage: StorageLike | null, key: string): OutboxEntry[] {
  if (!storage) return [];
  try {
    const raw = storage.getItem(key);
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    if (!Array.isArray(parsed)) return [];
    return parsed
      .filter(
        (e): e is OutboxEntry =>
          isRecord(e) &&
          typeof e.client_id === 'string' &&
          typeof e.conversation === 'string' &&
          (e.kind === 'message' ? typeof e.body === 'string' : e.kind === 'action'),
      )
      .map((e) => (e.state === 'sent' ? { ...e, state: 'queued' as const } : e));
  } catch {
    return [];
  }
}

// ------------------------------------------------------------------ the socket

export class ChatSocket {
  private readonly userId: string;
  private readonly url: string;
  private readonly createSocket: (url: string) => SocketLike;
  private readonly storage: StorageLike | null;
  private readonly environment: Environment | null;
  private readonly random: () => number;
  private readonly uuid: () => string;
  private readonly now: () => number;
  private readonly backoff: BackoffOptions;

  private socket: SocketLike | null = null;
  private status: ConnectionStatus = 'idle';
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  private notifyTimer: ReturnType<typeof setTimeout> | null = null;
  private pausedUntil = 0;
  private hasConnected = false;

  private outbox: OutboxEntry[];
  private readonly conversations = new Map<string, ConversationState>();
  private readonly presence = new Map<string, Presence>();
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: ChatEvent) => void>();
  private outboxSnapshot: readonly OutboxEntry[] | null = null;
  private version = 0;

  private readonly onOnline = () => this.connectNow();
  private readonly onOffline = () => this.goOffline();
  private readonly onVisibility = () => {
    if (this.environment?.isVisible() && this.status === 'reconnecting') this.connectNow();
  };

  constructor(options: ChatSocketOptions) {
    this.userId = options.userId;
    this.url = options.url ?? defaultUrl();
    this.createSocket = options.createSocket ?? defaultSocket;
    this.storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.environment =
      options.environment === undefined ? defaultEnvironment() : options.environment;
    this.random = options.random ?? Math.random;
    this.uuid = options.uuid ?? randomUuid;
    this.now = options.now ?? Date.now;
    this.backoff = options.backoff ?? { baseMs: 500, maxMs: 30_000 };
    this.outbox = loadOutbox(this.storage, outboxKey(this.userId));
  }

  // ---------------------------------------------------------------- lifecycle

  start(): void {
    if (this.status !== 'idle' && this.status !== 'stopped') return;
    this.environment?.addEventListener('online', this.onOnline);
    this.environment?.addEventListener('offline', this.onOffline);
    this.environment?.addEventListener('visibilitychange', this.onVisibility);
    this.connect();
  }

  stop(): void {
    this.environment?.removeEventListener('online', this.onOnline);
    this.environment?.removeEventListener('offline', this.onOffline);
    this.environment?.removeEventListener('visibilitychange', this.onVisibility);
    this.clearTimer('reconnectTimer');
    this.clearTimer('flushTimer');
    this.clearTimer('typingTimer');
    this.clearTimer('notifyTimer');
    this.stopHeartbeat();
    for (const state of this.conversations.values()) {
      if (state.gapTimer) clearTimeout(state.gapTimer);
      if (state.deliveredTimer) clearTimeout(state.deliveredTimer);
      state.gapTimer = state.deliveredTimer = null;
    }
    this.dropSocket();
    this.setStatus('stopped');
  }

  getStatus(): ConnectionStatus {
    return this.status;
  }

  /** A number that changes whenever anything observable changed (for useSyncExternalStore). */
  getVersion(): number {
    return this.version;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onEvent(listener: (event: ChatEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  // ---------------------------------------------------------------- reading state

  getConversation(id: string): ConversationSnapshot {
    const state = this.state(id);
    if (!state.snapshot) {
      const messages = [...state.messages.values()].sort((a, b) => a.seq - b.seq);
      const now = this.now();
      state.snapshot = {
        messages,
        pending: this.outbox.filter((e) => e.conversation === id),
        typing: [...state.typing.entries()].filter(([, until]) => until > now).map(([u]) => u),
        receipts: { ...state.receipts },
        cursor: state.cursor,
        oldestSeq: messages[0]?.seq ?? 0,
      };
    }
    return state.snapshot;
  }

  getOutbox(): readonly OutboxEntry[] {
    this.outboxSnapshot ??= [...this.outbox];
    return this.outboxSnapshot;
  }

  getPresence(userId: string): Presence | undefined {
    return this.presence.get(userId);
  }

  getCursor(id: string): { seq: number; change: number } {
    const state = this.state(id);
    return { seq: state.cursor, change: state.change };
  }

  // ---------------------------------------------------------------- feeding in REST answers

  /**
   * Conversations the inbox knows. The first time a conversation is seen its cursors start
   * from this baseline (`delivered_seq` when lower than `last_seq`, so `sync` replays what this
   * user has not received anywhere); later calls never move a cursor back or forward.
   */
  track(baselines: readonly ConversationBaseline[]): void {
    const fresh: string[] = [];
    for (const baseline of baselines) {
      const state = this.state(baseline.id);
      if (state.tracked) continue;
      state.tracked = true;
      const start = Math.min(baseline.last_seq, baseline.delivered_seq ?? baseline.last_seq);
      state.cursor = Math.max(state.cursor, start);
      state.change = Math.max(state.change, baseline.last_change);
      this.advance(state);
      fresh.push(state.id);
    }
    if (fresh.length > 0 && this.isOpen()) this.sendSync(fresh);
  }

  /** A page of REST history (`GET …/messages/`). */
  addHistory(conversationId: string, messages: readonly ChatMessage[]): void {
    const state = this.state(conversationId);
    let changed = false;
    for (const message of messages) changed = this.upsert(state, message) || changed;
    if (changed) {
      this.advance(state);
      this.touch(state);
    }
  }

  /** A MESSAGE from a REST answer (an edit, a deletion, an upload). */
  applyMessage(message: ChatMessage): void {
    const state = this.state(message.conversation);
    if (this.upsert(state, message)) {
      this.advance(state);
      this.dropAcknowledged(message);
      this.touch(state);
      this.checkGap(state);
    }
  }

  // ---------------------------------------------------------------- sending

  sendText(conversation: string, body: string): OutboxMessage {
    const problem = textProblem(body);
    if (problem) throw new Error(problem);
    const entry: OutboxMessage = {
      kind: 'message',
      client_id: this.uuid(),
      conversation,
      body: body.trim(),
      created_at: new Date(this.now()).toISOString(),
      state: 'queued',
    };
    this.enqueue(entry);
    return entry;
  }

  submitAction(
    conversation: string,
    action: string,
    payload: Record<string, unknown>,
  ): OutboxAction {
    const entry: OutboxAction = {
      kind: 'action',
      client_id: this.uuid(),
      conversation,
      action,
      payload,
      created_at: new Date(this.now()).toISOString(),
      state: 'queued',
    };
    this.enqueue(entry);
    return entry;
  }

  /** Send a failed entry again (same client_id: a rejected frame stored nothing). */
  retry(clientId: string): void {
    const entry = this.outbox.find((e) => e.client_id === clientId);
    if (!entry) return;
    this.replaceEntry({ ...entry, state: 'queued', error: undefined });
    this.flush();
  }

  discard(clientId: string): void {
    const entry = this.outbox.find((e) => e.client_id === clientId);
    if (!entry) return;
    this.outbox = this.outbox.filter((e) => e.client_id !== clientId);
    this.outboxChanged(entry.conversation);
  }

  /** Tell the others I am typing (at most once every 3 s: every frame counts to the rate). */
  typing(conversation: string): void {
    const state = this.state(conversation);
    const now = this.now();
    if (now - state.typingSentAt < TYPING_EVERY_MS || !this.isOpen()) return;
    state.typingSentAt = now;
    this.send({ type: 'typing', conversation });
  }

  /** I have seen everything up to `seq` here (sent once the socket is open, never backwards). */
  markRead(conversation: string, seq: number): void {
    const state = this.state(conversation);
    if (seq <= state.readWanted) return;
    state.readWanted = seq;
    this.sendRead(state);
  }

  // ---------------------------------------------------------------- connection

  private connect(): void {
    this.clearTimer('reconnectTimer');
    this.dropSocket();
    // "connecting" only before the first success; after a drop the page says "Reconnecting…"
    // until the connection is back.
    this.setStatus(this.hasConnected || this.attempt > 0 ? 'reconnecting' : 'connecting');
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket === socket) this.opened();
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.received(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.closed(event.code);
    };
    socket.onerror = () => {
      // A failed handshake or a broken connection: `close` follows and decides.
    };
  }

  private connectNow(): void {
    if (this.status === 'stopped' || this.status === 'signed_out' || this.status === 'idle') {
      return;
    }
    if (this.socket && this.socket.readyState <= OPEN) return; // connecting or open already
    this.attempt = 0;
    this.connect();
  }

  private goOffline(): void {
    if (this.status === 'stopped' || this.status === 'signed_out' || this.status === 'idle') {
      return;
    }
    // Do not wait for the closing handshake of a connection that may already be dead.
    this.dropSocket();
    this.afterDisconnect();
    this.clearTimer('reconnectTimer');
    this.setStatus('offline');
    this.checkOnlineLater();
  }

  /** Should `online` never fire (it is unreliable on some systems), look again now and then. */
  private checkOnlineLater(): void {
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.status !== 'offline') return;
      if (this.environment?.isOnline() === false) this.checkOnlineLater();
      else this.connectNow();
    }, this.backoff.maxMs);
  }

  private opened(): void {
    this.hasConnected = true;
    this.setStatus('open');
    this.pausedUntil = 0;
    this.startHeartbeat();
    const tracked = [...this.conversations.values()].filter((s) => s.tracked).map((s) => s.id);
    for (const state of this.conversations.values()) state.syncing = false;
    // Always: an empty sync still proves the connection works end to end (its `synced` resets
    // the backoff).
    this.sendSync(tracked);
    for (const state of this.conversations.values()) {
      if (state.readWanted > state.readSent) this.sendRead(state);
    }
    this.flush();
  }

  private closed(code: number): void {
    this.socket = null;
    this.afterDisconnect();
    if (code === CLOSE_UNAUTHORIZED) {
      this.setStatus('signed_out');
      this.emit({ type: 'unauthorized' });
      return;
    }
    this.scheduleReconnect();
  }

  /** What a lost connection means for the state: nothing in flight, typing forgotten. */
  private afterDisconnect(): void {
    this.stopHeartbeat();
    let outboxChanged = false;
    this.outbox = this.outbox.map((e) => {
      if (e.state !== 'sent') return e;
      outboxChanged = true;
      return { ...e, state: 'queued' as const };
    });
    if (outboxChanged) this.outboxChanged(null);
    for (const state of this.conversations.values()) {
      state.syncing = false;
      if (state.typing.size > 0) {
        state.typing.clear();
        this.touch(state);
      }
    }
  }

  private scheduleReconnect(): void {
    if (this.status === 'stopped' || this.status === 'signed_out') return;
    this.clearTimer('reconnectTimer');
    const delay = backoffDelay(this.attempt, this.random, this.backoff);
    this.attempt += 1;
    this.setStatus('reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onerror = null;
    socket.onclose = null;
    try {
      socket.close(1000, 'client closing');
    } catch {
      // already closed
    }
  }

  private isOpen(): boolean {
    return this.status === 'open' && !!this.socket && this.socket.readyState === OPEN;
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (!this.isOpen() || this.pongTimer) return;
      this.send({ type: 'ping' });
      this.pongTimer = setTimeout(() => {
        // No answer to anything: the connection is dead even if the browser has not noticed.
        this.pongTimer = null;
        this.dropSocket();
        this.afterDisconnect();
        this.scheduleReconnect();
      }, HEARTBEAT_TIMEOUT_MS);
    }, HEARTBEAT_EVERY_MS);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.clearTimer('pongTimer');
  }

  private send(frame: Record<string, unknown>): boolean {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
    try {
      this.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- outbox

  private enqueue(entry: OutboxEntry): void {
    this.outbox = [...this.outbox, entry];
    this.outboxChanged(entry.conversation);
    this.flush();
  }

  private flush(): void {
    if (!this.isOpen()) return;
    const wait = this.pausedUntil - this.now();
    if (wait > 0) {
      if (!this.flushTimer) {
        this.flushTimer = setTimeout(() => {
          this.flushTimer = null;
          this.flush();
        }, wait);
      }
      return;
    }
    let inFlight = this.outbox.filter((e) => e.state === 'sent').length;
    const touched = new Set<string>();
    this.outbox = this.outbox.map((entry) => {
      if (entry.state !== 'queued' || inFlight >= MAX_IN_FLIGHT) return entry;
      const frame =
        entry.kind === 'message'
          ? {
              type: 'message.send',
              conversation: entry.conversation,
              client_id: entry.client_id,
              body: entry.body,
            }
          : {
              type: 'action.submit',
              conversation: entry.conversation,
              client_id: entry.client_id,
              action: entry.action,
              payload: entry.payload,
            };
      if (!this.send(frame)) return entry;
      inFlight += 1;
      touched.add(entry.conversation);
      return { ...entry, state: 'sent' as const };
    });
    if (touched.size > 0) this.outboxChanged(null);
  }

  private replaceEntry(next: OutboxEntry): void {
    this.outbox = this.outbox.map((e) => (e.client_id === next.client_id ? next : e));
    this.outboxChanged(next.conversation);
  }

  /** A stored message that carries the client_id of one of our sends: that send is done. */
  private dropAcknowledged(message: ChatMessage): OutboxEntry | null {
    if (!message.client_id || message.sender !== this.userId) return null;
    const entry = this.outbox.find((e) => e.client_id === message.client_id);
    if (!entry) return null;
    this.outbox = this.outbox.filter((e) => e.client_id !== entry.client_id);
    this.outboxChanged(entry.conversation);
    this.emit({ type: 'acked', entry, message });
    this.flush();
    return entry;
  }

  private outboxChanged(conversation: string | null): void {
    this.outboxSnapshot = null;
    if (this.storage) {
      try {
        if (this.outbox.length === 0) this.storage.removeItem(outboxKey(this.userId));
        else this.storage.setItem(outboxKey(this.userId), JSON.stringify(this.outbox));
      } catch {
        // storage full or disabled: the outbox still works for this page load
      }
    }
    if (conversation === null) {
      for (const state of this.conversations.values()) state.snapshot = null;
      for (const entry of this.outbox) this.state(entry.conversation).snapshot = null;
    } else {
      this.state(conversation).snapshot = null;
    }
    this.changed();
  }

  // ---------------------------------------------------------------- cursors and sync

  private state(id: string): ConversationState {
    let state = this.conversations.get(id);
    if (!state) {
      state = {
        id,
        tracked: false,
        cursor: 0,
        change: 0,
        seenChanges: new Set(),
        messages: new Map(),
        bySeq: new Map(),
        receipts: {},
        typing: new Map(),
        syncing: false,
        gapTimer: null,
        deliveredSent: 0,
        deliveredTimer: null,
        readSent: 0,
        readWanted: 0,
        typingSentAt: 0,
        snapshot: null,
      };
      this.conversations.set(id, state);
    }
    return state;
  }

  /** Store a message once; a copy with a newer (or equal) `change` replaces the held one. */
  private upsert(state: ConversationState, message: ChatMessage, live = false): boolean {
    if (live && typeof message.change === 'number' && message.change > state.change) {
      // Only frames of the socket count toward the change cursor (REST answers are snapshots).
      state.seenChanges.add(message.change);
    }
    const held = state.messages.get(message.id);
    if (held && (held.change ?? 0) > (message.change ?? 0)) return false;
    if (held && held.change === message.change && held.seq === message.seq) {
      // the same write again (a replay, or ack + push): nothing new to show
      if (JSON.stringify(held) === JSON.stringify(message)) return false;
    }
    state.messages.set(message.id, message);
    state.bySeq.set(message.seq, message.id);
    return true;
  }

  /** Move the cursors over everything now held without a hole. */
  private advance(state: ConversationState): void {
    while (state.bySeq.has(state.cursor + 1)) state.cursor += 1;
    while (state.seenChanges.has(state.change + 1)) {
      state.change += 1;
      state.seenChanges.delete(state.change);
    }
    for (const change of state.seenChanges) {
      if (change <= state.change) state.seenChanges.delete(change);
    }
  }

  private hasGap(state: ConversationState): boolean {
    if (!state.tracked) return false;
    for (const seq of state.bySeq.keys()) if (seq > state.cursor) return true;
    return state.seenChanges.size > 0;
  }

  private checkGap(state: ConversationState): void {
    if (!this.hasGap(state) || state.gapTimer || state.syncing) return;
    // Pushes may arrive slightly out of order: give the missing one a moment first.
    state.gapTimer = setTimeout(() => {
      state.gapTimer = null;
      if (this.hasGap(state) && !state.syncing && this.isOpen()) this.sendSync([state.id]);
    }, GAP_WAIT_MS);
  }

  private sendSync(ids: readonly string[]): void {
    for (let i = 0; i === 0 || i < ids.length; i += MAX_SYNC_CONVERSATIONS) {
      const cursors: Record<string, number> = {};
      const changes: Record<string, number> = {};
      for (const id of ids.slice(i, i + MAX_SYNC_CONVERSATIONS)) {
        const state = this.state(id);
        cursors[id] = state.cursor;
        changes[id] = state.change;
        state.syncing = true;
      }
      this.send({ type: 'sync', cursors, changes });
    }
  }

  private sendRead(state: ConversationState): void {
    if (state.readWanted <= state.readSent || !this.isOpen()) return;
    if (this.send({ type: 'read', conversation: state.id, seq: state.readWanted })) {
      state.readSent = state.readWanted;
      state.deliveredSent = Math.max(state.deliveredSent, state.readWanted);
    }
  }

  /** Live pushes are not marked delivered by the server: say what this tab now holds. */
  private scheduleDelivered(state: ConversationState): void {
    if (state.deliveredTimer || !state.tracked) return;
    state.deliveredTimer = setTimeout(() => {
      state.deliveredTimer = null;
      if (state.cursor > state.deliveredSent && this.isOpen()) {
        if (this.send({ type: 'delivered', conversation: state.id, seq: state.cursor })) {
          state.deliveredSent = state.cursor;
        }
      }
    }, DELIVERED_WAIT_MS);
  }

  // ---------------------------------------------------------------- incoming frames

  private received(data: unknown): void {
    this.clearTimer('pongTimer');
    let frame: unknown;
    try {
      frame = typeof data === 'string' ? JSON.parse(data) : null;
    } catch {
      return;
    }
    if (!isRecord(frame) || typeof frame.type !== 'string') return;
    switch (frame.type) {
      case 'ack':
        if (isMessage(frame.message)) this.onMessage(frame.message, 'new', false);
        if (typeof frame.client_id === 'string') this.onAck(frame.client_id, frame.message);
        break;
      case 'message.new':
      case 'message.update':
        if (isMessage(frame.message)) {
          this.onMessage(frame.message, frame.type === 'message.new' ? 'new' : 'update', true);
        }
        break;
      case 'synced':
        this.onSynced(frame);
        break;
      case 'typing':
        this.onTyping(frame);
        break;
      case 'read':
        this.onReceipt(frame);
        break;
      case 'presence':
        this.onPresence(frame);
        break;
      case 'error':
        this.onError(frame);
        break;
      case 'notification.new': {
        const notification = parsePushedNotification(frame.notification);
        if (notification) this.emit({ type: 'notification', notification });
        break;
      }
      default:
        break; // pong, and frames this client does not know yet
    }
  }

  private onMessage(message: ChatMessage, event: 'new' | 'update', pushed: boolean): void {
    const state = this.state(message.conversation);
    const stored = this.upsert(state, message, true);
    if (message.sender && state.typing.delete(message.sender)) state.snapshot = null;
    this.dropAcknowledged(message);
    if (!stored) {
      this.advance(state);
      this.changed();
      if (state.tracked) this.checkGap(state);
      return;
    }
    this.advance(state);
    this.touch(state);
    this.emit({ type: 'message', message, event });
    if (!state.tracked) {
      this.emit({ type: 'unknown-conversation', conversation: state.id });
      return;
    }
    this.checkGap(state);
    if (pushed && message.sender !== this.userId) this.scheduleDelivered(state);
  }

  private onAck(clientId: string, message: unknown): void {
    const entry = this.outbox.find((e) => e.client_id === clientId);
    if (!entry) return;
    this.outbox = this.outbox.filter((e) => e.client_id !== clientId);
    this.outboxChanged(entry.conversation);
    if (isMessage(message)) this.emit({ type: 'acked', entry, message });
    this.flush();
  }

  private onSynced(frame: Record<string, unknown>): void {
    this.attempt = 0; // a connection that got this far is a good one
    const cursors = isRecord(frame.cursors) ? frame.cursors : {};
    const changes = isRecord(frame.changes) ? frame.changes : {};
    const more = Array.isArray(frame.more) ? frame.more.filter((x) => typeof x === 'string') : [];
    const done: string[] = [];
    for (const [id, value] of Object.entries(cursors)) {
      const state = this.state(id);
      state.syncing = false;
      if (typeof value === 'number' && value > state.cursor) state.cursor = value;
      const change = changes[id];
      if (typeof change === 'number' && change > state.change) state.change = change;
      this.advance(state);
      state.snapshot = null;
      done.push(id);
    }
    if (more.length > 0) this.sendSync(more);
    for (const id of done) {
      if (!more.includes(id)) this.checkGap(this.state(id));
    }
    this.changed();
    this.emit({ type: 'synced', conversations: done });
  }

  private onTyping(frame: Record<string, unknown>): void {
    const { conversation, user } = frame;
    if (typeof conversation !== 'string' || typeof user !== 'string' || user === this.userId) {
      return;
    }
    const state = this.state(conversation);
    state.typing.set(user, this.now() + TYPING_SHOWN_MS);
    this.touch(state);
    this.scheduleTypingExpiry();
  }

  private scheduleTypingExpiry(): void {
    if (this.typingTimer) return;
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      const now = this.now();
      let pending = false;
      for (const state of this.conversations.values()) {
        let expired = false;
        for (const [user, until] of state.typing) {
          if (until <= now) {
            state.typing.delete(user);
            expired = true;
          } else pending = true;
        }
        if (expired) this.touch(state);
      }
      if (pending) this.scheduleTypingExpiry();
    }, 1_000);
  }

  private onReceipt(frame: Record<string, unknown>): void {
    const { conversation, user } = frame;
    if (typeof conversation !== 'string' || typeof user !== 'string') return;
    const read = typeof frame.read_seq === 'number' ? frame.read_seq : frame.seq;
    const delivered = frame.delivered_seq;
    const state = this.state(conversation);
    const held = state.receipts[user] ?? { read_seq: 0, delivered_seq: 0 };
    const receipt = {
      read_seq: Math.max(held.read_seq, typeof read === 'number' ? read : 0),
      delivered_seq: Math.max(
        held.delivered_seq,
        typeof delivered === 'number' ? delivered : 0,
        typeof read === 'number' ? read : 0,
      ),
    };
    state.receipts = { ...state.receipts, [user]: receipt };
    if (user === this.userId) {
      // Read in another tab: this tab need not say it again.
      state.readSent = Math.max(state.readSent, receipt.read_seq);
      state.readWanted = Math.max(state.readWanted, receipt.read_seq);
    }
    this.touch(state);
    this.emit({ type: 'receipt', conversation, user, receipt });
  }

  private onPresence(frame: Record<string, unknown>): void {
    const { user, online, last_seen: lastSeen } = frame;
    if (typeof user !== 'string' || typeof online !== 'boolean') return;
    const presence = { online, last_seen: typeof lastSeen === 'string' ? lastSeen : null };
    this.presence.set(user, presence);
    this.changed();
    this.emit({ type: 'presence', user, presence });
  }

  private onError(frame: Record<string, unknown>): void {
    const error: FrameError = {
      code: typeof frame.code === 'string' ? frame.code : 'error',
      message: typeof frame.message === 'string' ? frame.message : 'Something went wrong.',
      ...(frame.fields !== undefined ? { fields: frame.fields } : {}),
    };
    if (typeof frame.conversation === 'string' && error.code === 'not_found') {
      const state = this.state(frame.conversation);
      state.syncing = false;
      state.tracked = false; // no more sync for it
      this.emit({ type: 'gone', conversation: frame.conversation });
      return;
    }
    const clientId = typeof frame.client_id === 'string' ? frame.client_id : null;
    const entry = clientId ? this.outbox.find((e) => e.client_id === clientId) : undefined;
    if (error.code === 'rate_limited') {
      this.pausedUntil = this.now() + RATE_LIMIT_PAUSE_MS;
      if (!entry) {
        // Perhaps a sync or a read: repeat what is still outstanding after the pause.
        setTimeout(() => this.resyncOutstanding(), RATE_LIMIT_PAUSE_MS);
      }
    }
    if (entry) {
      if (RETRYABLE.has(error.code)) {
        this.replaceEntry({ ...entry, state: 'queued' });
        this.pausedUntil = Math.max(this.pausedUntil, this.now() + RATE_LIMIT_PAUSE_MS);
        this.flush();
      } else {
        const failed = { ...entry, state: 'failed' as const, error };
        this.replaceEntry(failed);
        this.emit({ type: 'failed', entry: failed });
        this.flush();
      }
      return;
    }
    this.emit({ type: 'error', error });
  }

  private resyncOutstanding(): void {
    if (!this.isOpen()) return;
    const waiting = [...this.conversations.values()].filter((s) => s.tracked && s.syncing);
    if (waiting.length > 0) this.sendSync(waiting.map((s) => s.id));
    for (const state of this.conversations.values()) {
      if (state.readWanted > state.readSent) this.sendRead(state);
    }
    this.flush();
  }

  // ---------------------------------------------------------------- notifying

  private touch(state: ConversationState): void {
    state.snapshot = null;
    this.changed();
  }

  private changed(): void {
    this.version += 1;
    // Coalesce a burst (a sync replay is many frames) into one render.
    if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      for (const listener of [...this.listeners]) listener();
    }, 0);
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    const previous = this.status;
    this.status = status;
    this.changed();
    this.emit({ type: 'status', status, previous });
  }

  private emit(event: ChatEvent): void {
    for (const listener of [...this.eventListeners]) {
      try {
        listener(event);
      } catch {
        // a page's handler must not break the socket
      }
    }
  }

  private clearTimer(
    name: 'reconnectTimer' | 'flushTimer' | 'typingTimer' | 'notifyTimer' | 'pongTimer',
  ): void {
    const timer = this[name];
    if (timer) clearTimeout(timer);
    this[name] = null;
  }
}

/** Forget every chat draft and outbox of this tab (at log out). */
export function clearChatStorage(storage: StorageLike | null = defaultStorage()): void {
  if (!storage) return;
  try {
    const keys: string[] = [];
    const s = storage as StorageLike & { length?: number; key?: (i: number) => string | null };
    if (typeof s.length === 'number' && typeof s.key === 'function') {
      for (let i = 0; i < s.length; i += 1) {
        const key = s.key(i);
        if (key?.startsWith(STORAGE_PREFIX)) keys.push(key);
      }
    }
    for (const key of keys) storage.removeItem(key);
  } catch {
    // nothing to clear
  }
}
