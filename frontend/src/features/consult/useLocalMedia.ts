import { useCallback, useEffect, useState } from 'react';
import { acquireMedia, stopStream, type DeviceResult } from './devices';

/**
 * The camera and microphone for the consult page: asked for on arrival (at the size the server
 * wants), released when the page goes or once `wanted` turns false (the consult ended: the
 * camera light goes off at once). `retry` asks again (after the user allowed them).
 */
export function useLocalMedia(video: { width: number; height: number }, wanted = true) {
  const [result, setResult] = useState<DeviceResult | null>(null);
  const [attempt, setAttempt] = useState(0);
  const { width, height } = video;

  useEffect(() => {
    if (!wanted) return;
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
  }, [width, height, attempt, wanted]);

  const retry = useCallback(() => {
    setResult(null);
    setAttempt((n) => n + 1);
  }, []);

  return { result, retry };
}
