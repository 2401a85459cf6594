/**
 * Tool calls as foldable panels: `🔧 name · status · time`, then the arguments and the
 * result. Both are the model's and the tool's text: they reach the DOM only through
 * `textContent`, never as HTML. The turn view and the chat panel's live answer share this.
 */
import { textNode } from './dom';
import {
  IToolResult,
  ITranslate,
  prettyArguments,
  toolTitle,
  untranslated
} from './turn';

/** What a panel shows; a live call may still be `running` or `waiting for you`. */
export interface IToolView {
  callId: string;
  name: string;
  arguments: string;
  status: string;
  preview?: string;
  duration?: number;
  /** The kernel waits for Run or Skip. */
  asking?: boolean;
  /** Seconds the kernel waits for the answer before it skips the call itself. */
  timeout?: number;
}

/** Called with the user's answer to a call that is `asking`. */
export type ConfirmHandler = (callId: string, run: boolean) => void;

/** A closed `<details>` for one call (opened while it asks for Run / Skip). */
export function toolPanelNode(
  tool: IToolView,
  trans: ITranslate = untranslated,
  onConfirm?: ConfirmHandler
): HTMLDetailsElement {
  const details = document.createElement('details');
  details.className = 'jp-KimiTool';
  updateToolPanel(details, tool, trans, onConfirm);
  return details;
}

/** Redraw `details` for `tool`, keeping whether the reader has it open. */
export function updateToolPanel(
  details: HTMLDetailsElement,
  tool: IToolView,
  trans: ITranslate = untranslated,
  onConfirm?: ConfirmHandler
): void {
  details.dataset.status = tool.status;
  const children: HTMLElement[] = [
    textNode(
      'summary',
      'jp-KimiTool-summary',
      toolTitle(tool.name, tool.status, tool.duration, trans)
    ),
    textNode('div', 'jp-KimiTool-label', trans.__('Arguments')),
    textNode('pre', 'jp-KimiTool-arguments', prettyArguments(tool.arguments))
  ];
  if (tool.preview) {
    children.push(
      textNode('div', 'jp-KimiTool-label', trans.__('Result')),
      textNode('pre', 'jp-KimiTool-preview', tool.preview)
    );
  }
  if (tool.asking && onConfirm) {
    children.push(confirmButtons(tool, trans, onConfirm));
    details.open = true;
  }
  details.replaceChildren(...children);
}

/**
 * What a saved call's panel shows under its title in place of its arguments and result
 * (the cell agent's steps: code, outputs, figures), or `null` for the usual body.
 */
export type ToolBody = (result: IToolResult) => HTMLElement[] | null;

/** The saved calls of a turn record, each as a closed panel (open when `body` fills it). */
export function toolResultsNode(
  results: readonly IToolResult[],
  trans: ITranslate = untranslated,
  body?: ToolBody
): HTMLElement {
  const node = document.createElement('div');
  node.className = 'jp-KimiTurn-tools';
  for (const result of results) {
    const panel = toolPanelNode(result, trans);
    const shown = body?.(result);
    if (shown) {
      panel.replaceChildren(panel.querySelector('summary')!, ...shown);
      panel.open = true; // what the step did is the answer's evidence
    }
    node.appendChild(panel);
  }
  return node;
}

/**
 * The live list of a streaming answer's calls: one panel per call id, redrawn only when
 * its data object changes (the chat model replaces what changed).
 */
export class ToolPanelList {
  readonly node = document.createElement('div');

  constructor(
    private readonly _trans: ITranslate = untranslated,
    private readonly _onConfirm?: ConfirmHandler
  ) {
    this.node.className = 'jp-KimiTools';
    this.node.hidden = true;
  }

  update(tools: readonly IToolView[]): void {
    for (const tool of tools) {
      const shown = this._panels.get(tool.callId);
      if (!shown) {
        const panel = toolPanelNode(tool, this._trans, this._onConfirm);
        this._panels.set(tool.callId, { tool, panel });
        this.node.appendChild(panel);
      } else if (shown.tool !== tool) {
        updateToolPanel(shown.panel, tool, this._trans, this._onConfirm);
        shown.tool = tool;
      }
    }
    this.node.hidden = tools.length === 0;
  }

  private _panels = new Map<
    string,
    { tool: IToolView; panel: HTMLDetailsElement }
  >();
}

function confirmButtons(
  tool: IToolView,
  trans: ITranslate,
  onConfirm: ConfirmHandler
): HTMLElement {
  const bar = document.createElement('div');
  bar.className = 'jp-KimiTool-confirm';
  if (tool.timeout !== undefined) {
    bar.title = trans.__(
      'Without an answer in %1 s, the call is skipped.',
      Number(tool.timeout.toFixed(1))
    );
  }
  const ask = textNode(
    'span',
    'jp-KimiTool-question',
    trans.__('Run this call?')
  );
  const run = textNode(
    'button',
    'jp-KimiTool-run jp-mod-styled jp-mod-accept',
    trans.__('Run')
  );
  const skip = textNode(
    'button',
    'jp-KimiTool-skip jp-mod-styled',
    trans.__('Skip')
  );
  for (const [button, answer] of [
    [run, true],
    [skip, false]
  ] as const) {
    button.type = 'button';
    button.addEventListener('click', () => {
      run.disabled = skip.disabled = true; // one answer per question
      onConfirm(tool.callId, answer);
    });
  }
  bar.append(ask, run, skip);
  return bar;
}
