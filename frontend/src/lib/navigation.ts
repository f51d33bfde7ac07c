/** Only same-site paths are allowed as a post-login destination (no open redirects). */
export function safeNext(next: string | null | undefined, fallback = '/'): string {
  if (!next) return fallback;
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  if ([...next].some((c) => c.charCodeAt(0) < 32)) return fallback;
  return next;
}

/** The login URL that brings the user back to `next` afterwards. */
export function loginPath(next: string, base = '/login'): string {
  const target = safeNext(next);
  return target === '/' ? base : `${base}?next=${encodeURIComponent(target)}`;
}
