/**
 * JupyterLab's Markdown pipeline, closely enough for tests: the marked version and options
 * of `@jupyterlab/markedparser-extension` (highlighted code blocks cached by walkTokens),
 * the math handling of `renderMarkdown`, then a sanitizer.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { removeMath, replaceMath } from '@jupyterlab/rendermime/lib/latex';
import { Marked, Renderer, Tokens } from 'marked';

/** The class the fake highlighter gives `<` and `>`, so tests see what it was given. */
export const ANGLE_CLASS = 'tok-angle';

/** The info strings JupyterLab's mermaid block claims (`block.languages.includes(lang)`). */
const DIAGRAM_BLOCK_LANGUAGES = ['mermaid'];

/**
 * A parser like JupyterLab's; `calls` records the sources it rendered, `diagrams` the
 * code a mermaid block would have drawn (JupyterLab draws it while walking the tokens).
 */
export function createMarkedParser(): IRenderMime.IMarkdownParser & {
  calls: string[];
  diagrams: string[];
} {
  const highlights = new Map<string, string>();
  const diagrams: string[] = [];
  const isDiagram = (token: Tokens.Code) =>
    !!token.lang && DIAGRAM_BLOCK_LANGUAGES.includes(token.lang);
  const key = (token: Tokens.Code) => `${token.lang}\`\`\`~~~${token.text}`;
  const renderer = new Renderer();
  const code = renderer.code;
  renderer.code = token =>
    isDiagram(token)
      ? '<div class="jp-RenderedMermaid"><img src="/kimi-hostile/diagram"></div>'
      : (highlights.get(key(token)) ?? code.call(renderer, token));
  const marked = new Marked({
    async: true,
    gfm: true,
    renderer,
    walkTokens: token => {
      if (token.type === 'code' && isDiagram(token as Tokens.Code)) {
        diagrams.push((token as Tokens.Code).text);
      } else if (token.type === 'code' && token.lang) {
        highlights.set(
          key(token as Tokens.Code),
          `<pre><code class="language-${token.lang}">${highlight(token.text)}</code></pre>`
        );
      }
    }
  });
  const calls: string[] = [];
  return {
    calls,
    diagrams,
    render: async source => {
      calls.push(source);
      return marked.parse(source) as Promise<string>;
    }
  };
}

/** What `renderMarkdown` does before the HTML reaches the sanitizer. */
export async function jupyterMarkdownHtml(
  source: string,
  parser: IRenderMime.IMarkdownParser
): Promise<string> {
  const parts = removeMath(source);
  return replaceMath(await parser.render(parts['text']), parts['math']);
}

/** Render `source` into a new element the way JupyterLab's Markdown renderer does. */
export async function renderJupyterMarkdown(
  source: string,
  parser: IRenderMime.IMarkdownParser,
  sanitizer: IRenderMime.ISanitizer = { sanitize: html => html }
): Promise<HTMLElement> {
  const host = document.createElement('div');
  host.innerHTML = sanitizer.sanitize(
    await jupyterMarkdownHtml(source, parser)
  );
  return host;
}

/** Wrap `<` and `>` in spans, as a highlighter would mark tag brackets. */
function highlight(text: string): string {
  const element = document.createElement('div');
  for (const part of text.split(/([<>])/)) {
    if (part === '<' || part === '>') {
      const span = document.createElement('span');
      span.className = ANGLE_CLASS;
      span.textContent = part;
      element.appendChild(span);
    } else if (part) {
      element.appendChild(document.createTextNode(part));
    }
  }
  return element.innerHTML;
}
