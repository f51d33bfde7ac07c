/**
 * The call's state machine, pure (no browser APIs): what the page shows follows from the
 * user's actions, the signaling socket's status, the server's frames and the peer connection.
 *
 *   device-check ──join──▶ joining ──waiting──▶ waiting ──admitted──▶ in-call
 *        ▲                    │                                        │
 *        └──── leave / a refusal (closed, no capacity) ◀───────────────┘
 *   any ──ended──▶ ended (final)
 *
 * A dropped socket does not change the phase: the link is `reconnecting` and, once it is back,
 * `join` is sent again (the server lets an admitted participant straight back in).
 */
import { backoffDelay } from '../../realtime/chatSocket';
import type { QualityLevel, ServerMessage, SignalError } from './signal';
import type { ConsultPerson } from './types';

export type CallPhase = 'device-check' | 'joining' | 'waiting' | 'in-call' | 'ended';
/** The signaling socket. */
export type LinkStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline';
/** The media (RTCPeerConnection to the server). */
export type MediaStatus = 'idle' | 'negotiating' | 'connected' | 'interrupted' | 'failed';

export interface CallState {
  phase: CallPhase;
  link: LinkStatus;
  media: MediaStatus;
  /** The doctor's waiting room, oldest first. */
  waiting: ConsultPerson[];
  /** The doctor pressed "Admit" for these; they are not in yet. */
  admitting: string[];
  /** The other people in the call, as the server announced them. */
  others: ConsultPerson[];
  quality: QualityLevel;
  muted: boolean;
  cameraOff: boolean;
  audioOnly: boolean;
  error: SignalError | null;
  /** Left with "Leave": the device screen offers "Rejoin". */
  left: boolean;
  /** Reconnect attempts since the last answered `join` (for the backoff). */
  attempt: number;
}

export type CallEvent =
  /** "Join consult" / "Rejoin". */
  | { type: 'join' }
  | { type: 'link'; status: LinkStatus }
  | { type: 'server'; message: ServerMessage }
  | { type: 'media'; status: MediaStatus }
  | { type: 'leave' }
  | { type: 'admit'; user: string }
  | { type: 'mute'; muted: boolean }
  | { type: 'camera'; off: boolean }
  | { type: 'audio-only'; on: boolean }
  /** The consult is over (the REST answer, or "End consult" succeeded). */
  | { type: 'ended' }
  /** Could not go on (signed out, refused, no media): back to the device screen. */
  | { type: 'failed'; error: SignalError }
  /** The REST answer's waiting room (before the socket says more). */
  | { type: 'sync'; waiting: ConsultPerson[] }
  | { type: 'dismiss-error' };

export const initialCallState: CallState = {
  phase: 'device-check',
  link: 'idle',
  media: 'idle',
  waiting: [],
  admitting: [],
  others: [],
  quality: 'ok',
  muted: false,
  cameraOff: false,
  audioOnly: false,
  error: null,
  left: false,
  attempt: 0,
};

/** Error codes after which the browser stops trying (the user decides what next). */
export const FINAL_ERRORS: ReadonlySet<string> = new Set([
  'no_capacity',
  'consult_closed',
  'consult_ended',
  'not_found',
  'forbidden',
  'not_authenticated',
]);

const LIVE_PHASES: ReadonlySet<CallPhase> = new Set(['joining', 'waiting', 'in-call']);

/** The socket should be (re)connected: the user joined and has not left, nothing final. */
export function isLive(state: CallState): boolean {
  return LIVE_PHASES.has(state.phase);
}

function upsert(list: ConsultPerson[], person: ConsultPerson): ConsultPerson[] {
  const index = list.findIndex((p) => p.user === person.user);
  if (index === -1) return [...list, person];
  const next = [...list];
  next[index] = { ...list[index], ...person };
  return next;
}

function without<T extends { user: string }>(list: T[], user: string): T[] {
  return list.some((p) => p.user === user) ? list.filter((p) => p.user !== user) : list;
}

const ENDED: Partial<CallState> = {
  phase: 'ended',
  link: 'idle',
  media: 'idle',
  waiting: [],
  admitting: [],
  others: [],
  quality: 'ok',
};

const STOPPED: Partial<CallState> = {
  phase: 'device-check',
  link: 'idle',
  media: 'idle',
  others: [],
  admitting: [],
  quality: 'ok',
  audioOnly: false,
  attempt: 0,
};

function onServer(state: CallState, message: ServerMessage): CallState {
  switch (message.type) {
    case 'waiting':
      if (!isLive(state)) return state;
      return { ...state, phase: 'waiting', media: 'idle', attempt: 0, error: null };
    case 'admitted':
      if (!isLive(state)) return state;
      return {
        ...state,
        phase: 'in-call',
        media: 'negotiating',
        attempt: 0,
        error: null,
        waiting: message.waiting ?? state.waiting,
      };
    case 'participant.waiting':
      return {
        ...state,
        waiting: upsert(state.waiting, { user: message.user, name: message.name }),
        others: without(state.others, message.user),
      };
    case 'participant.joined': {
      const name =
        message.name ?? state.waiting.find((p) => p.user === message.user)?.name ?? 'Someone';
      return {
        ...state,
        waiting: without(state.waiting, message.user),
        admitting: state.admitting.filter((u) => u !== message.user),
        others: upsert(state.others, { user: message.user, name }),
      };
    }
    case 'participant.left':
      return {
        ...state,
        waiting: without(state.waiting, message.user),
        admitting: state.admitting.filter((u) => u !== message.user),
        others: without(state.others, message.user),
      };
    case 'ended':
      return { ...state, ...ENDED };
    case 'quality':
      return state.quality === message.level ? state : { ...state, quality: message.level };
    case 'error': {
      const error = { code: message.code, message: message.message };
      if (message.code === 'consult_ended') return { ...state, ...ENDED, error };
      if (FINAL_ERRORS.has(message.code)) return { ...state, ...STOPPED, error };
      if (message.code === 'not_admitted' && isLive(state)) {
        return { ...state, phase: 'waiting', media: 'idle' };
      }
      return { ...state, error };
    }
    default:
      return state; // answer / offer / ice: the peer connection's business
  }
}

export function callReducer(state: CallState, event: CallEvent): CallState {
  switch (event.type) {
    case 'join':
      if (state.phase === 'ended' || isLive(state)) return state;
      return {
        ...state,
        phase: 'joining',
        link: 'connecting',
        media: 'idle',
        error: null,
        left: false,
        quality: 'ok',
        attempt: 0,
      };
    case 'link':
      if (!isLive(state)) return state.link === 'idle' ? state : { ...state, link: 'idle' };
      return {
        ...state,
        link: event.status,
        attempt: event.status === 'reconnecting' ? state.attempt + 1 : state.attempt,
      };
    case 'server':
      return onServer(state, event.message);
    case 'media':
      if (state.phase !== 'in-call' || state.media === event.status) return state;
      return { ...state, media: event.status };
    case 'leave':
      if (state.phase === 'ended') return state;
      return { ...state, ...STOPPED, waiting: [], left: true, error: null };
    case 'admit':
      return state.admitting.includes(event.user)
        ? state
        : { ...state, admitting: [...state.admitting, event.user] };
    case 'mute':
      return { ...state, muted: event.muted };
    case 'camera':
      return { ...state, cameraOff: event.off };
    case 'audio-only':
      return { ...state, audioOnly: event.on };
    case 'ended':
      return state.phase === 'ended' ? state : { ...state, ...ENDED };
    case 'failed':
      if (state.phase === 'ended') return state;
      return { ...state, ...STOPPED, error: event.error };
    case 'sync':
      // The socket's word is fresher once it is connected.
      return state.link === 'open' ? state : { ...state, waiting: event.waiting };
    case 'dismiss-error':
      return state.error ? { ...state, error: null } : state;
    default:
      return state;
  }
}

// ------------------------------------------------------------------ derived text

export interface ControlLabels {
  mute: 'Mute' | 'Unmute';
  camera: 'Turn camera off' | 'Turn camera on';
  audioOnly: 'Switch to audio only' | 'Switch back to video';
}

export function controlLabels(state: Pick<CallState, 'muted' | 'cameraOff' | 'audioOnly'>) {
  return {
    mute: state.muted ? 'Unmute' : 'Mute',
    camera: state.cameraOff ? 'Turn camera on' : 'Turn camera off',
    audioOnly: state.audioOnly ? 'Switch back to video' : 'Switch to audio only',
  } satisfies ControlLabels;
}

/** A short line about the connection while in the call, or null when all is well. */
export function connectionText(state: Pick<CallState, 'link' | 'media' | 'phase'>) {
  if (state.link === 'offline') return 'You are offline. The call resumes when you are back.';
  if (state.link === 'reconnecting' || (state.link === 'connecting' && state.phase !== 'joining'))
    return 'Reconnecting…';
  if (state.phase === 'joining') return 'Connecting…';
  if (state.phase !== 'in-call') return null;
  if (state.media === 'negotiating') return 'Starting the video…';
  if (state.media === 'interrupted') return 'The connection is unstable. Trying to recover…';
  if (state.media === 'failed') return 'The media connection failed. Reconnecting…';
  return null;
}

/**
 * The line over the other participant's picture, or null when their video shows. Alone in the
 * call the server still sends a black frame a second (the picture never freezes on someone who
 * left), so a live remote track alone does not mean there is someone to see.
 */
export function stageOverlay(
  state: Pick<CallState, 'audioOnly' | 'others'>,
  remoteVideo: boolean,
  otherName: string,
  isDoctor: boolean,
): string | null {
  if (state.audioOnly) return `Audio only. You can still hear ${otherName}.`;
  if (state.others.length === 0) {
    return isDoctor
      ? `Waiting for ${otherName} to join. Let them in when they are waiting.`
      : `Waiting for ${otherName}…`;
  }
  if (!remoteVideo) return `${state.others[0]?.name ?? otherName}'s video will appear here.`;
  return null;
}

// ------------------------------------------------------------------ timing

/** Reconnect backoff: 0.25–0.5 s, 0.5–1 s, 1–2 s, … capped at 5–10 s (equal jitter). */
export const RECONNECT_BACKOFF = { baseMs: 500, maxMs: 10_000 } as const;

export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  return backoffDelay(Math.max(0, attempt), random, RECONNECT_BACKOFF);
}

/** After this many failed reconnects in a row (about a minute and a half), stop and say so. */
export const MAX_RECONNECT_ATTEMPTS = 12;

/** How long to wait for ICE gathering before sending the offer with what we have. */
export const ICE_GATHERING_TIMEOUT_MS = 3_000;
/** A peer connection `disconnected` for this long is rebuilt (a fresh join and offer). */
export const MEDIA_RECOVERY_MS = 6_000;
