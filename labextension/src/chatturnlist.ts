/**
 * `ChatTurnList`: the panel's column of turn views, reconciled with the model's turns by
 * their `key` (a view per turn, kept while its turn lasts, in the model's order), and
 * kept scrolled to the end while the reader is there.
 */
import { Panel, Widget } from '@lumino/widgets';

import type { IChatTurn } from './chatturn';

/** What the list needs of a turn's view. */
export interface ITurnView extends Widget {
  /** Show `turn` (a view may skip a turn object it has shown already). */
  setTurn(turn: IChatTurn): void;
}

/** How close to the end (px) still counts as reading the end. */
const AT_END = 40;

export class ChatTurnList<V extends ITurnView = ITurnView> extends Panel {
  /** `createView` makes the view of a new turn; the list owns and disposes it. */
  constructor(private readonly _createView: () => V) {
    super();
    this.addClass('jp-KimiChat-turns');
  }

  /** The view of the turn `key`, if it is shown. */
  viewOf(key: number): V | undefined {
    return this._views.get(key);
  }

  /** Show `turns`: views of gone turns are disposed, new turns get a view. */
  setTurns(turns: readonly IChatTurn[]): void {
    const host = this.node;
    const atEnd =
      host.scrollHeight - host.scrollTop - host.clientHeight < AT_END;
    const keep = new Set(turns.map(turn => turn.key));
    for (const [key, view] of this._views) {
      if (!keep.has(key)) {
        view.dispose();
        this._views.delete(key);
      }
    }
    turns.forEach((turn, index) => {
      const view = this._views.get(turn.key) ?? this._newView(turn.key);
      if (this.widgets[index] !== view) {
        this.insertWidget(index, view);
      }
      view.setTurn(turn);
    });
    if (atEnd) {
      host.scrollTop = host.scrollHeight;
    }
  }

  private _newView(key: number): V {
    const view = this._createView();
    this._views.set(key, view);
    return view;
  }

  private _views = new Map<number, V>();
}
