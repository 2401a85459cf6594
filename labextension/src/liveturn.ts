/**
 * `LiveTurn`: a streaming answer in the chat panel. Thinking (a `<details>` that opens
 * while the model thinks and folds when the answer starts, unless the reader toggled
 * it), the tool calls (folded; one asking for Run / Skip opens), the answer so far, and
 * what is happening.
 *
 * The answer so far renders as untrusted Markdown through the same path as the finished
 * turn (`view.ts`: raw HTML as text, guarded sanitizer), throttled by `LatestThrottle`
 * rather than once per token.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Panel, PanelLayout, Widget } from '@lumino/widgets';

import { turnStatusText } from './chatstatus';
import type { IChatTurn } from './chatturn';
import { LatestThrottle } from './throttle';
import { ConfirmHandler, ToolPanelList } from './toolview';
import type { ITranslate } from './turn';
import type { ITurnContext } from './view';

export class LiveTurn extends Widget {
  constructor(
    private readonly _trans: ITranslate,
    private readonly _context: ITurnContext,
    onConfirm?: ConfirmHandler,
    renderInterval?: number
  ) {
    super();
    this._tools = new ToolPanelList(_trans, onConfirm);
    this._throttle = new LatestThrottle<string>(
      markdown => this._renderAnswer(markdown),
      renderInterval
    );
    this.addClass('jp-KimiChat-live');
    const layout = new PanelLayout();
    this.layout = layout;
    this._thinking.className = 'jp-KimiChat-thinking';
    this._summary.className = 'jp-KimiChat-thinkingSummary';
    this._summary.textContent = this._trans.__('Thinking');
    this._summary.addEventListener('click', () => {
      this._userToggled = true;
    });
    this._reasoning.className = 'jp-KimiChat-reasoning';
    this._thinking.append(this._summary, this._reasoning);
    this._thinking.hidden = true;
    this._answer.addClass('jp-KimiChat-liveAnswer');
    this._state.className = 'jp-KimiChat-turnStatus';
    layout.addWidget(new Widget({ node: this._thinking }));
    layout.addWidget(new Widget({ node: this._tools.node }));
    layout.addWidget(this._answer);
    layout.addWidget(new Widget({ node: this._state }));
  }

  setTurn(turn: IChatTurn): void {
    this._thinking.hidden = !turn.reasoning;
    this._reasoning.textContent = turn.reasoning;
    this._tools.update(turn.tools);
    if (turn.content !== this._content) {
      this._content = turn.content;
      this._throttle.update(turn.content);
    }
    if (!this._userToggled && turn.state === 'streaming') {
      this._thinking.open = !turn.content;
    }
    this._summary.textContent =
      turn.state === 'streaming' && !turn.content
        ? this._trans.__('Thinking…')
        : this._trans.__('Thinking');
    this._state.textContent = turnStatusText(turn, this._trans);
    this._state.classList.toggle('jp-mod-failed', turn.state === 'error');
  }

  dispose(): void {
    this._throttle.dispose();
    super.dispose();
  }

  /** Render `markdown` (the whole answer so far) in place of the last rendering. */
  private async _renderAnswer(markdown: string): Promise<void> {
    const { createAnswer, renderMarkdown } = await import('./view');
    if (this.isDisposed) {
      return;
    }
    if (!this._markdown) {
      this._markdown = createAnswer(this._context);
      this._markdown.addClass('jp-KimiChat-liveMarkdown');
      this._answer.addWidget(this._markdown);
    }
    await renderMarkdown(this._markdown, markdown, this._trans);
  }

  private _userToggled = false;
  private readonly _tools: ToolPanelList;
  private _content = '';
  private readonly _throttle: LatestThrottle<string>;
  private _markdown: IRenderMime.IRenderer | null = null;
  private _thinking = document.createElement('details');
  private _summary = document.createElement('summary');
  private _reasoning = document.createElement('div');
  private _answer = new Panel();
  private _state = document.createElement('div');
}
