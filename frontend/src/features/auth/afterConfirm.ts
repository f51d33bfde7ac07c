import { safeNext } from '../../lib/navigation';
import { readStored, writeStored } from '../../lib/storage';

// Where to go after confirming the email and logging in (e.g. back to a family invitation).
// localStorage, because the confirmation link usually opens in a new tab.
const KEY = 'careconnect.afterConfirm';

export function rememberAfterConfirm(next: string): void {
  writeStored('local', KEY, safeNext(next) === '/' ? null : safeNext(next));
}

export function takeAfterConfirm(): string {
  const value = safeNext(readStored('local', KEY));
  writeStored('local', KEY, null);
  return value;
}
