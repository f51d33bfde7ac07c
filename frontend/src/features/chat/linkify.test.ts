import { describe, expect, it } from 'vitest';
import { linkify } from './linkify';

describe('linkify', () => {
  it('keeps plain text as one segment', () => {
    expect(linkify('Take it twice a day.')).toEqual([
      { kind: 'text', text: 'Take it twice a day.' },
    ]);
    expect(linkify('')).toEqual([]);
  });

  it('finds http(s) and www links and leaves sentence punctuation outside', () => {
    expect(linkify('See https://example.org/a?b=1, then www.nhs.uk.')).toEqual([
      { kind: 'text', text: 'See ' },
      { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { kind: 'text', text: ', then ' },
      { kind: 'link', text: 'www.nhs.uk', href: 'https://www.nhs.uk/' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('keeps balanced parentheses and drops an unbalanced closer', () => {
    expect(linkify('(https://en.wikipedia.org/wiki/Asthma_(disease))')).toEqual([
      { kind: 'text', text: '(' },
      {
        kind: 'link',
        text: 'https://en.wikipedia.org/wiki/Asthma_(disease)',
        href: 'https://en.wikipedia.org/wiki/Asthma_(disease)',
      },
      { kind: 'text', text: ')' },
    ]);
  });

  it('never turns other schemes or markup into links', () => {
    for (const text of [
      'javascript:alert(1)',
      'data:text/html,<script>x</script>',
      '<a href="https://evil.test">x</a>',
      'mailto:a@b.c',
    ]) {
      const links = linkify(text).filter((s) => s.kind === 'link');
      for (const link of links) expect(link.kind === 'link' && link.href).toMatch(/^https?:\/\//);
    }
    expect(linkify('javascript:alert(1)')).toEqual([{ kind: 'text', text: 'javascript:alert(1)' }]);
    // the quote ends the candidate: the link stops at the attribute boundary
    expect(linkify('<a href="https://evil.test">x</a>').find((s) => s.kind === 'link')).toEqual({
      kind: 'link',
      text: 'https://evil.test',
      href: 'https://evil.test/',
    });
  });
});
