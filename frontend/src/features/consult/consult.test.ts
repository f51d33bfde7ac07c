import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SocketLike } from '../../realtime/chatSocket';
import {
  callReducer,
  connectionText,
  controlLabels,
  initialCallState,
  reconnectDelay,
  stageOverlay,
  type CallEvent,
  type CallState,
} from './callState';
import { ConsultCall, waitForIceGathering } from './ConsultCall';
import { browserOf, classifyMediaError, deviceAdvice, levelOf } from './devices';
import {
  formatDuration,
  inviteTitle,
  joinBlocker,
  opensText,
  showJoinLink,
  summaryTitle,
  waitingAppointments,
  waitingNow,
} from './format';
import { consultSocketUrl, parseServerMessage, type ServerMessage } from './signal';

const run = (events: CallEvent[], from: CallState = initialCallState) =>
  events.reduce(callReducer, from);
const server = (message: ServerMessage): CallEvent => ({ type: 'server', message });

// ------------------------------------------------------------------ signal parsing

describe('parseServerMessage', () => {
  it('reads every server frame of the protocol', () => {
    expect(parseServerMessage('{"type":"waiting"}')).toEqual({ type: 'waiting' });
    expect(parseServerMessage({ type: 'admitted' })).toEqual({ type: 'admitted' });
    expect(
      parseServerMessage({
        type: 'admitted',
        waiting: [{ user: 7, name: 'Ann', role: 'patient' }],
      }),
    ).toEqual({ type: 'admitted', waiting: [{ user: '7', name: 'Ann', role: 'patient' }] });
    expect(parseServerMessage({ type: 'answer', sdp: 'v=0\r\n' })).toEqual({
      type: 'answer',
      sdp: 'v=0\r\n',
    });
    // An RTCSessionDescriptionInit-shaped sdp is accepted too.
    expect(parseServerMessage({ type: 'answer', sdp: { type: 'answer', sdp: 'v=0' } })).toEqual({
      type: 'answer',
      sdp: 'v=0',
    });
    expect(
      parseServerMessage({
        type: 'ice',
        candidate: {
          candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host',
          sdpMid: '0',
          sdpMLineIndex: 0,
        },
      }),
    ).toEqual({
      type: 'ice',
      candidate: {
        candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
      },
    });
    expect(parseServerMessage({ type: 'ice', candidate: null })).toEqual({
      type: 'ice',
      candidate: null,
    });
    expect(parseServerMessage({ type: 'participant.waiting', user: 'u1', name: 'Ann' })).toEqual({
      type: 'participant.waiting',
      user: 'u1',
      name: 'Ann',
    });
    expect(parseServerMessage({ type: 'participant.joined', user: 'u1' })).toEqual({
      type: 'participant.joined',
      user: 'u1',
      name: null,
    });
    expect(parseServerMessage({ type: 'participant.left', user: 'u1' })).toEqual({
      type: 'participant.left',
      user: 'u1',
    });
    expect(parseServerMessage({ type: 'ended' })).toEqual({ type: 'ended' });
    expect(parseServerMessage({ type: 'quality', level: 'poor' })).toEqual({
      type: 'quality',
      level: 'poor',
    });
  });

  it('fills in the message of a known error code', () => {
    expect(parseServerMessage({ type: 'error', code: 'no_capacity' })).toEqual({
      type: 'error',
      code: 'no_capacity',
      message: 'No capacity for another call right now; try again shortly.',
    });
    expect(parseServerMessage({ type: 'error', code: 'x', message: 'Nope' })).toEqual({
      type: 'error',
      code: 'x',
      message: 'Nope',
    });
  });

  it('ignores what it does not understand', () => {
    expect(parseServerMessage('not json')).toBeNull();
    expect(parseServerMessage('[1,2]')).toBeNull();
    expect(parseServerMessage({ type: 'party' })).toBeNull();
    expect(parseServerMessage({ type: 'answer' })).toBeNull();
    expect(parseServerMessage({ type: 'quality', level: 'great' })).toBeNull();
    expect(parseServerMessage({ type: 'participant.left' })).toBeNull();
    expect(parseServerMessage({ type: 'ice', candidate: { sdpMid: '0' } })).toBeNull();
  });

  it('builds the socket URL for the page origin', () => {
    expect(consultSocketUrl('abc', { protocol: 'https:', host: 'care.example' })).toBe(
      'wss://care.example/ws/consult/abc/',
    );
    expect(consultSocketUrl('abc', { protocol: 'http:', host: 'localhost:5173' })).toBe(
      'ws://localhost:5173/ws/consult/abc/',
    );
  });
});

// ------------------------------------------------------------------ the state machine

describe('callReducer', () => {
  it('goes device-check → joining → waiting → in-call → ended for a patient', () => {
    let state = callReducer(initialCallState, { type: 'join' });
    expect(state.phase).toBe('joining');
    expect(state.link).toBe('connecting');
    state = callReducer(state, { type: 'link', status: 'open' });
    state = callReducer(state, server({ type: 'waiting' }));
    expect(state.phase).toBe('waiting');
    state = callReducer(state, server({ type: 'admitted' }));
    expect(state.phase).toBe('in-call');
    expect(state.media).toBe('negotiating');
    state = callReducer(state, { type: 'media', status: 'connected' });
    expect(state.media).toBe('connected');
    state = callReducer(state, server({ type: 'ended' }));
    expect(state.phase).toBe('ended');
    // Final: nothing brings it back.
    expect(callReducer(state, { type: 'join' }).phase).toBe('ended');
    expect(callReducer(state, server({ type: 'admitted' })).phase).toBe('ended');
  });

  it('lets the doctor straight in and keeps the waiting room', () => {
    const state = run([
      { type: 'join' },
      server({ type: 'admitted', waiting: [{ user: 'p', name: 'Pat' }] }),
      server({ type: 'participant.waiting', user: 'q', name: 'Quinn' }),
      server({ type: 'participant.waiting', user: 'q', name: 'Quinn' }),
    ]);
    expect(state.phase).toBe('in-call');
    expect(state.waiting.map((p) => p.user)).toEqual(['p', 'q']);

    const admitted = run(
      [{ type: 'admit', user: 'p' }, server({ type: 'participant.joined', user: 'p', name: null })],
      state,
    );
    expect(admitted.waiting.map((p) => p.user)).toEqual(['q']);
    expect(admitted.admitting).toEqual([]);
    expect(admitted.others).toEqual([{ user: 'p', name: 'Pat' }]); // the name from the waiting room

    const left = callReducer(admitted, server({ type: 'participant.left', user: 'p' }));
    expect(left.others).toEqual([]);
    expect(left.phase).toBe('in-call');
  });

  it('ignores server frames before joining and after leaving', () => {
    expect(callReducer(initialCallState, server({ type: 'admitted' })).phase).toBe('device-check');
    const left = run([{ type: 'join' }, server({ type: 'admitted' }), { type: 'leave' }]);
    expect(left.phase).toBe('device-check');
    expect(left.left).toBe(true);
    expect(callReducer(left, server({ type: 'admitted' })).phase).toBe('device-check');
    // "Rejoin"
    const again = callReducer(left, { type: 'join' });
    expect(again.phase).toBe('joining');
    expect(again.left).toBe(false);
  });

  it('stays in the call while the socket reconnects, counting attempts', () => {
    let state = run([{ type: 'join' }, server({ type: 'admitted' })]);
    state = run(
      [
        { type: 'link', status: 'reconnecting' },
        { type: 'link', status: 'connecting' },
        { type: 'link', status: 'reconnecting' },
      ],
      state,
    );
    expect(state.phase).toBe('in-call');
    expect(state.attempt).toBe(2);
    expect(connectionText(state)).toBe('Reconnecting…');
    state = callReducer(state, server({ type: 'admitted' })); // straight back in
    expect(state.attempt).toBe(0);
    expect(state.media).toBe('negotiating');
  });

  it('goes back to the device check on a final error, to ended on consult_ended', () => {
    const inCall = run([{ type: 'join' }, server({ type: 'admitted' })]);
    const busy = callReducer(
      inCall,
      server({ type: 'error', code: 'no_capacity', message: 'No capacity' }),
    );
    expect(busy.phase).toBe('device-check');
    expect(busy.error?.code).toBe('no_capacity');
    expect(busy.left).toBe(false);

    const closed = callReducer(
      run([{ type: 'join' }]),
      server({ type: 'error', code: 'consult_closed', message: 'Closed' }),
    );
    expect(closed.phase).toBe('device-check');

    const over = callReducer(
      inCall,
      server({ type: 'error', code: 'consult_ended', message: 'Ended' }),
    );
    expect(over.phase).toBe('ended');

    const notYet = callReducer(
      inCall,
      server({ type: 'error', code: 'not_admitted', message: 'Wait' }),
    );
    expect(notYet.phase).toBe('waiting');

    const other = callReducer(inCall, server({ type: 'error', code: 'invalid', message: 'Hm' }));
    expect(other.phase).toBe('in-call');
    expect(other.error?.message).toBe('Hm');
  });

  it('tracks quality and the media toggles', () => {
    let state = run([{ type: 'join' }, server({ type: 'admitted' })]);
    state = callReducer(state, server({ type: 'quality', level: 'poor' }));
    expect(state.quality).toBe('poor');
    state = run(
      [
        { type: 'mute', muted: true },
        { type: 'camera', off: true },
        { type: 'audio-only', on: true },
      ],
      state,
    );
    expect(controlLabels(state)).toEqual({
      mute: 'Unmute',
      camera: 'Turn camera on',
      audioOnly: 'Switch back to video',
    });
    expect(controlLabels(initialCallState)).toEqual({
      mute: 'Mute',
      camera: 'Turn camera off',
      audioOnly: 'Switch to audio only',
    });
  });

  it('takes the REST waiting room only until the socket is open', () => {
    const synced = callReducer(initialCallState, {
      type: 'sync',
      waiting: [{ user: 'p', name: 'Pat' }],
    });
    expect(synced.waiting).toHaveLength(1);
    const open = run([{ type: 'join' }, { type: 'link', status: 'open' }]);
    expect(callReducer(open, { type: 'sync', waiting: [] })).toBe(open);
  });
});

// ------------------------------------------------------------------ timing and text

describe('reconnectDelay', () => {
  it('doubles from 0.5 s up to 10 s, with half of it random', () => {
    expect(reconnectDelay(0, () => 0)).toBe(250);
    expect(reconnectDelay(0, () => 1)).toBe(500);
    expect(reconnectDelay(1, () => 0)).toBe(500);
    expect(reconnectDelay(3, () => 1)).toBe(4000);
    expect(reconnectDelay(5, () => 1)).toBe(10_000); // capped
    expect(reconnectDelay(50, () => 0)).toBe(5_000);
    expect(reconnectDelay(-1, () => 0)).toBe(250);
  });
});

describe('consult text', () => {
  const zone = 'Europe/Lisbon';
  const now = new Date('2026-03-12T10:05:00Z'); // 10:05 in Lisbon (WET)

  it('formats durations', () => {
    expect(formatDuration(720)).toBe('12 min');
    expect(formatDuration(749)).toBe('12 min');
    expect(formatDuration(59)).toBe('under a minute');
    expect(formatDuration(3600)).toBe('1 h');
    expect(formatDuration(3900)).toBe('1 h 5 min');
  });

  it('says when the consult opens', () => {
    expect(opensText('2026-03-12T10:20:00Z', zone, now)).toBe('Opens at 10:20');
    expect(opensText('2026-03-13T08:50:00Z', zone, now)).toBe('Opens on Fri 13 Mar at 08:50');
  });

  it('gives the reason Join is disabled', () => {
    const consult = {
      joinable: false,
      status: 'not_started' as const,
      opens_at: '2026-03-12T10:20:00Z',
      closes_at: '2026-03-12T11:00:00Z',
    };
    expect(joinBlocker(consult, zone, now)).toBe('Opens at 10:20');
    expect(joinBlocker({ ...consult, joinable: true }, zone, now)).toBeNull();
    expect(joinBlocker({ ...consult, status: 'ended' }, zone, now)).toBe('The consult has ended');
    expect(joinBlocker(consult, zone, new Date('2026-03-12T11:30:00Z'))).toBe('Closed at 11:00');
    expect(joinBlocker(consult, zone, new Date('2026-03-12T10:30:00Z'))).toBe(
      'This appointment is not confirmed',
    );
  });

  it('shows the join link for live online appointments until the window closes', () => {
    const appointment = { consult: 'c1', status: 'confirmed', end: '2026-03-12T10:30:00Z' };
    expect(showJoinLink(appointment, now)).toBe(true);
    expect(showJoinLink(appointment, new Date('2026-03-12T11:00:00Z'))).toBe(true);
    expect(showJoinLink(appointment, new Date('2026-03-12T11:00:01Z'))).toBe(false);
    expect(showJoinLink({ ...appointment, consult: null }, now)).toBe(false);
    expect(showJoinLink({ ...appointment, status: 'cancelled' }, now)).toBe(false);
    expect(showJoinLink({ ...appointment, status: 'completed' }, now)).toBe(true);
  });

  it('titles the chat cards', () => {
    expect(inviteTitle('Dr Lee', '2026-03-12T10:30:00Z', zone)).toBe(
      'Video consult with Dr Lee at 10:30',
    );
    expect(inviteTitle(null, null, zone)).toBe('Video consult');
    expect(summaryTitle(720, 'Dr Lee')).toBe('Consult ended · 12 min · with Dr Lee');
    expect(summaryTitle(null, null)).toBe('Consult ended');
  });
});

describe('the stage overlay', () => {
  const alone = { audioOnly: false, others: [] };
  const withAnn = { audioOnly: false, others: [{ user: 'u1', name: 'Ann Lee' }] };

  it('says who is awaited while nobody else is in the call, even over black frames', () => {
    expect(stageOverlay(alone, true, 'Ann Lee', true)).toBe(
      'Waiting for Ann Lee to join. Let them in when they are waiting.',
    );
    expect(stageOverlay(alone, false, 'Dr Lee', false)).toBe('Waiting for Dr Lee…');
  });

  it('shows the picture once the other is in and their video arrives', () => {
    expect(stageOverlay(withAnn, false, 'Ann', true)).toBe("Ann Lee's video will appear here.");
    expect(stageOverlay(withAnn, true, 'Ann', true)).toBeNull();
    expect(stageOverlay({ ...withAnn, audioOnly: true }, true, 'Ann', true)).toBe(
      'Audio only. You can still hear Ann.',
    );
  });
});

describe('waiting now (the doctor week)', () => {
  const entry = (consult: string, user: string, since: string, name = 'Ann') => ({
    consult,
    appointment: consult,
    user,
    name,
    since,
  });

  it('lists each person once, whoever has waited longest first', () => {
    const list = waitingNow([
      entry('c2', 'u2', '2026-03-12T10:04:00Z', 'Bo'),
      entry('c1', 'u1', '2026-03-12T10:01:00Z', 'Ann'),
      entry('c2', 'u2', '2026-03-12T10:04:00Z', 'Bo'),
      entry('c2', 'u3', 'not a date', 'Cy'),
      entry('c2', 'u4', '2026-03-12T10:02:00Z', 'Di'),
    ]);
    expect(list.map((e) => e.name)).toEqual(['Ann', 'Di', 'Bo', 'Cy']);
  });

  it('marks the appointments someone waits in', () => {
    const waiting = waitingAppointments([
      entry('c1', 'u1', '2026-03-12T10:01:00Z'),
      entry('c1', 'u2', '2026-03-12T10:02:00Z'),
    ]);
    expect([...waiting]).toEqual(['c1']);
    expect(waitingAppointments([]).size).toBe(0);
  });
});

describe('devices', () => {
  it('classifies getUserMedia failures', () => {
    expect(classifyMediaError({ name: 'NotAllowedError' })).toBe('blocked');
    expect(classifyMediaError({ name: 'NotFoundError' })).toBe('missing');
    expect(classifyMediaError({ name: 'NotReadableError' })).toBe('busy');
    expect(classifyMediaError(new TypeError('no API'))).toBe('unsupported');
    expect(classifyMediaError('weird')).toBe('error');
  });

  it('tells how to allow a blocked camera in the browser at hand', () => {
    const chrome =
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
    expect(browserOf(chrome)).toBe('chrome');
    expect(browserOf(`${chrome} Edg/130.0`)).toBe('edge');
    expect(browserOf('Mozilla/5.0 (X11; rv:131.0) Gecko/20100101 Firefox/131.0')).toBe('firefox');
    expect(
      browserOf('Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/18.0 Safari/605.1.15'),
    ).toBe('safari');
    const advice = deviceAdvice('camera', 'blocked', 'chrome');
    expect(advice.title).toBe('Your camera is blocked');
    expect(advice.text).toContain('Always allow');
    expect(deviceAdvice('microphone', 'missing', 'other').title).toBe('No microphone found');
  });

  it('measures the microphone level', () => {
    expect(levelOf(new Uint8Array(64).fill(128))).toBe(0);
    const loud = Uint8Array.from({ length: 64 }, (_, i) => (i % 2 ? 200 : 56));
    expect(levelOf(loud)).toBe(1);
  });
});

// ------------------------------------------------------------------ the call, with fakes

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  sent: unknown[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

class FakePeer {
  iceGatheringState: RTCIceGatheringState = 'new';
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  transceivers: { kind: string; direction: string }[] = [];
  candidates: unknown[] = [];
  closed = false;
  ontrack: ((event: unknown) => void) | null = null;
  onicecandidate: ((event: unknown) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  private listeners = new Set<() => void>();
  constructor(readonly config: RTCConfiguration) {}
  addTransceiver(kind: string, init: { direction: string }) {
    this.transceivers.push({ kind, direction: init.direction });
    return { sender: { replaceTrack: () => Promise.resolve() } };
  }
  async createOffer() {
    return { type: 'offer' as const, sdp: 'v=0 offer' };
  }
  async setLocalDescription(description: RTCSessionDescriptionInit) {
    this.localDescription = description;
    this.signalingState = 'have-local-offer';
    this.iceGatheringState = 'gathering';
  }
  async setRemoteDescription(description: RTCSessionDescriptionInit) {
    this.remoteDescription = description;
    this.signalingState = 'stable';
  }
  async addIceCandidate(candidate: unknown) {
    this.candidates.push(candidate);
  }
  addEventListener(_type: string, listener: () => void) {
    this.listeners.add(listener);
  }
  removeEventListener(_type: string, listener: () => void) {
    this.listeners.delete(listener);
  }
  finishGathering() {
    this.iceGatheringState = 'complete';
    this.localDescription = { type: 'offer', sdp: 'v=0 offer with candidates' };
    for (const listener of [...this.listeners]) listener();
  }
  close() {
    this.closed = true;
  }
}

describe('ConsultCall', () => {
  let sockets: FakeSocket[];
  let peers: FakePeer[];
  let call: ConsultCall;

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    peers = [];
    call = new ConsultCall({
      consultId: 'c1',
      userId: 'me',
      iceServers: [{ urls: 'stun:stun.example' }],
      url: 'ws://test/ws/consult/c1/',
      storage: null,
      random: () => 1,
      createSocket: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket;
      },
      createPeer: (config) => {
        const peer = new FakePeer(config);
        peers.push(peer);
        return peer as unknown as RTCPeerConnection;
      },
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  const last = <T>(list: T[]): T => list[list.length - 1]!;

  it('joins, waits, and offers once admitted (after ICE gathering)', async () => {
    call.join();
    expect(call.getSnapshot().state.phase).toBe('joining');
    last(sockets).open();
    expect(last(sockets).sent).toEqual([{ type: 'join' }]);

    last(sockets).receive({ type: 'waiting' });
    expect(call.getSnapshot().state.phase).toBe('waiting');
    expect(peers).toHaveLength(0);

    last(sockets).receive({ type: 'admitted' });
    expect(call.getSnapshot().state.phase).toBe('in-call');
    expect(peers).toHaveLength(1);
    const peer = last(peers);
    expect(peer.config.iceServers).toEqual([{ urls: 'stun:stun.example' }]);
    expect(peer.transceivers).toEqual([
      { kind: 'audio', direction: 'sendrecv' },
      { kind: 'video', direction: 'sendrecv' },
    ]);
    await vi.advanceTimersByTimeAsync(0);
    expect(last(sockets).sent).toHaveLength(1); // still gathering
    peer.finishGathering();
    await vi.advanceTimersByTimeAsync(0);
    expect(last(sockets).sent[1]).toEqual({ type: 'offer', sdp: 'v=0 offer with candidates' });

    // Candidates before the answer wait for it.
    last(sockets).receive({
      type: 'ice',
      candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 },
    });
    expect(peer.candidates).toEqual([]);
    last(sockets).receive({ type: 'answer', sdp: 'v=0 answer' });
    await vi.advanceTimersByTimeAsync(0);
    expect(peer.remoteDescription).toEqual({ type: 'answer', sdp: 'v=0 answer' });
    expect(peer.candidates).toHaveLength(1);
  });

  it('sends the offer anyway when ICE gathering times out', async () => {
    call.join();
    last(sockets).open();
    last(sockets).receive({ type: 'admitted' });
    await vi.advanceTimersByTimeAsync(2_999);
    expect(last(sockets).sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(last(sockets).sent[1]).toEqual({ type: 'offer', sdp: 'v=0 offer' });
  });

  it('reconnects with backoff after a drop, joins again and offers on a new connection', async () => {
    call.join();
    const first = last(sockets);
    first.open();
    first.receive({ type: 'admitted' });
    const firstPeer = last(peers);
    first.drop();
    expect(call.getSnapshot().state.phase).toBe('in-call');
    expect(call.getSnapshot().state.link).toBe('reconnecting');
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(499);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // attempt 0 with random() = 1: 500 ms
    expect(sockets).toHaveLength(2);
    const second = last(sockets);
    second.drop();
    await vi.advanceTimersByTimeAsync(999);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1); // attempt 1: 1 s
    const third = last(sockets);
    third.open();
    expect(third.sent).toEqual([{ type: 'join' }]);
    third.receive({ type: 'admitted' });
    expect(firstPeer.closed).toBe(true);
    expect(peers).toHaveLength(2);
    expect(call.getSnapshot().state.attempt).toBe(0);
  });

  it('gives up after many failed reconnects in a row', async () => {
    call.join();
    last(sockets).open();
    last(sockets).receive({ type: 'admitted' });
    for (let i = 0; i < 12; i += 1) {
      last(sockets).drop();
      await vi.advanceTimersByTimeAsync(10_000);
    }
    expect(sockets).toHaveLength(13);
    last(sockets).drop();
    expect(call.getSnapshot().state).toMatchObject({
      phase: 'device-check',
      error: { code: 'unreachable' },
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(13);
  });

  it('stops for good on ended, and on a final close code', () => {
    call.join();
    last(sockets).open();
    last(sockets).receive({ type: 'admitted' });
    last(sockets).receive({ type: 'ended' });
    expect(call.getSnapshot().state.phase).toBe('ended');
    expect(last(sockets).closed).toBe(true);
    expect(last(peers).closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('does not retry a refused socket (signed out)', () => {
    call.join();
    last(sockets).drop(4401);
    expect(call.getSnapshot().state.phase).toBe('device-check');
    expect(call.getSnapshot().state.error?.code).toBe('not_authenticated');
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('says leave and closes everything on Leave; Rejoin starts afresh', () => {
    call.join();
    const socket = last(sockets);
    socket.open();
    socket.receive({ type: 'admitted' });
    call.leave();
    expect(socket.sent).toContainEqual({ type: 'leave' });
    expect(socket.closed).toBe(true);
    expect(call.getSnapshot().state).toMatchObject({ phase: 'device-check', left: true });
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    call.join();
    expect(sockets).toHaveLength(2);
  });

  it('lets the doctor admit, ignoring events about myself', () => {
    call.join();
    const socket = last(sockets);
    socket.open();
    socket.receive({ type: 'admitted' });
    socket.receive({ type: 'participant.joined', user: 'me', name: 'Me' });
    socket.receive({ type: 'participant.waiting', user: 'p', name: 'Pat' });
    expect(call.getSnapshot().state.others).toEqual([]);
    call.admit('p');
    expect(socket.sent).toContainEqual({ type: 'admit', user: 'p' });
    expect(call.getSnapshot().state.admitting).toEqual(['p']);
  });

  it('joins first when the doctor admits from the device check', () => {
    call.admit('p');
    expect(call.getSnapshot().state).toMatchObject({ phase: 'joining', admitting: ['p'] });
    const socket = last(sockets);
    socket.open();
    expect(socket.sent).toEqual([{ type: 'join' }]);
    socket.receive({ type: 'admitted' });
    expect(socket.sent).toContainEqual({ type: 'admit', user: 'p' });
  });

  it('waits for ICE gathering or a timeout', async () => {
    const done = vi.fn();
    const peer = new FakePeer({});
    peer.iceGatheringState = 'gathering';
    void waitForIceGathering(peer, 1_000).then(done);
    await vi.advanceTimersByTimeAsync(500);
    expect(done).not.toHaveBeenCalled();
    peer.finishGathering();
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toHaveBeenCalled();
  });
});
