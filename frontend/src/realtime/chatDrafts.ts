/**
 * Unsent text per conversation, kept in sessionStorage (this tab only, gone when it closes, and
 * cleared at log out by `clearChatStorage`) so a reload or a detour to another page keeps it.
 * Never in the URL: drafts may hold health information.
 */
import { STORAGE_PREFIX, type StorageLike } from './chatSocket';

export const draftsKey = (userId: string) => `${STORAGE_PREFIX}drafts.v1.${userId}`;

function sessionStore(): StorageLike | null {
  try {
    return typeof window === 'undefined' ? null : window.sessionStorage;
  } catch {
    return null;
  }
}

function readAll(userId: string, storage: StorageLike | null): Record<string, string> {
  try {
    const raw = storage?.getItem(draftsKey(userId));
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
  } catch {
    return {};
  }
}

export function loadDraft(
  userId: string,
  conversationId: string,
  storage: StorageLike | null = sessionStore(),
): string {
  return readAll(userId, storage)[conversationId] ?? '';
}

export function saveDraft(
  userId: string,
  conversationId: string,
  text: string,
  storage: StorageLike | null = sessionStore(),
): void {
  if (!storage) return;
  const drafts = readAll(userId, storage);
  if (text) drafts[conversationId] = text;
  else delete drafts[conversationId];
  try {
    if (Object.keys(drafts).length === 0) storage.removeItem(draftsKey(userId));
    else storage.setItem(draftsKey(userId), JSON.stringify(drafts));
  } catch {
    // storage full or disabled: the draft lives as long as the page
  }
}
