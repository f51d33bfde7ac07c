/**
 * One consult call in this tab, in plain TypeScript (no React): the signaling websocket and the
 * one RTCPeerConnection to the server's media relay.
 *
 * - `join()` opens `/ws/consult/{id}/` and sends `join`. `waiting` → the waiting room;
 *   `admitted` → a fresh peer connection with sendrecv audio and video transceivers (the local
 *   tracks added first), the complete offer after ICE gathering (or a timeout; later candidates
 *   are then sent as `ice`), and the server's `answer` applied. The other participant's media
 *   arrives on `ontrack` of the same connection.
 * - A dropped socket reconnects with backoff (at once when the browser is back online) and sends
 *   `join` again; the server lets an admitted participant straight back in, and the browser
 *   then offers again on a new peer connection. A peer connection that fails (or stays
 *   disconnected) is rebuilt the same way.
 * - `leave()` says `leave` and closes everything; `ended`, or a final error (`no_capacity`,
 *   `consult_closed`, …), closes everything without retrying.
 *
 * The state is `callReducer`'s; the page reads `getSnapshot()` (useSyncExternalStore).
 */
import type { SocketLike } from '../../realtime/chatSocket';
import {
  callReducer,
  FINAL_ERRORS,
  ICE_GATHERING_TIMEOUT_MS,
  initialCallState,
  isLive,
  MAX_RECONNECT_ATTEMPTS,
  MEDIA_RECOVERY_MS,
  reconnectDelay,
  type CallEvent,
  type CallState,
} from './callState';
import {
  consultSocketUrl,
  encodeClientMessage,
  parseServerMessage,
  type ClientMessage,
  type IceCandidateInit,
  type ServerMessage,
} from './signal';
import type { ConsultPerson } from './types';

/** Close codes after which reconnecting cannot help (signed out, refused, not found). */
const FINAL_CLOSE_CODES: Record<number, { code: string; message: string }> = {
  4401: { code: 'not_authenticated', message: 'Your session ended. Log in again to rejoin.' },
  4403: { code: 'forbidden', message: 'You cannot join this consult.' },
  4404: { code: 'not_found', message: 'This consult does not exist, or you are not part of it.' },
};
/** Immediate re-offers after `media_failed` before waiting for the peer to fail by itself. */
const MAX_MEDIA_RETRIES = 3;
const OPEN = 1;

export interface CallSnapshot {
  state: CallState;
  /** The other participant's media (audio and video), once their tracks arrived. */
  remoteStream: MediaStream | null;
  /** The remote video track is delivering frames (not muted by the network). */
  remoteVideo: boolean;
}

export interface ConsultCallOptions {
  consultId: string;
  /** Me: the server's participant events about myself are not "others". */
  userId: string;
  iceServers?: RTCIceServer[];
  url?: string;
  createSocket?: (url: string) => SocketLike;
  createPeer?: (config: RTCConfiguration) => RTCPeerConnection;
  random?: () => number;
  /** Whether the call should come back by itself after a reload (sessionStorage flag). */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
}

const rejoinKey = (consultId: string) => `careconnect.consult.joined.${consultId}`;

function defaultStorage() {
  try {
    return typeof window === 'undefined' ? null : window.sessionStorage;
  } catch {
    return null;
  }
}

export class ConsultCall {
  private readonly consultId: string;
  private readonly userId: string;
  private iceServers: RTCIceServer[];
  private readonly url: string;
  private readonly createSocket: (url: string) => SocketLike;
  private readonly createPeer: (config: RTCConfiguration) => RTCPeerConnection;
  private readonly random: () => number;
  private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;

  private state: CallState = initialCallState;
  private snapshot: CallSnapshot;
  private readonly listeners = new Set<() => void>();

  private socket: SocketLike | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private recoveryTimer: ReturnType<typeof setTimeout> | null = null;

  private local: MediaStream | null = null;
  private pc: RTCPeerConnection | null = null;
  /** Bumped for every new peer connection: late callbacks of an old one are ignored. */
  private generation = 0;
  private audioSender: RTCRtpSender | null = null;
  private videoSender: RTCRtpSender | null = null;
  private offerSent = false;
  private mediaRetries = 0;
  private pendingIce: IceCandidateInit[] = [];
  private remote: MediaStream | null = null;
  private remoteVideo = false;
  private mounted = false;
  /** Admissions asked for before the doctor was in: sent once `admitted` arrives. */
  private readonly pendingAdmits = new Set<string>();

  constructor(options: ConsultCallOptions) {
    this.consultId = options.consultId;
    this.userId = options.userId;
    this.iceServers = options.iceServers ?? [];
    this.url =
      options.url ??
      (typeof window === 'undefined'
        ? `/ws/consult/${options.consultId}/`
        : consultSocketUrl(options.consultId, window.location));
    this.createSocket =
      options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.createPeer = options.createPeer ?? ((config) => new RTCPeerConnection(config));
    this.random = options.random ?? Math.random;
    this.storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.snapshot = { state: this.state, remoteStream: null, remoteVideo: false };
  }

  // ---------------------------------------------------------------- store

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): CallSnapshot => this.snapshot;

  private publish(): void {
    const { state, remote, remoteVideo } = this;
    const s = this.snapshot;
    if (s.state === state && s.remoteStream === remote && s.remoteVideo === remoteVideo) return;
    this.snapshot = { state, remoteStream: remote, remoteVideo };
    for (const listener of [...this.listeners]) listener();
  }

  private dispatch(event: CallEvent): void {
    this.state = callReducer(this.state, event);
    this.publish();
  }

  // ---------------------------------------------------------------- lifecycle

  mount(): void {
    if (this.mounted || typeof window === 'undefined') return;
    this.mounted = true;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('pagehide', this.onPageHide);
  }

  /** The page went away: leave politely (the flag for a reload stays). */
  unmount(): void {
    if (!this.mounted) return;
    this.mounted = false;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('pagehide', this.onPageHide);
    if (isLive(this.state)) {
      this.teardown(true);
      this.state = callReducer(this.state, { type: 'leave' });
      this.publish();
    }
  }

  /** This tab was in the call before a reload: join again without asking. */
  shouldRejoin(): boolean {
    try {
      return this.storage?.getItem(rejoinKey(this.consultId)) === '1';
    } catch {
      return false;
    }
  }

  private remember(joined: boolean): void {
    try {
      if (joined) this.storage?.setItem(rejoinKey(this.consultId), '1');
      else this.storage?.removeItem(rejoinKey(this.consultId));
    } catch {
      // private mode: no automatic rejoin after a reload
    }
  }

  setIceServers(servers: RTCIceServer[]): void {
    this.iceServers = servers;
  }

  /** The camera and microphone from the device check (replaced on the fly in a call). */
  setLocalStream(stream: MediaStream | null): void {
    if (this.local === stream) return;
    this.local = stream;
    this.applyTrackState();
    const audio = stream?.getAudioTracks()[0] ?? null;
    const video = stream?.getVideoTracks()[0] ?? null;
    void this.audioSender?.replaceTrack(audio).catch(() => undefined);
    void this.videoSender?.replaceTrack(this.state.audioOnly ? null : video).catch(() => undefined);
  }

  // ---------------------------------------------------------------- user actions

  join(): void {
    if (this.state.phase === 'ended' || isLive(this.state)) return;
    this.dispatch({ type: 'join' });
    this.remember(true);
    this.connect();
  }

  leave(): void {
    if (!isLive(this.state)) return;
    this.teardown(true);
    this.remember(false);
    this.dispatch({ type: 'leave' });
  }

  /** Let someone in from the waiting room (joining first when the doctor is not in yet). */
  admit(user: string): void {
    if (this.state.phase === 'ended') return;
    if (this.state.phase === 'in-call' && this.send({ type: 'admit', user })) {
      this.dispatch({ type: 'admit', user });
      return;
    }
    this.pendingAdmits.add(user);
    this.dispatch({ type: 'admit', user });
    if (!isLive(this.state)) this.join();
  }

  /** Ask the server to end the consult for everyone (the page also calls the REST endpoint). */
  end(): void {
    this.send({ type: 'end' });
  }

  /** The consult is over (the server said so over REST). */
  markEnded(): void {
    if (this.state.phase === 'ended') return;
    this.teardown(false);
    this.remember(false);
    this.dispatch({ type: 'ended' });
  }

  /** The waiting room as the REST answer saw it. */
  syncWaiting(waiting: ConsultPerson[]): void {
    this.dispatch({ type: 'sync', waiting: waiting.filter((p) => p.user !== this.userId) });
  }

  setMuted(muted: boolean): void {
    this.dispatch({ type: 'mute', muted });
    this.applyTrackState();
  }

  setCameraOff(off: boolean): void {
    this.dispatch({ type: 'camera', off });
    this.applyTrackState();
  }

  /** Stop sending (and showing) video, keep the sound; and back. */
  setAudioOnly(on: boolean): void {
    this.dispatch({ type: 'audio-only', on });
    this.applyTrackState();
    const video = this.local?.getVideoTracks()[0] ?? null;
    void this.videoSender?.replaceTrack(on ? null : video).catch(() => undefined);
    for (const track of this.remote?.getVideoTracks() ?? []) track.enabled = !on;
  }

  dismissError(): void {
    this.dispatch({ type: 'dismiss-error' });
  }

  private applyTrackState(): void {
    const { muted, cameraOff, audioOnly } = this.state;
    for (const track of this.local?.getAudioTracks() ?? []) track.enabled = !muted;
    for (const track of this.local?.getVideoTracks() ?? [])
      track.enabled = !cameraOff && !audioOnly;
  }

  // ---------------------------------------------------------------- the socket

  private send(message: ClientMessage): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return false;
    try {
      socket.send(encodeClientMessage(message));
      return true;
    } catch {
      return false;
    }
  }

  private connect(): void {
    this.clearReconnect();
    this.dropSocket();
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      this.dispatch({ type: 'link', status: 'offline' });
      return; // `online` brings it back
    }
    this.dispatch({ type: 'link', status: 'connecting' });
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.dispatch({ type: 'link', status: 'open' });
      this.send({ type: 'join' });
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      const message = parseServerMessage(event.data);
      if (message) this.received(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.closed(event.code);
    };
    socket.onerror = () => {
      // `close` follows and decides.
    };
  }

  private dropSocket(): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(1000, 'bye');
    } catch {
      // already closed
    }
  }

  private closed(code: number): void {
    if (!isLive(this.state)) return;
    const final = FINAL_CLOSE_CODES[code];
    if (final) {
      this.teardown(false);
      this.remember(false);
      this.dispatch({ type: 'failed', error: final });
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!isLive(this.state)) return;
    this.clearReconnect();
    if (this.state.attempt >= MAX_RECONNECT_ATTEMPTS) {
      this.teardown(false);
      this.remember(false);
      this.dispatch({
        type: 'failed',
        error: {
          code: 'unreachable',
          message: 'We could not reconnect to the call. Check your connection, then join again.',
        },
      });
      return;
    }
    this.dispatch({ type: 'link', status: 'reconnecting' });
    const delay = reconnectDelay(this.state.attempt - 1, this.random);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (isLive(this.state)) this.connect();
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  /** Drop the socket and the media and come back through `join` (media failure, network). */
  private reconnectNow(): void {
    if (!isLive(this.state)) return;
    this.dropSocket();
    this.scheduleReconnect();
  }

  private readonly onOnline = () => {
    if (!isLive(this.state)) return;
    if (this.socket && this.socket.readyState <= OPEN) return;
    this.connect();
  };

  private readonly onOffline = () => {
    if (!isLive(this.state)) return;
    this.clearReconnect();
    this.dropSocket();
    this.dispatch({ type: 'link', status: 'offline' });
  };

  private readonly onPageHide = () => {
    // A reload or a closed tab: tell the server now rather than when the socket times out.
    if (isLive(this.state)) this.send({ type: 'leave' });
  };

  private received(message: ServerMessage): void {
    if (
      (message.type === 'participant.waiting' ||
        message.type === 'participant.joined' ||
        message.type === 'participant.left') &&
      message.user === this.userId
    ) {
      return;
    }
    if (message.type === 'admitted' && message.waiting) {
      message = { ...message, waiting: message.waiting.filter((p) => p.user !== this.userId) };
    }
    const wasLive = isLive(this.state);
    this.dispatch({ type: 'server', message });
    switch (message.type) {
      case 'admitted':
        if (!wasLive) break;
        void this.startPeer();
        for (const user of this.pendingAdmits) this.send({ type: 'admit', user });
        this.pendingAdmits.clear();
        break;
      case 'waiting':
        this.closePeer();
        break;
      case 'answer':
        void this.applyAnswer(message.sdp);
        break;
      case 'ice':
        if (message.candidate) this.addRemoteCandidate(message.candidate);
        break;
      case 'ended':
        this.teardown(false);
        this.remember(false);
        break;
      case 'error':
        if (FINAL_ERRORS.has(message.code)) {
          this.teardown(false);
          this.remember(false);
        } else if (message.code === 'not_admitted') {
          this.closePeer();
        } else if (message.code === 'media_failed' && this.mediaRetries < MAX_MEDIA_RETRIES) {
          // The server's media side lost the call (a media worker stopped): offer again at
          // once, a new worker takes it. Bounded; a fresh answer resets the count.
          this.mediaRetries += 1;
          void this.startPeer();
        }
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------- the peer connection

  private async startPeer(): Promise<void> {
    this.closePeer();
    const generation = ++this.generation;
    const current = () => generation === this.generation && this.pc === pc;
    let pc: RTCPeerConnection;
    try {
      pc = this.createPeer({ iceServers: this.iceServers });
    } catch {
      this.failMedia('This browser could not start a video call.');
      return;
    }
    this.pc = pc;
    this.offerSent = false;
    this.pendingIce = [];

    const stream = this.local;
    const streams = stream ? [stream] : [];
    const audio = stream?.getAudioTracks()[0];
    const video = stream?.getVideoTracks()[0];
    this.audioSender = pc.addTransceiver(audio ?? 'audio', {
      direction: 'sendrecv',
      streams,
    }).sender;
    this.videoSender = pc.addTransceiver(video ?? 'video', {
      direction: 'sendrecv',
      streams,
    }).sender;
    if (video && this.state.audioOnly) void this.videoSender.replaceTrack(null);

    pc.ontrack = (event) => {
      if (current()) this.addRemoteTrack(event.track);
    };
    pc.onicecandidate = (event) => {
      // Non-trickle: the offer carries what was gathered; only stragglers after a timeout go.
      if (!current() || !this.offerSent || !event.candidate) return;
      const { candidate, sdpMid, sdpMLineIndex } = event.candidate;
      this.send({ type: 'ice', candidate: { candidate, sdpMid, sdpMLineIndex } });
    };
    pc.onconnectionstatechange = () => {
      if (current()) this.peerStateChanged(pc.connectionState);
    };

    try {
      const offer = await pc.createOffer();
      if (!current()) return;
      await pc.setLocalDescription(offer);
      if (!current()) return;
      await waitForIceGathering(pc, ICE_GATHERING_TIMEOUT_MS);
      if (!current()) return;
      const sdp = pc.localDescription?.sdp ?? offer.sdp ?? '';
      if (this.send({ type: 'offer', sdp })) this.offerSent = true;
    } catch {
      if (current()) this.failMedia('The video call could not start.');
    }
  }

  private async applyAnswer(sdp: string): Promise<void> {
    this.mediaRetries = 0;
    const pc = this.pc;
    if (!pc || pc.signalingState !== 'have-local-offer') return;
    const generation = this.generation;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
      if (generation !== this.generation) return;
      const queued = this.pendingIce;
      this.pendingIce = [];
      for (const candidate of queued) void pc.addIceCandidate(candidate).catch(() => undefined);
    } catch {
      if (generation === this.generation) this.reconnectNow();
    }
  }

  private addRemoteCandidate(candidate: IceCandidateInit): void {
    const pc = this.pc;
    if (!pc) return;
    if (!pc.remoteDescription) {
      this.pendingIce.push(candidate);
      return;
    }
    void pc.addIceCandidate(candidate).catch(() => undefined);
  }

  private peerStateChanged(state: RTCPeerConnectionState): void {
    if (state === 'connected') {
      this.clearRecovery();
      this.dispatch({ type: 'media', status: 'connected' });
    } else if (state === 'disconnected') {
      this.dispatch({ type: 'media', status: 'interrupted' });
      if (!this.recoveryTimer) {
        this.recoveryTimer = setTimeout(() => {
          this.recoveryTimer = null;
          if (this.pc?.connectionState !== 'connected') this.reconnectNow();
        }, MEDIA_RECOVERY_MS);
      }
    } else if (state === 'failed') {
      this.clearRecovery();
      this.dispatch({ type: 'media', status: 'failed' });
      this.reconnectNow();
    }
  }

  private clearRecovery(): void {
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    this.recoveryTimer = null;
  }

  private failMedia(message: string): void {
    this.teardown(true);
    this.remember(false);
    this.dispatch({ type: 'failed', error: { code: 'media_failed', message } });
  }

  private addRemoteTrack(track: MediaStreamTrack): void {
    const others = this.remote?.getTracks().filter((t) => t.kind !== track.kind) ?? [];
    this.remote = new MediaStream([...others, track]);
    if (track.kind === 'video') {
      track.enabled = !this.state.audioOnly;
      const update = () => {
        if (!this.remote?.getVideoTracks().includes(track)) return;
        this.remoteVideo = track.readyState === 'live' && !track.muted;
        this.publish();
      };
      track.addEventListener('unmute', update);
      track.addEventListener('mute', update);
      track.addEventListener('ended', update);
      this.remoteVideo = track.readyState === 'live' && !track.muted;
    }
    this.publish();
  }

  private closePeer(): void {
    this.clearRecovery();
    this.generation += 1;
    const pc = this.pc;
    this.pc = null;
    this.audioSender = this.videoSender = null;
    this.offerSent = false;
    this.pendingIce = [];
    if (pc) {
      pc.ontrack = pc.onicecandidate = pc.onconnectionstatechange = null;
      try {
        pc.close();
      } catch {
        // closed already
      }
    }
    if (this.remote || this.remoteVideo) {
      this.remote = null;
      this.remoteVideo = false;
      this.publish();
    }
  }

  /** Everything off. `sayLeave`: tell the server first (the user left, or the page went away). */
  private teardown(sayLeave: boolean): void {
    this.clearReconnect();
    this.pendingAdmits.clear();
    if (sayLeave) this.send({ type: 'leave' });
    this.dropSocket();
    this.closePeer();
  }
}

export interface IceGathering {
  readonly iceGatheringState: RTCIceGatheringState;
  addEventListener(type: 'icegatheringstatechange', listener: () => void): void;
  removeEventListener(type: 'icegatheringstatechange', listener: () => void): void;
}

/** Resolves when ICE gathering is complete, or after `timeoutMs` (whatever was gathered goes). */
export function waitForIceGathering(pc: IceGathering, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}
