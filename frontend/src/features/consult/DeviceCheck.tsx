import { useEffect, useId, useState, useSyncExternalStore } from 'react';
import { Alert, Button, Spinner } from '../../components';
import {
  browserOf,
  connectionAdvice,
  deviceAdvice,
  playTestTone,
  type DeviceKind,
  type DeviceProblem,
  type DeviceResult,
} from './devices';
import { MicLevel, StreamVideo } from './media';
import { consultSocketUrl } from './signal';

function subscribeOnline(listener: () => void) {
  window.addEventListener('online', listener);
  window.addEventListener('offline', listener);
  return () => {
    window.removeEventListener('online', listener);
    window.removeEventListener('offline', listener);
  };
}

/** What the browser believes about the network (`navigator.onLine`, live). */
export function useOnline(): boolean {
  return useSyncExternalStore(
    subscribeOnline,
    () => navigator.onLine !== false,
    () => true,
  );
}

type ConnectionResult = 'ok' | 'failed';
const PROBE_TIMEOUT_MS = 6_000;

/**
 * Can this browser reach the call service? Opens the consult's websocket and closes it again
 * (nothing is sent) once the consult can be joined; before that, the consult page loading is
 * the proof that CareConnect is reachable.
 */
function useConnectionTest(consultId: string, probe: boolean) {
  const online = useOnline();
  const [attempt, setAttempt] = useState(0);
  const [result, setResult] = useState<{ key: string; value: ConnectionResult } | null>(null);
  const key = `${attempt}:${probe}:${online}`;

  useEffect(() => {
    if (!online || !probe) return;
    let settled = false;
    let socket: WebSocket | null = null;
    const finish = (value: ConnectionResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      setResult({ key, value });
      if (socket) {
        socket.onopen = socket.onclose = socket.onerror = null;
        try {
          socket.close(1000, 'connection test');
        } catch {
          // closed already
        }
      }
    };
    const timer = setTimeout(() => finish('failed'), PROBE_TIMEOUT_MS);
    try {
      socket = new WebSocket(consultSocketUrl(consultId, window.location));
      socket.onopen = () => finish('ok');
      socket.onclose = () => finish('failed');
    } catch {
      finish('failed');
    }
    return () => {
      settled = true;
      clearTimeout(timer);
      if (socket) {
        socket.onopen = socket.onclose = socket.onerror = null;
        try {
          socket.close(1000, 'connection test');
        } catch {
          // closed already
        }
      }
    };
  }, [consultId, probe, online, key]);

  const status: 'offline' | 'checking' | ConnectionResult = !online
    ? 'offline'
    : !probe
      ? 'ok'
      : result?.key === key
        ? result.value
        : 'checking';
  return { status, online, retry: () => setAttempt((n) => n + 1) };
}

function DeviceAdvice({
  kind,
  problem,
  onRetry,
}: {
  kind: DeviceKind;
  problem: DeviceProblem;
  onRetry: () => void;
}) {
  const advice = deviceAdvice(kind, problem, browserOf(navigator.userAgent));
  return (
    <Alert tone="warning" title={advice.title}>
      <p>{advice.text}</p>
      {problem !== 'unsupported' && (
        <Button variant="secondary" size="small" onClick={onRetry}>
          Try again<span className="sr-only"> to use the {kind}</span>
        </Button>
      )}
    </Alert>
  );
}

function SpeakerTest() {
  const [step, setStep] = useState<'idle' | 'playing' | 'asked' | 'yes' | 'no' | 'failed'>('idle');
  const play = () => {
    setStep('playing');
    playTestTone().then(
      () => setStep('asked'),
      () => setStep('failed'),
    );
  };
  return (
    <div className="stack-sm">
      <div className="row" style={{ gap: 'var(--space-2)' }}>
        <Button
          variant="secondary"
          size="small"
          onClick={play}
          loading={step === 'playing'}
          disabled={step === 'playing'}
        >
          {step === 'idle' || step === 'playing' ? 'Play test sound' : 'Play it again'}
        </Button>
      </div>
      {step === 'asked' && (
        <fieldset className="consult-question">
          <legend>Did you hear it?</legend>
          <div className="row" style={{ gap: 'var(--space-2)' }}>
            <Button size="small" variant="secondary" onClick={() => setStep('yes')}>
              Yes, I heard it
            </Button>
            <Button size="small" variant="secondary" onClick={() => setStep('no')}>
              No
            </Button>
          </div>
        </fieldset>
      )}
      {step === 'yes' && (
        <p className="small consult-ok" role="status">
          Your speakers work.
        </p>
      )}
      {step === 'no' && (
        <Alert tone="warning" title="No sound">
          <p>
            Check that the sound is on and turned up (on the computer and on the speakers or
            headphones), and that the right speakers or headphones are chosen in your system’s sound
            settings. Then play it again.
          </p>
        </Alert>
      )}
      {step === 'failed' && (
        <Alert tone="warning" title="The test sound could not play">
          <p>
            This browser could not play sound. Try another browser, or check the sound settings.
          </p>
        </Alert>
      )}
    </div>
  );
}

/**
 * Before joining: camera preview, microphone level, a speaker test and a connection test, each
 * with plain advice when it fails; then "Join consult" (disabled with the reason when it
 * cannot be joined yet).
 */
export function DeviceCheck({
  consultId,
  media,
  onRetryMedia,
  canProbe,
  joinLabel,
  blocker,
  onJoin,
}: {
  consultId: string;
  media: DeviceResult | null;
  onRetryMedia: () => void;
  /** The consult can be joined now: test the call service's connection for real. */
  canProbe: boolean;
  joinLabel: 'Join consult' | 'Rejoin';
  /** Why joining is not possible now ("Opens at 10:20"), or null. */
  blocker: string | null;
  onJoin: () => void;
}) {
  const ids = useId();
  const connection = useConnectionTest(consultId, canProbe);
  const stream = media?.stream ?? null;
  const hasVideo = !!stream?.getVideoTracks().length;
  const hasAudio = !!stream?.getAudioTracks().length;
  const reason =
    blocker ??
    (media === null
      ? 'Checking your camera and microphone…'
      : !connection.online
        ? 'You are offline'
        : null);
  const conn = connectionAdvice(connection.online);

  return (
    <section className="consult-check card" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Check your camera and sound</h2>
      <div className="consult-check__grid">
        <div className="stack-sm">
          <h3 className="consult-check__label">Camera</h3>
          {media === null ? (
            <p className="muted small">
              <Spinner /> Starting your camera… Allow the camera and microphone if your browser
              asks.
            </p>
          ) : hasVideo ? (
            <StreamVideo
              stream={stream}
              label="Camera preview"
              className="consult-preview"
              mirrored
            />
          ) : (
            <DeviceAdvice
              kind="camera"
              problem={media.camera ?? 'missing'}
              onRetry={onRetryMedia}
            />
          )}
        </div>
        <div className="stack">
          <div className="stack-sm">
            <h3 className="consult-check__label">Microphone</h3>
            {media === null ? (
              <p className="muted small">Waiting for the microphone…</p>
            ) : hasAudio && stream ? (
              <MicLevel stream={stream} />
            ) : (
              <DeviceAdvice
                kind="microphone"
                problem={media.microphone ?? 'missing'}
                onRetry={onRetryMedia}
              />
            )}
          </div>
          <div className="stack-sm">
            <h3 className="consult-check__label">Speakers</h3>
            <SpeakerTest />
          </div>
          <div className="stack-sm">
            <h3 className="consult-check__label">Connection</h3>
            {connection.status === 'checking' && (
              <p className="small muted" role="status">
                <Spinner /> Testing the connection…
              </p>
            )}
            {connection.status === 'ok' && (
              <p className="small consult-ok" role="status">
                Connected
                {canProbe
                  ? ''
                  : blocker
                    ? ' to CareConnect. The video connection is tested once the consult opens.'
                    : ' to CareConnect.'}
              </p>
            )}
            {(connection.status === 'failed' || connection.status === 'offline') && (
              <Alert tone="warning" title={conn.title}>
                <p>{conn.text}</p>
                {connection.status === 'failed' && (
                  <Button variant="secondary" size="small" onClick={connection.retry}>
                    Test again
                  </Button>
                )}
              </Alert>
            )}
          </div>
        </div>
      </div>
      <div className="consult-join">
        <Button
          onClick={onJoin}
          disabled={!!reason}
          aria-describedby={reason ? `${ids}-reason` : undefined}
        >
          {joinLabel}
        </Button>
        {reason && (
          <p id={`${ids}-reason`} className="consult-join__reason">
            {reason}
          </p>
        )}
        {!reason && media && !hasVideo && !hasAudio && (
          <p className="small muted">
            Without a camera or microphone you can still see and hear the doctor, and write in the
            chat.
          </p>
        )}
      </div>
    </section>
  );
}
