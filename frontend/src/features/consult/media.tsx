import { useEffect, useRef, useState } from 'react';
import { Button } from '../../components';
import { audioContextClass, levelOf } from './devices';

/** A <video> showing `stream` (muted: my own camera, never played back to me). */
export function StreamVideo({
  stream,
  label,
  className,
  mirrored = false,
}: {
  stream: MediaStream | null;
  label: string;
  className?: string;
  mirrored?: boolean;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    video.muted = true;
    if (video.srcObject !== stream) video.srcObject = stream;
    if (stream) void video.play().catch(() => undefined);
  }, [stream]);
  return (
    <video
      ref={ref}
      className={[className, mirrored && 'consult-video--mirrored'].filter(Boolean).join(' ')}
      autoPlay
      playsInline
      muted
      aria-label={label}
    />
  );
}

/**
 * The other participant: sound and picture. When the browser refuses to play sound without a
 * click (a reload straight back into the call), it plays muted and offers "Turn on sound".
 */
export function RemoteVideo({
  stream,
  hidden,
  className,
}: {
  stream: MediaStream | null;
  /** Audio only: keep playing (the sound comes through this element) but show nothing. */
  hidden: boolean;
  className?: string;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  const [soundBlocked, setSoundBlocked] = useState(false);

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    if (video.srcObject !== stream) video.srcObject = stream;
    if (!stream) return;
    let stale = false;
    video.play().catch((error: unknown) => {
      if (stale || (error as { name?: string } | null)?.name !== 'NotAllowedError') return;
      video.muted = true;
      setSoundBlocked(true);
      void video.play().catch(() => undefined);
    });
    return () => {
      stale = true;
    };
  }, [stream]);

  const turnOnSound = () => {
    const video = ref.current;
    if (!video) return;
    video.muted = false;
    void video.play().then(
      () => setSoundBlocked(false),
      () => undefined,
    );
  };

  return (
    <>
      <video
        ref={ref}
        className={[className, hidden && 'consult-video--hidden'].filter(Boolean).join(' ')}
        autoPlay
        playsInline
        aria-label="Remote video"
      />
      {soundBlocked && (
        <div className="consult-stage__sound">
          <Button size="small" onClick={turnOnSound}>
            Turn on sound
          </Button>
        </div>
      )}
    </>
  );
}

/** A bar that moves with the microphone's loudness, and whether we heard anything yet. */
export function MicLevel({ stream }: { stream: MediaStream }) {
  const barRef = useRef<HTMLDivElement>(null);
  const meterRef = useRef<HTMLDivElement>(null);
  const [heard, setHeard] = useState(false);

  useEffect(() => {
    const Context = audioContextClass();
    const track = stream.getAudioTracks()[0];
    if (!Context || !track) return;
    const context = new Context();
    const source = context.createMediaStreamSource(new MediaStream([track]));
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    let frame = 0;
    let shown = -1;
    let lastAnnounced = 0;
    let loud = false;
    const tick = (time: number) => {
      analyser.getByteTimeDomainData(samples);
      const level = levelOf(samples);
      // A little smoothing so the bar does not flicker.
      shown = shown < 0 ? level : Math.max(level, shown * 0.85);
      if (barRef.current) barRef.current.style.transform = `scaleX(${shown.toFixed(3)})`;
      if (meterRef.current && time - lastAnnounced > 500) {
        lastAnnounced = time;
        meterRef.current.setAttribute('aria-valuenow', String(Math.round(shown * 100)));
      }
      if (!loud && level > 0.08) {
        loud = true;
        setHeard(true);
      }
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    // An audio context may start suspended until the page was clicked.
    const resume = () => {
      if (context.state === 'suspended') void context.resume().catch(() => undefined);
    };
    resume();
    document.addEventListener('pointerdown', resume);
    document.addEventListener('keydown', resume);
    return () => {
      cancelAnimationFrame(frame);
      document.removeEventListener('pointerdown', resume);
      document.removeEventListener('keydown', resume);
      source.disconnect();
      void context.close().catch(() => undefined);
    };
  }, [stream]);

  return (
    <div className="stack-sm">
      <div
        ref={meterRef}
        className="consult-meter"
        role="meter"
        aria-label="Microphone level"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={0}
      >
        <div ref={barRef} className="consult-meter__bar" />
      </div>
      <p className="small muted" role="status">
        {heard ? 'We can hear you.' : 'Say something: the bar should move.'}
      </p>
    </div>
  );
}
