/**
 * The shared hostile-output corpus through the answer's Markdown path as JupyterLab runs
 * it: the math pre-pass, diagram fences kept as code, raw HTML as text, marked with a
 * mermaid block that records what it would draw, JupyterLab's own sanitizer, then the
 * guard. Nothing that loads, runs or links into the server may remain, and what must
 * survive (inline images, code blocks, remote links, bidi notices) does.
 *
 * The real browser run of the same corpus is `tests/browser/test_hostile_output.py`.
 */
import { Sanitizer } from '@jupyterlab/apputils/lib/sanitizer';

import { addCodeCopyButtons } from '../clipboard';
import { fitsMarkdownBudget } from '../bounds';
import { plainDiagramParser } from '../diagrams';
import { literalHtmlParser } from '../literalhtml';
import { guardSanitizer } from '../sanitizer';
import { loadCorpus } from './corpus';
import { createMarkedParser, renderJupyterMarkdown } from './jupyterMarkdown';

const ORIGIN = window.location.origin;

/** Elements that must never be in a rendered answer. */
const FORBIDDEN =
  'script, style, link, meta, base, iframe, frame, object, embed, applet, ' +
  'svg, math, template, form, portal, noscript';
const SAFE_IMAGE = /^data:image\/(png|jpeg|gif|webp)[;,]/i;
const FETCHING_ATTRIBUTES = [
  'srcset',
  'poster',
  'background',
  'data',
  'action',
  'formaction',
  'ping',
  'xlink:href',
  'lowsrc',
  'dynsrc',
  'srcdoc'
];

/** What in `root` could load, run or link into the server, as readable strings. */
function offences(root: HTMLElement): string[] {
  const found: string[] = [];
  for (const element of Array.from(root.querySelectorAll(FORBIDDEN))) {
    found.push(`<${element.localName}>`);
  }
  for (const element of Array.from(root.querySelectorAll('*'))) {
    for (const { name, value } of Array.from(element.attributes)) {
      const lower = name.toLowerCase();
      if (
        lower.startsWith('on') ||
        lower.startsWith('data-commandlinker') ||
        FETCHING_ATTRIBUTES.includes(lower) ||
        (lower === 'style' && /url|image|\\|@/i.test(value)) ||
        (lower === 'src' &&
          !(element.localName === 'img' && SAFE_IMAGE.test(value))) ||
        (lower === 'href' && !isAllowedLink(element, value))
      ) {
        found.push(`${element.localName}[${name}=${value.slice(0, 60)}]`);
      }
    }
  }
  return found;
}

function isAllowedLink(element: Element, href: string): boolean {
  if (element.localName !== 'a' || href.startsWith('#')) {
    return element.localName === 'a';
  }
  const url = new URL(href);
  return (
    (url.protocol === 'mailto:' ||
      (['http:', 'https:'].includes(url.protocol) && url.origin !== ORIGIN)) &&
    element.getAttribute('target') === '_blank' &&
    element.getAttribute('rel') === 'noopener noreferrer nofollow'
  );
}

const vectors = loadCorpus().filter(vector => vector.kind !== 'size');

describe('the hostile-output corpus', () => {
  it('has a few hundred vectors in every class', () => {
    const kinds = new Set(loadCorpus().map(vector => vector.kind));
    expect(kinds.size).toBeGreaterThanOrEqual(14);
    expect(vectors.length).toBeGreaterThan(300);
    expect(new Set(vectors.map(vector => vector.id)).size).toBe(vectors.length);
  });

  it.each(vectors.map(vector => [vector.id, vector] as const))(
    '%s renders inert',
    async (_, vector) => {
      const marked = createMarkedParser();
      const parser = literalHtmlParser(plainDiagramParser(marked));
      const sanitizer = guardSanitizer(new Sanitizer(), ORIGIN);
      expect(fitsMarkdownBudget(vector.text)).toBe(true);
      const host = await renderJupyterMarkdown(vector.text, parser, sanitizer);
      expect(marked.diagrams).toEqual([]);
      expect(offences(host)).toEqual([]);
      if (vector.expect.includes('img-data')) {
        expect(host.querySelector('img[src^="data:image/"]')).not.toBeNull();
      }
      if (vector.expect.includes('code-block')) {
        expect(host.querySelector('pre code')).not.toBeNull();
      }
      if (vector.expect.includes('link')) {
        expect(
          host.querySelector('a[href^="http"], a[href^="mailto:"]')
        ).not.toBeNull();
      }
      if (vector.kind === 'mermaid' && vector.expect.includes('code-block')) {
        expect(host.querySelector('code.language-mermaid')).not.toBeNull();
      }
      if (vector.expect.includes('bidi-notice')) {
        addCodeCopyButtons(host);
        expect(host.querySelector('.jp-KimiTurn-bidiNotice')).not.toBeNull();
      }
    }
  );
});
