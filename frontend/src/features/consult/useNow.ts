import { useEffect, useState } from 'react';

/** The time, updated every `everyMs` (for text that depends on the clock). */
export function useNow(everyMs: number): Date {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return new Date(now);
}
