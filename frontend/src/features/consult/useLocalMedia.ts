import { useCallback, useEffect, useState } from 'react';
import { acquireMedia, stopStream, type DeviceResult } from './devices';

/**
 * The camera and microphone for the consult page: asked for on arrival (at the size the server
 * wants), released when the page goes. `retry` asks again (after the user allowed them).
 */
export function useLocalMedia(video: { width: number; height: number }) {
  const [result, setResult] = useState<DeviceResult | null>(null);
  const [attempt, setAttempt] = useState(0);
  const { width, height } = video;

  useEffect(() => {
    let cancelled = false;
    let stream: MediaStream | null = null;
    void acquireMedia({ width, height }).then((got) => {
      if (cancelled) {
        stopStream(got.stream);
        return;
      }
      stream = got.stream;
      setResult(got);
    });
    return () => {
      cancelled = true;
      stopStream(stream);
    };
  }, [width, height, attempt]);

  const retry = useCallback(() => {
    setResult(null);
    setAttempt((n) => n + 1);
  }, []);

  return { result, retry };
}
