/**
 * `ChatTurnView`: one exchange in the chat panel. The prompt, then the live stream
 * (`LiveTurn`) while the answer streams, or the rendered turn record once it is done:
 * the same turn view the notebook outputs use (`view.ts`, loaded with the first record).
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { PanelLayout, Widget } from '@lumino/widgets';

import type { IChatTurn } from './chatturn';
import { textNode } from './dom';
import { LiveTurn } from './liveturn';
import type { ConfirmHandler } from './toolview';
import { ITranslate, parseTurn } from './turn';
import { turnContext } from './turncontext';

/** The extra content of a turn shown under its prompt (an agent turn's steps), or `null`. */
export type TurnExtra = (turn: IChatTurn) => HTMLElement | null;

export class ChatTurnView extends Widget {
  constructor(
    private readonly _rendermime: IRenderMimeRegistry,
    private readonly _trans: ITranslate,
    private readonly _onConfirm?: ConfirmHandler,
    private readonly _extra?: TurnExtra
  ) {
    super();
    this.addClass('jp-KimiChat-turn');
    this.layout = new PanelLayout();
    this._prompt.className = 'jp-KimiChat-prompt';
    (this.layout as PanelLayout).addWidget(new Widget({ node: this._prompt }));
  }

  /** Show `turn`; a turn object shown already is skipped (turns are immutable). */
  setTurn(turn: IChatTurn): void {
    if (turn === this._turn) {
      return;
    }
    this._turn = turn;
    this._prompt.textContent = turn.prompt;
    this.node.dataset.state = turn.state;
    this._showExtra(turn);
    if (turn.record !== undefined && turn.state !== 'streaming') {
      this._showRecord(turn);
    } else {
      this._showLive(turn);
    }
  }

  /** The record's view once it is rendered (a promise: `view.ts` loads on demand). */
  get rendered(): Promise<void> {
    return this._rendered;
  }

  /** The turn's extra content, right under the prompt, once it has one. */
  private _showExtra(turn: IChatTurn): void {
    const node = this._extraWidget ? null : this._extra?.(turn);
    if (node) {
      this._extraWidget = new Widget({ node });
      (this.layout as PanelLayout).insertWidget(1, this._extraWidget);
    }
  }

  /** The streaming answer, as untrusted Markdown re-rendered at most every 250 ms. */
  private _showLive(turn: IChatTurn): void {
    if (!this._live) {
      this._live = new LiveTurn(
        this._trans,
        turnContext(this._rendermime),
        this._onConfirm
      );
      (this.layout as PanelLayout).addWidget(this._live);
    }
    this._live.setTurn(turn);
  }

  private _showRecord(turn: IChatTurn): void {
    this._live?.dispose();
    this._live = null;
    this._recordView?.dispose();
    const view = new Widget();
    view.addClass('jp-KimiTurn');
    view.addClass('jp-KimiChat-record');
    const layout = new PanelLayout();
    view.layout = layout;
    this._recordView = view;
    (this.layout as PanelLayout).addWidget(view);
    this._rendered = this._renderRecord(view, layout, turn);
  }

  private async _renderRecord(
    view: Widget,
    layout: PanelLayout,
    turn: IChatTurn
  ): Promise<void> {
    const context = turnContext(this._rendermime);
    const failedWithoutNotice =
      turn.state === 'error' && parseTurn(turn.record)?.status !== 'failed';
    const { renderTurn } = await import('./view');
    if (view.isDisposed) {
      return;
    }
    await renderTurn(layout, turn.record, context);
    if (failedWithoutNotice && !view.isDisposed) {
      const notice = this._trans.__('Failed: %1', turn.error ?? '');
      const node = textNode('div', 'jp-KimiTurn-notice jp-mod-failed', notice);
      layout.addWidget(new Widget({ node }));
    }
  }

  private _turn: IChatTurn | null = null;
  private _prompt = document.createElement('div');
  private _live: LiveTurn | null = null;
  private _recordView: Widget | null = null;
  private _extraWidget: Widget | null = null;
  private _rendered: Promise<void> = Promise.resolve();
}
