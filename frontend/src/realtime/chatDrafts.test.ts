import { describe, expect, it } from 'vitest';
import { draftsKey, loadDraft, saveDraft } from './chatDrafts';
import type { StorageLike } from './chatSocket';

function memory(): StorageLike & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

describe('drafts', () => {
  it('keeps one draft per conversation and user, and forgets empty ones', () => {
    const storage = memory();
    saveDraft('u1', 'c1', 'half a thought', storage);
    saveDraft('u1', 'c2', 'another', storage);
    saveDraft('u2', 'c1', 'someone else', storage);
    expect(loadDraft('u1', 'c1', storage)).toBe('half a thought');
    expect(loadDraft('u2', 'c1', storage)).toBe('someone else');
    saveDraft('u1', 'c1', '', storage);
    expect(loadDraft('u1', 'c1', storage)).toBe('');
    saveDraft('u1', 'c2', '', storage);
    expect(storage.data.has(draftsKey('u1'))).toBe(false);
  });

  it('survives broken or missing storage', () => {
    const storage = memory();
    storage.setItem(draftsKey('u1'), '{not json');
    expect(loadDraft('u1', 'c1', storage)).toBe('');
    expect(loadDraft('u1', 'c1', null)).toBe('');
    expect(() => saveDraft('u1', 'c1', 'x', null)).not.toThrow();
  });
});
