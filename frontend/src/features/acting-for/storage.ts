import { readStored, writeStored } from '../../lib/storage';

const KEY = 'careconnect.actingFor';

export interface StoredActingFor {
  id: string;
  name: string;
}

export function loadActingFor(): StoredActingFor | null {
  const raw = readStored('session', KEY);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<StoredActingFor>;
    return typeof value.id === 'string' && typeof value.name === 'string'
      ? { id: value.id, name: value.name }
      : null;
  } catch {
    return null;
  }
}

export function saveActingFor(value: StoredActingFor | null): void {
  writeStored('session', KEY, value ? JSON.stringify(value) : null);
}

export function clearActingFor(): void {
  saveActingFor(null);
}
