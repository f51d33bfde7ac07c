/** sessionStorage / localStorage that never throw (private mode, disabled storage). */
function safe(kind: 'session' | 'local'): Storage | null {
  try {
    return kind === 'session' ? window.sessionStorage : window.localStorage;
  } catch {
    return null;
  }
}

export function readStored(kind: 'session' | 'local', key: string): string | null {
  try {
    return safe(kind)?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

export function writeStored(kind: 'session' | 'local', key: string, value: string | null): void {
  try {
    const storage = safe(kind);
    if (value === null) storage?.removeItem(key);
    else storage?.setItem(key, value);
  } catch {
    // storage full or disabled: the app still works for this page load
  }
}
