/**
 * The consult signaling protocol (`/ws/consult/{id}/`), as plain data: what the browser sends,
 * and a strict reader for what the server sends (anything malformed is ignored, never thrown).
 */
import type { ConsultPerson } from './types';

export interface IceCandidateInit {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

export type ClientMessage =
  | { type: 'join' }
  | { type: 'admit'; user: string }
  | { type: 'offer'; sdp: string }
  | { type: 'ice'; candidate: IceCandidateInit }
  | { type: 'leave' }
  | { type: 'end' };

export type QualityLevel = 'ok' | 'poor';

export interface SignalError {
  code: string;
  message: string;
}

export type ServerMessage =
  /** The patient (or family member) is in the waiting room. */
  | { type: 'waiting' }
  /** In: create the peer connection and send an offer. `waiting` may come with it (doctor). */
  | { type: 'admitted'; waiting?: ConsultPerson[] }
  | { type: 'answer'; sdp: string }
  | { type: 'offer'; sdp: string }
  | { type: 'ice'; candidate: IceCandidateInit | null }
  | { type: 'participant.waiting'; user: string; name: string }
  | { type: 'participant.joined'; user: string; name: string | null }
  | { type: 'participant.left'; user: string }
  | { type: 'ended' }
  | { type: 'quality'; level: QualityLevel }
  | { type: 'error'; code: string; message: string };

/** Plain-language messages for the error codes the server sends (its own text wins). */
export const ERROR_TEXT: Record<string, string> = {
  no_capacity: 'No capacity for another call right now; try again shortly.',
  consult_closed: 'This consult is not open now.',
  consult_ended: 'The doctor has ended this consult.',
  not_admitted: 'The doctor has not let you in yet.',
  not_found: 'This consult does not exist, or you are not part of it.',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value ? value : null;
}

/** An id may come as a string or a number. */
function id(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return str(value);
}

/** The SDP as a string: either `"v=0…"` or `{type, sdp}`. */
function sdpOf(value: unknown): string | null {
  if (typeof value === 'string') return value || null;
  if (isRecord(value)) return str(value.sdp);
  return null;
}

function candidateOf(value: unknown): IceCandidateInit | null {
  if (!isRecord(value)) return null;
  const candidate = typeof value.candidate === 'string' ? value.candidate : null;
  if (candidate === null) return null;
  return {
    candidate,
    sdpMid: typeof value.sdpMid === 'string' ? value.sdpMid : null,
    sdpMLineIndex: typeof value.sdpMLineIndex === 'number' ? value.sdpMLineIndex : null,
  };
}

export function peopleOf(value: unknown): ConsultPerson[] {
  if (!Array.isArray(value)) return [];
  const out: ConsultPerson[] = [];
  for (const item of value) {
    if (!isRecord(item)) continue;
    const user = id(item.user);
    if (!user) continue;
    const role = str(item.role);
    out.push({ user, name: str(item.name) ?? 'Someone', ...(role ? { role } : {}) });
  }
  return out;
}

/** One frame from the server, or null when it is not one we understand. */
export function parseServerMessage(raw: unknown): ServerMessage | null {
  let data: unknown = raw;
  if (typeof raw === 'string') {
    try {
      data = JSON.parse(raw) as unknown;
    } catch {
      return null;
    }
  }
  if (!isRecord(data)) return null;
  switch (data.type) {
    case 'waiting':
      return { type: 'waiting' };
    case 'admitted':
      return Array.isArray(data.waiting)
        ? { type: 'admitted', waiting: peopleOf(data.waiting) }
        : { type: 'admitted' };
    case 'answer':
    case 'offer': {
      const sdp = sdpOf(data.sdp);
      return sdp ? { type: data.type, sdp } : null;
    }
    case 'ice':
      // A null candidate is the end of the server's candidates.
      if (data.candidate === null || data.candidate === undefined) {
        return { type: 'ice', candidate: null };
      }
      {
        const candidate = candidateOf(data.candidate);
        return candidate ? { type: 'ice', candidate } : null;
      }
    case 'participant.waiting': {
      const user = id(data.user);
      return user ? { type: 'participant.waiting', user, name: str(data.name) ?? 'Someone' } : null;
    }
    case 'participant.joined': {
      const user = id(data.user);
      return user ? { type: 'participant.joined', user, name: str(data.name) } : null;
    }
    case 'participant.left': {
      const user = id(data.user);
      return user ? { type: 'participant.left', user } : null;
    }
    case 'ended':
      return { type: 'ended' };
    case 'quality':
      return data.level === 'poor' || data.level === 'ok'
        ? { type: 'quality', level: data.level }
        : null;
    case 'error': {
      const code = str(data.code) ?? 'error';
      return {
        type: 'error',
        code,
        message: str(data.message) ?? ERROR_TEXT[code] ?? 'Something went wrong with the call.',
      };
    }
    default:
      return null;
  }
}

export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}

/** `ws(s)://<host>/ws/consult/<id>/` for the page's origin. */
export function consultSocketUrl(consultId: string, location: { protocol: string; host: string }) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws/consult/${encodeURIComponent(consultId)}/`;
}
