/**
 * `LatestThrottle`: render the latest of a stream of values at most once per interval.
 *
 * The chat panel re-renders a streaming answer as Markdown; parsing, sanitizing and
 * typesetting on every delta would be wasteful, so only the newest text is rendered,
 * at most every `interval` ms, and never while the previous render is still running.
 * The first value renders at once; the last value always renders eventually.
 */

/** What the throttle needs of the clock (injectable for tests). */
export interface IThrottleClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: IThrottleClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: handle => clearTimeout(handle as ReturnType<typeof setTimeout>)
};

/** The default minimum time between two renders of a streaming answer, in ms. */
export const STREAM_RENDER_INTERVAL = 250;

export class LatestThrottle<T> {
  constructor(
    private readonly _render: (value: T) => Promise<void> | void,
    private readonly _interval: number = STREAM_RENDER_INTERVAL,
    private readonly _clock: IThrottleClock = realClock
  ) {}

  /** Whether a value waits to be rendered (or a render is running). */
  get isPending(): boolean {
    return this._pending !== null || this._busy;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Render `value` as soon as the interval allows; it replaces any value still waiting. */
  update(value: T): void {
    if (this._disposed) {
      return;
    }
    this._pending = { value };
    this._schedule();
  }

  /** Drop the waiting value and stop: nothing renders after this. */
  dispose(): void {
    this._disposed = true;
    this._pending = null;
    if (this._timer !== null) {
      this._clock.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _schedule(): void {
    if (this._disposed || this._busy || this._timer !== null) {
      return;
    }
    if (!this._pending) {
      return;
    }
    const wait = this._last + this._interval - this._clock.now();
    if (wait > 0) {
      this._timer = this._clock.setTimeout(() => {
        this._timer = null;
        this._run();
      }, wait);
      return;
    }
    this._run();
  }

  private _run(): void {
    const pending = this._pending;
    if (this._disposed || !pending) {
      return;
    }
    this._pending = null;
    this._busy = true;
    this._last = this._clock.now();
    const done = () => {
      this._busy = false;
      this._schedule();
    };
    let result: Promise<void> | void;
    try {
      result = this._render(pending.value);
    } catch (reason) {
      console.warn('kimi-jupyter: a throttled render failed', reason);
      done();
      return;
    }
    void Promise.resolve(result).then(done, reason => {
      console.warn('kimi-jupyter: a throttled render failed', reason);
      done();
    });
  }

  private _pending: { value: T } | null = null;
  private _busy = false;
  private _last = -Infinity;
  private _timer: unknown = null;
  private _disposed = false;
}
