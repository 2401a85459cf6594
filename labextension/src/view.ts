/**
 * What a Kimi turn looks like: thinking toggle, tool calls (foldable panels of text, see
 * `toolview.ts`), the answer as untrusted
 * Markdown through JupyterLab's own Markdown renderer, a notice, and a footer.
 *
 * Model text reaches the DOM only through that renderer (raw HTML shown as text, diagram
 * fences as code, then sanitized so that nothing loads or runs, with no URL resolver or
 * link handler) or `textContent`; an answer too costly for the renderer is shown by our
 * own linear view (`bounds.ts`).
 * Loaded on the first turn output, not at start-up (see `renderer.ts`).
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { PanelLayout, Widget } from '@lumino/widgets';

import { addInsertCodeButtons } from './actions';
import {
  agentCellSteps,
  agentStepsNode,
  parseStepOutputs,
  stepCode,
  stepNodes
} from './agentcellsteps';
import { labelWithNotice, markBidi, stripBidi } from './bidi';
import { fitsMarkdownBudget, plainAnswer } from './bounds';
import { plainDiagramParser } from './diagrams';
import { textNode } from './dom';
import { addCodeCopyButtons, createCopyButton } from './clipboard';
import { literalHtmlParser } from './literalhtml';
import { guardSanitizer, watchRendered } from './sanitizer';
import { toolResultsNode } from './toolview';
import {
  footerText,
  ITranslate,
  ITurnRecord,
  noticeText,
  parseTurn,
  thinkingSummary,
  toolCallText,
  untranslated
} from './turn';

const MARKDOWN_MIME_TYPE = 'text/markdown';

/** What `renderTurn` needs from the renderer that calls it. */
export interface ITurnContext {
  /** The options the registry created the turn renderer with (resolver, sanitizer, …). */
  options: IRenderMime.IRendererOptions;
  /**
   * The registry's Markdown factory; without one, or without a Markdown parser in
   * `options`, the answer shows as source text.
   */
  markdownFactory?: IRenderMime.IRendererFactory;
  /** What a cell agent turn's steps showed (`application/vnd.kimi.steps+json`), if any. */
  steps?: unknown;
}

/** Replace the widgets in `layout` with a view of the turn record `data`. */
export async function renderTurn(
  layout: PanelLayout,
  data: unknown,
  context: ITurnContext
): Promise<void> {
  for (const child of [...layout.widgets]) {
    child.dispose();
  }
  const trans: ITranslate =
    context.options.translator?.load('kimi_jupyter') ?? untranslated;
  const add = (node: HTMLElement) => layout.addWidget(new Widget({ node }));
  const turn = parseTurn(data);
  if (!turn) {
    add(
      textNode(
        'div',
        'jp-KimiTurn-invalid',
        trans.__('Invalid Kimi turn record')
      )
    );
    return;
  }
  if (turn.reasoning) {
    add(thinkingNode(turn, trans));
  }
  if (turn.toolResults.length) {
    const steps = parseStepOutputs(context.steps);
    add(
      toolResultsNode(turn.toolResults, trans, result => {
        const code = stepCode(result.name, result.arguments);
        const items = steps.get(result.callId);
        return code !== null && items ? stepNodes(code, items, trans) : null;
      })
    );
  } else if (turn.toolCalls.length) {
    add(toolCallsNode(turn, trans)); // a record from before tool results were kept
  }
  const answer = turn.answer ? createAnswer(context) : null;
  if (answer) {
    layout.addWidget(answer);
  }
  const notice = noticeNode(turn, trans);
  if (notice) {
    add(notice);
  }
  add(footerNode(turn, trans));
  const steps = agentStepsNode(agentCellSteps(data), trans);
  if (steps) {
    add(steps); // a `%%kimi --agent` turn: its steps can become cells below
  }
  if (answer) {
    await renderAnswer(answer, turn.answer, trans);
  }
}

/**
 * A Markdown renderer from the registry's factory: its parser shows raw HTML as text
 * (like the Python renderer) and diagram fences as code, its sanitizer leaves nothing
 * that loads or runs, and with no resolver or link handler JupyterLab neither rewrites
 * the answer's URLs nor opens its links itself. What JupyterLab and MathJax add after
 * sanitizing is held to the same rules (`watchRendered`).
 */
export function createAnswer(context: ITurnContext): IRenderMime.IRenderer {
  const { options, markdownFactory } = context;
  const parser = options.markdownParser;
  const widget =
    markdownFactory && parser
      ? markdownFactory.createRenderer({
          ...options,
          mimeType: MARKDOWN_MIME_TYPE,
          markdownParser: literalHtmlParser(plainDiagramParser(parser)),
          sanitizer: guardSanitizer(options.sanitizer),
          resolver: null,
          linkHandler: null
        })
      : new PlainMarkdown();
  widget.addClass('jp-KimiTurn-answer');
  const watcher = watchRendered(widget.node);
  widget.disposed.connect(() => watcher.disconnect());
  return widget;
}

/**
 * Render `markdown` as untrusted into a widget from `createAnswer`, or as our linear plain
 * view when it is over the Markdown budget (or fails to render); bidi controls become
 * visible marks. The streaming answer in the chat panel renders through this too.
 */
export async function renderMarkdown(
  widget: IRenderMime.IRenderer,
  markdown: string,
  trans: ITranslate = untranslated
): Promise<void> {
  if (!fitsMarkdownBudget(markdown)) {
    showPlain(widget, markdown, trans);
    return;
  }
  try {
    await widget.renderModel({
      trusted: false,
      data: { [MARKDOWN_MIME_TYPE]: markdown },
      metadata: {},
      setData: () => undefined
    });
    markBidi(widget.node, trans);
  } catch (reason) {
    console.warn('kimi-jupyter: the answer did not render as Markdown', reason);
    showPlain(widget, markdown, trans);
  }
}

/** The linear plain view of `markdown` (`bounds.ts`) in place of the rendered answer. */
function showPlain(
  widget: IRenderMime.IRenderer,
  markdown: string,
  trans: ITranslate
): void {
  const plain = document.createElement('div');
  // MathJax's classes for "do not typeset" (3 and 2): the answer may be all `$`.
  plain.className = 'jp-KimiTurn-plain mathjax_ignore tex2jax_ignore';
  plain.append(
    textNode(
      'div',
      'jp-KimiTurn-plainNotice',
      trans.__(
        'Shown as plain text: this answer is too large or too intricate to render as Markdown.'
      )
    ),
    plainAnswer(document, markdown)
  );
  widget.node.replaceChildren(plain);
  markBidi(widget.node, trans);
}

/** Render `markdown` as untrusted, then give each code block copy and insert buttons. */
export async function renderAnswer(
  widget: IRenderMime.IRenderer,
  markdown: string,
  trans: ITranslate
): Promise<void> {
  await renderMarkdown(widget, markdown, trans);
  if (!widget.isDisposed) {
    addCodeCopyButtons(widget.node, trans);
    addInsertCodeButtons(widget.node, trans);
  }
}

/** The collapsed `<details>` with the reasoning as plain text. */
export function thinkingNode(
  turn: ITurnRecord,
  trans: ITranslate = untranslated
): HTMLElement {
  const details = document.createElement('details');
  details.className = 'jp-KimiTurn-thinking';
  details.append(
    textNode(
      'summary',
      'jp-KimiTurn-thinkingSummary',
      thinkingSummary(turn, trans)
    ),
    textNode('div', 'jp-KimiTurn-reasoning', turn.reasoning)
  );
  return details;
}

/** One line per tool call: `Called f(...)`. */
export function toolCallsNode(
  turn: ITurnRecord,
  trans: ITranslate = untranslated
): HTMLElement {
  const list = document.createElement('ul');
  list.className = 'jp-KimiTurn-toolCalls';
  for (const call of turn.toolCalls) {
    list.appendChild(
      textNode('li', 'jp-KimiTurn-toolCall', toolCallText(call, trans))
    );
  }
  return list;
}

/** Why the answer is partial or missing (stopped, failed, cut off), or `null`. */
export function noticeNode(
  turn: ITurnRecord,
  trans: ITranslate = untranslated
): HTMLElement | null {
  const notice = noticeText(turn, trans);
  if (!notice) {
    return null;
  }
  const node = textNode('div', 'jp-KimiTurn-notice', notice);
  node.classList.toggle('jp-mod-failed', turn.status === 'failed');
  node.setAttribute('role', 'status');
  return node;
}

/** Model, tokens and time, with the button that copies the answer's Markdown. */
export function footerNode(
  turn: ITurnRecord,
  trans: ITranslate = untranslated
): HTMLElement {
  const bar = document.createElement('div');
  bar.className = 'jp-KimiTurn-footerBar';
  bar.appendChild(
    textNode('span', 'jp-KimiTurn-footer', footerText(turn, trans))
  );
  if (turn.answer) {
    const label = trans.__('Copy answer as Markdown');
    const button = createCopyButton(document, {
      ariaLabel: label,
      className: 'jp-KimiTurn-copyAnswer',
      text: () => stripBidi(turn.answer).text,
      trans
    });
    button.title = labelWithNotice(label, turn.answer, trans);
    bar.appendChild(button);
  }
  return bar;
}

/** The answer's Markdown source as text, for a registry without a Markdown renderer. */
class PlainMarkdown extends Widget implements IRenderMime.IRenderer {
  constructor() {
    super({ node: document.createElement('pre') });
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.node.textContent = String(model.data[MARKDOWN_MIME_TYPE] ?? '');
    return Promise.resolve();
  }
}
