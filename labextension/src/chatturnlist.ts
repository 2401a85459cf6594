/**
 * `ChatTurnList`: the panel's column of turn views, reconciled with the model's turns by
 * their `key` (a view per turn, kept while its turn lasts, in the model's order). It
 * follows the end (`ScrollFollower`) as turns arrive and as a streaming answer grows,
 * unless the reader has scrolled up.
 */
import { Panel, Widget } from '@lumino/widgets';

import { ScrollFollower } from './chatfollow';
import type { IChatTurn } from './chatturn';

/** What the list needs of a turn's view. */
export interface ITurnView extends Widget {
  /** Show `turn` (a view may skip a turn object it has shown already). */
  setTurn(turn: IChatTurn): void;
}

export class ChatTurnList<V extends ITurnView = ITurnView> extends Panel {
  /**
   * `createView` makes the view of a new turn; the list owns and disposes it.
   * `followChanged` hears when following the end pauses or resumes.
   */
  constructor(
    private readonly _createView: () => V,
    followChanged?: (following: boolean) => void
  ) {
    super();
    this.addClass('jp-KimiChat-turns');
    this._follower = new ScrollFollower(this.node, followChanged);
    // A view grows after `setTurn` (Markdown renders later, a fold opens): follow it.
    this._resizes =
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver(() => this._follower.update());
  }

  /** Whether the end is kept in view (the reader has not scrolled up). */
  get following(): boolean {
    return this._follower.following;
  }

  /** Scroll to the latest turn and follow from now on. */
  jumpToLatest(): void {
    this._follower.jump();
  }

  /** The view of the turn `key`, if it is shown. */
  viewOf(key: number): V | undefined {
    return this._views.get(key);
  }

  /** Show `turns`: views of gone turns are disposed, new turns get a view. */
  setTurns(turns: readonly IChatTurn[]): void {
    const keep = new Set(turns.map(turn => turn.key));
    for (const [key, view] of this._views) {
      if (!keep.has(key)) {
        this._resizes?.unobserve(view.node);
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
    this._follower.update();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._resizes?.disconnect();
    this._follower.dispose();
    super.dispose();
  }

  private _newView(key: number): V {
    const view = this._createView();
    this._views.set(key, view);
    this._resizes?.observe(view.node);
    return view;
  }

  private readonly _follower: ScrollFollower;
  private readonly _resizes: ResizeObserver | null;
  private _views = new Map<number, V>();
}
