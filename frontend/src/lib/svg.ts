const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * An SVG document from the server as a data: URL for an <img src>. Inside <img>, scripts and
 * external loads in the SVG never run, which is why we never inject it as HTML.
 *
 * As a standalone image the root element must declare the SVG namespace (inline-HTML SVG
 * snippets such as segno's default output omit it), so it is added when missing.
 */
export function svgDataUrl(svg: string): string {
  let document = svg.trim();
  const root = /<svg\b[^>]*>/i.exec(document);
  if (root && !/\sxmlns\s*=/.test(root[0])) {
    document =
      document.slice(0, root.index + 4) + ` xmlns="${SVG_NS}"` + document.slice(root.index + 4);
  }
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(document)}`;
}
