/**
 * Plain text → text and link segments, for rendering as React text nodes and <a> elements
 * (never as HTML). Only http(s) links become links; `www.` gets https.
 */
export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const CANDIDATE = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?'"*_~]+$/;

/** Drop punctuation that ends a sentence rather than the link, and unbalanced closers. */
function trimLink(raw: string): string {
  let link = raw;
  for (;;) {
    const before = link;
    link = link.replace(TRAILING, '');
    for (const [open, close] of [
      ['(', ')'],
      ['[', ']'],
      ['{', '}'],
    ] as const) {
      if (link.endsWith(close) && link.split(close).length > link.split(open).length) {
        link = link.slice(0, -1);
      }
    }
    if (link === before) return link;
  }
}

function safeHref(text: string): string | null {
  const candidate = /^www\./i.test(text) ? `https://${text}` : text;
  try {
    const url = new URL(candidate);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return null;
    return url.href;
  } catch {
    return null;
  }
}

export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  const push = (segment: Segment) => {
    const previous = segments[segments.length - 1];
    if (segment.kind === 'text' && previous?.kind === 'text') previous.text += segment.text;
    else if (segment.kind === 'link' || segment.text) segments.push(segment);
  };
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    const link = trimLink(match[0]);
    const href = link ? safeHref(link) : null;
    if (!href) continue;
    push({ kind: 'text', text: text.slice(last, start) });
    push({ kind: 'link', text: link, href });
    last = start + link.length;
  }
  push({ kind: 'text', text: text.slice(last) });
  return segments;
}
