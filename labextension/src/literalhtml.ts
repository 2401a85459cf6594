/**
 * Raw HTML in model Markdown shown as text, as CommonMark with HTML disabled shows it
 * (markdown-it's `js-default` preset, which renders turns outside JupyterLab).
 *
 * JupyterLab's Markdown parser (marked) passes raw HTML through, and what the sanitizer
 * keeps still acts: `<img src=x>` in an answer would fetch `/files/x`. The parser cannot
 * be configured for one render, so `literalHtmlParser` wraps it: each `<` is replaced by
 * a character the text does not contain (the mark), the parser runs, and the mark turns
 * back into `&lt;` in its HTML. The parser alone decides where a `<` sat (text, code span,
 * code block, attribute), and wherever that is it ends up as a literal `<`: nothing here
 * has to parse Markdown correctly for the answer to be safe.
 *
 * Left as they are: backslash-escaped `\<` (never a tag) and autolinks (`<https://…>`,
 * `<me@example.com>`, which no HTML syntax matches).
 *
 * Highlighting needs the real `<` in fenced code (`<div>` in an HTML block), so a second
 * render keeps it there, and is used only if, with code blocks set aside, its HTML is
 * identical to the first render's. A fence misread here (in a list item, a block quote,
 * a quirk of the parser) costs highlighting, never safety.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

/**
 * Where marks come from: symbols, which Markdown treats like `<` (punctuation for
 * emphasis rules, no syntax of their own), and which answers rarely contain.
 */
const MARK_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x2400, 0x2426], // Control Pictures
  [0x2440, 0x244a], // Optical Character Recognition
  [0x2b00, 0x2b73], // Miscellaneous Symbols and Arrows
  [0x2800, 0x28ff] // Braille Patterns
];

/** A CommonMark autolink starting at `lastIndex` (email local parts start alphanumeric). */
const AUTOLINK = new RegExp(
  '<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\\s\\p{Cc}<>]*' +
    "|[A-Za-z0-9][A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]*@[A-Za-z0-9]" +
    '(?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?' +
    '(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)>',
  'uy'
);

/** A fence line, possibly inside block quotes or indented under a list item. */
const FENCE = /^[ \t>]*(`{3,}|~{3,})(.*?)\s*$/;

/** The code blocks (and mermaid diagrams) in the parser's HTML: set aside to compare renders. */
const CODE_BLOCKS = 'pre, .jp-RenderedMermaid';

/** `base`, with raw HTML in the source rendered as literal text (see the module comment). */
export function literalHtmlParser(
  base: IRenderMime.IMarkdownParser
): IRenderMime.IMarkdownParser {
  return { render: source => renderLiteralHtml(base, source) };
}

/** Render `source` with `base`, raw HTML shown as text. */
export async function renderLiteralHtml(
  base: IRenderMime.IMarkdownParser,
  source: string
): Promise<string> {
  const mark = pickMark(source);
  const hidden = hideHtml(source, mark, false);
  const safe = revealHtml(await base.render(hidden), mark);
  const fenced = hideHtml(source, mark, true);
  if (fenced === hidden) {
    return safe;
  }
  const highlighted = revealHtml(await base.render(fenced), mark);
  return sameOutsideCode(safe, highlighted) ? highlighted : safe;
}

/** A character, from `MARK_RANGES`, that `text` does not contain. */
export function pickMark(text: string): string {
  for (const [first, last] of MARK_RANGES) {
    for (let code = first; code <= last; code++) {
      const mark = String.fromCharCode(code);
      if (!text.includes(mark)) {
        return mark;
      }
    }
  }
  throw new Error('no character is free to mark raw HTML');
}

/**
 * `source` with each `<` replaced by `mark`, except autolinks, `\<` and, with
 * `keepFencedCode`, the content of fenced code blocks that name a language.
 */
export function hideHtml(
  source: string,
  mark: string,
  keepFencedCode = false
): string {
  let fence: { char: string; length: number; keep: boolean } | null = null;
  return source
    .split('\n')
    .map(line => {
      const match = FENCE.exec(line);
      if (fence) {
        const closes =
          match !== null &&
          match[1][0] === fence.char &&
          match[1].length >= fence.length &&
          match[2] === '';
        const keep = fence.keep && !closes;
        if (closes) {
          fence = null;
        }
        return keep ? line : hideLine(line, mark);
      }
      if (match && !(match[1][0] === '`' && match[2].includes('`'))) {
        fence = {
          char: match[1][0],
          length: match[1].length,
          keep: keepFencedCode && match[2].trim() !== ''
        };
      }
      return hideLine(line, mark);
    })
    .join('\n');
}

/** The parser's `html` with each `mark` turned back into `<`, as text or in a URL. */
export function revealHtml(html: string, mark: string): string {
  return html.split(mark).join('&lt;').split(encodeURI(mark)).join('%3C');
}

/** Whether two renders of one answer differ only inside code blocks (and in ids). */
export function sameOutsideCode(html: string, other: string): boolean {
  return outsideCode(html) === outsideCode(other);
}

function hideLine(line: string, mark: string): string {
  let hidden = '';
  let start = 0;
  for (let at = line.indexOf('<'); at !== -1; at = line.indexOf('<', start)) {
    AUTOLINK.lastIndex = at;
    const autolink = AUTOLINK.exec(line);
    const end = autolink ? at + autolink[0].length : at + 1;
    const kept = autolink !== null || isEscaped(line, at);
    hidden += line.slice(start, at) + (kept ? line.slice(at, end) : mark);
    start = end;
  }
  return hidden + line.slice(start);
}

/** Whether the character at `at` follows an odd number of backslashes. */
function isEscaped(line: string, at: number): boolean {
  let backslashes = 0;
  while (line[at - 1 - backslashes] === '\\') {
    backslashes++;
  }
  return backslashes % 2 === 1;
}

/** `html` with code blocks emptied and ids dropped (heading ids can vary between renders). */
function outsideCode(html: string): string {
  const template = document.createElement('template');
  template.innerHTML = html; // inert: a template's content loads nothing
  const content = template.content;
  for (const block of Array.from(content.querySelectorAll(CODE_BLOCKS))) {
    block.replaceWith(document.createElement('pre'));
  }
  for (const element of Array.from(content.querySelectorAll('[id]'))) {
    element.removeAttribute('id');
  }
  return template.innerHTML;
}
