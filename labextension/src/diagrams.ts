/**
 * Diagram code in model text stays code (issue 11).
 *
 * JupyterLab's Markdown parser hands a fenced block whose info string is exactly
 * `mermaid` to its mermaid renderer while parsing, before any sanitizer sees the result;
 * mermaid then draws node labels as HTML, honours `%%{init}%%` theme CSS and fetches `fa:`
 * icons and `url(...)`. `plainDiagramParser` replaces the info string of every line that
 * could open such a fence (at any depth of list items and block quotes) by a word no
 * renderer claims, so the block is a plain code block; its class then reads
 * `language-mermaid` again.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

/** Info strings JupyterLab draws instead of showing as code. */
export const DIAGRAM_LANGUAGES = ['mermaid'];

/** What a diagram fence's info string becomes, followed by `-` and the language. */
export const DIAGRAM_SOURCE = 'kimi-diagram-source';

/**
 * The start of a possible fence line: container markers (spaces, `>`, list bullets and
 * numbers), then a fence. A superset of what the parser accepts, which is the safe side.
 */
const FENCE_START = /^[\s>*+\-.)\d]*(?:`{3,}|~{3,})/;

const DIAGRAM_CLASS = new RegExp(`language-${DIAGRAM_SOURCE}-([a-z]+)`, 'g');

/** `base`, with diagram fences turned into plain code blocks (see the module comment). */
export function plainDiagramParser(
  base: IRenderMime.IMarkdownParser
): IRenderMime.IMarkdownParser {
  return {
    render: async source => {
      const html = await base.render(plainDiagramFences(source));
      return html.replace(DIAGRAM_CLASS, 'language-$1');
    }
  };
}

/** `source` with the info string of each diagram fence line replaced. */
export function plainDiagramFences(source: string): string {
  const plain = source.replace(/\\/g, '').toLowerCase();
  if (!DIAGRAM_LANGUAGES.some(lang => plain.includes(lang))) {
    return source;
  }
  return source
    .split(/(\r\n|\r|\n)/)
    .map(line => {
      const start = FENCE_START.exec(line)?.[0];
      const info = start === undefined ? '' : line.slice(start.length);
      const language = start === undefined ? null : diagramLanguage(info);
      return language === null ? line : `${start}${DIAGRAM_SOURCE}-${language}`;
    })
    .join('');
}

/**
 * The diagram language an info string could select, or `null`: the parser trims it with
 * `String.prototype.trim` (so does this); any case, backslash escapes removed.
 */
function diagramLanguage(info: string): string | null {
  const plain = info.replace(/\\/g, '').trim().toLowerCase();
  return DIAGRAM_LANGUAGES.includes(plain) ? plain : null;
}
