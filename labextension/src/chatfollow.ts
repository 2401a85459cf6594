/**
 * `ScrollFollower`: keeps a scrolling element at its end while the reader is there, as the
 * chat panel does for a streaming answer. Content that grows scrolls into view; scrolling
 * up (wheel, keys, scrollbar) pauses that until the reader is back at the end or jumps
 * there (`jump`, the panel's "Jump to latest").
 */

/** How close to the end (px) still counts as reading the end. */
export const AT_END = 40;

/** Whether `node` is scrolled to (within `AT_END` of) its end. */
export function isAtEnd(node: HTMLElement): boolean {
  return node.scrollHeight - node.scrollTop - node.clientHeight < AT_END;
}

export class ScrollFollower {
  /** `changed` is called with the new state whenever following starts or pauses. */
  constructor(
    private readonly _node: HTMLElement,
    private readonly _changed: (following: boolean) => void = () => undefined
  ) {
    this._lastTop = _node.scrollTop;
    _node.addEventListener('scroll', this._onScroll, { passive: true });
    _node.addEventListener('wheel', this._onWheel, { passive: true });
  }

  /** Whether new content is scrolled into view (the reader has not scrolled away). */
  get following(): boolean {
    return this._following;
  }

  /** The content changed: while following, show its end. */
  update(): void {
    if (this._following) {
      this._toEnd();
    }
  }

  /** Scroll to the end and follow from now on. */
  jump(): void {
    this._set(true);
    this._toEnd();
  }

  dispose(): void {
    this._node.removeEventListener('scroll', this._onScroll);
    this._node.removeEventListener('wheel', this._onWheel);
  }

  private _toEnd(): void {
    const node = this._node;
    node.scrollTop = node.scrollHeight;
    this._lastTop = node.scrollTop;
  }

  private _set(following: boolean): void {
    if (following !== this._following) {
      this._following = following;
      this._changed(following);
    }
  }

  /**
   * Back at the end: follow. Moved up (never by `_toEnd`, which only moves down): pause.
   * Content that grows or shrinks moves no scroll position up but by clamping to the end.
   */
  private readonly _onScroll = (): void => {
    const top = this._node.scrollTop;
    if (isAtEnd(this._node)) {
      this._set(true);
    } else if (top < this._lastTop) {
      this._set(false);
    }
    this._lastTop = top;
  };

  /** A wheel turned up pauses at once, before an update could scroll back down. */
  private readonly _onWheel = (event: WheelEvent): void => {
    const node = this._node;
    if (event.deltaY < 0 && node.scrollHeight > node.clientHeight) {
      this._set(false);
    }
  };

  private _following = true;
  private _lastTop: number;
}
