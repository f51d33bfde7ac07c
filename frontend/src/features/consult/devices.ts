/**
 * Camera and microphone: getting them, and what to tell people when it fails. The advice and
 * classification are pure; `acquireMedia` and the tone use the browser.
 */

export type DeviceKind = 'camera' | 'microphone';

export type DeviceProblem =
  /** The browser or the user refused (permission prompt, site settings, policy). */
  | 'blocked'
  /** No such device. */
  | 'missing'
  /** Another app (or tab) is using it, or the system refused. */
  | 'busy'
  /** No camera/microphone API at all: an old browser, or the page is not on https. */
  | 'unsupported'
  | 'error';

export interface DeviceResult {
  stream: MediaStream | null;
  camera: DeviceProblem | null;
  microphone: DeviceProblem | null;
}

/** What a getUserMedia failure means. */
export function classifyMediaError(error: unknown): DeviceProblem {
  const name =
    typeof error === 'object' && error !== null && 'name' in error
      ? String((error as { name: unknown }).name)
      : '';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return 'blocked';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'busy';
    case 'TypeError':
      return 'unsupported';
    default:
      return 'error';
  }
}

export type BrowserName = 'chrome' | 'edge' | 'firefox' | 'safari' | 'other';

export function browserOf(userAgent: string): BrowserName {
  if (/Edg\//.test(userAgent)) return 'edge';
  if (/Firefox\//.test(userAgent)) return 'firefox';
  if (/Chrome\/|CriOS\//.test(userAgent)) return 'chrome';
  if (/Safari\//.test(userAgent)) return 'safari';
  return 'other';
}

const ALLOW_STEPS: Record<BrowserName, (what: string) => string> = {
  chrome: (what) =>
    `In Chrome, click the camera icon (or the icon left of the address) in the address bar, choose "Always allow" for your ${what}, then reload this page.`,
  edge: (what) =>
    `In Edge, click the lock icon left of the address, set ${what} to "Allow", then reload this page.`,
  firefox: (what) =>
    `In Firefox, click the crossed-out icon left of the address, remove the block on your ${what}, then reload this page.`,
  safari: (what) =>
    `In Safari, open Safari > Settings for This Website (or Settings > Websites), set ${what} to "Allow", then reload this page.`,
  other: (what) =>
    `Open your browser's site settings for this page, allow the ${what}, then reload this page.`,
};

/** Plain-language advice for a device that did not work. */
export function deviceAdvice(kind: DeviceKind, problem: DeviceProblem, browser: BrowserName) {
  const what = kind === 'camera' ? 'camera' : 'microphone';
  switch (problem) {
    case 'blocked':
      return {
        title: `Your ${what} is blocked`,
        text: `${ALLOW_STEPS[browser](what)} On a computer, also check that your system's privacy settings let the browser use the ${what}.`,
      };
    case 'missing':
      return {
        title: `No ${what} found`,
        text:
          kind === 'camera'
            ? 'Plug in a camera or use a device that has one. You can still join with sound only.'
            : 'Plug in a headset or microphone, then reload this page. Without one, the doctor cannot hear you (you can still write in the chat).',
      };
    case 'busy':
      return {
        title: `Your ${what} is in use`,
        text: `Close other apps or tabs that may be using the ${what} (video calls, recording apps), then reload this page.`,
      };
    case 'unsupported':
      return {
        title: 'This browser cannot make video calls',
        text: 'Use a recent version of Chrome, Edge, Firefox or Safari, and open CareConnect over a secure (https) address.',
      };
    default:
      return {
        title: `Your ${what} did not start`,
        text: `Reload the page and try again. If it keeps happening, restart the browser.`,
      };
  }
}

/** Advice when the connection test failed. */
export function connectionAdvice(online: boolean): { title: string; text: string } {
  return online
    ? {
        title: 'We could not reach the call service',
        text: 'Check your internet connection. A work network, VPN or firewall may block video calls: try another network (for example your phone’s hotspot).',
      }
    : {
        title: 'You are offline',
        text: 'Connect to Wi-Fi or mobile data. The page checks again when you are back online.',
      };
}

// ------------------------------------------------------------------ the browser

function getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream> {
  const media = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
  if (!media || typeof media.getUserMedia !== 'function') {
    return Promise.reject(new TypeError('getUserMedia is not available'));
  }
  return media.getUserMedia(constraints);
}

/**
 * Camera and microphone together; when that fails, each alone, so one blocked device does not
 * cost the other.
 */
export async function acquireMedia(video: {
  width: number;
  height: number;
}): Promise<DeviceResult> {
  const videoConstraints: MediaTrackConstraints = {
    width: { ideal: video.width },
    height: { ideal: video.height },
  };
  const audioConstraints: MediaTrackConstraints = {
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
  };
  try {
    const stream = await getUserMedia({ audio: audioConstraints, video: videoConstraints });
    return { stream, camera: null, microphone: null };
  } catch (both) {
    if (classifyMediaError(both) === 'unsupported') {
      return { stream: null, camera: 'unsupported', microphone: 'unsupported' };
    }
  }
  const tracks: MediaStreamTrack[] = [];
  let microphone: DeviceProblem | null = null;
  let camera: DeviceProblem | null = null;
  try {
    tracks.push(...(await getUserMedia({ audio: audioConstraints })).getTracks());
  } catch (error) {
    microphone = classifyMediaError(error);
  }
  try {
    tracks.push(...(await getUserMedia({ video: videoConstraints })).getTracks());
  } catch (error) {
    camera = classifyMediaError(error);
  }
  return { stream: tracks.length ? new MediaStream(tracks) : null, camera, microphone };
}

export function stopStream(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

type AudioContextClass = typeof AudioContext;

export function audioContextClass(): AudioContextClass | null {
  if (typeof window === 'undefined') return null;
  const w = window as unknown as {
    AudioContext?: AudioContextClass;
    webkitAudioContext?: AudioContextClass;
  };
  return w.AudioContext ?? w.webkitAudioContext ?? null;
}

/** A short two-note chime through the speakers; resolves when it has played. */
export async function playTestTone(): Promise<void> {
  const Context = audioContextClass();
  if (!Context) throw new TypeError('Web Audio is not available');
  const context = new Context();
  try {
    if (context.state === 'suspended') await context.resume();
    const gain = context.createGain();
    gain.connect(context.destination);
    const at = context.currentTime;
    gain.gain.setValueAtTime(0.0001, at);
    for (const [index, frequency] of [660, 880].entries()) {
      const start = at + index * 0.45;
      const oscillator = context.createOscillator();
      oscillator.type = 'sine';
      oscillator.frequency.value = frequency;
      oscillator.connect(gain);
      gain.gain.exponentialRampToValueAtTime(0.3, start + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.4);
      oscillator.start(start);
      oscillator.stop(start + 0.42);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  } finally {
    void context.close();
  }
}

/** 0..1 loudness of a block of time-domain samples (RMS, scaled so speech fills the bar). */
export function levelOf(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i += 1) {
    const value = ((samples[i] ?? 128) - 128) / 128;
    sum += value * value;
  }
  const rms = Math.sqrt(sum / samples.length);
  return Math.min(1, rms * 4);
}
