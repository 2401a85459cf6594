import { IThrottleClock, LatestThrottle } from '../throttle';

/** A manual clock: `advance` runs the timers that fall due, in order. */
class FakeClock implements IThrottleClock {
  time = 1000;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { at: this.time + ms, callback };
    this._timers.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this._timers = this._timers.filter(timer => timer !== handle);
  }

  get timers(): number {
    return this._timers.length;
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this._timers
        .filter(timer => timer.at <= end)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) {
        break;
      }
      this._timers = this._timers.filter(timer => timer !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = end;
  }

  private _timers: { at: number; callback: () => void }[] = [];
}

/** Let settled promises run their callbacks. */
const flush = () => new Promise<void>(resolve => setTimeout(resolve, 0));

describe('LatestThrottle', () => {
  let clock: FakeClock;
  let rendered: string[];
  let throttle: LatestThrottle<string>;

  beforeEach(() => {
    clock = new FakeClock();
    rendered = [];
    throttle = new LatestThrottle(
      value => {
        rendered.push(value);
      },
      250,
      clock
    );
  });

  it('renders the first value at once', () => {
    throttle.update('a');
    expect(rendered).toEqual(['a']);
  });

  it('coalesces updates within the interval into one render of the latest', async () => {
    throttle.update('a');
    await flush();
    clock.advance(50);
    throttle.update('ab');
    throttle.update('abc');
    clock.advance(100);
    throttle.update('abcd');
    expect(rendered).toEqual(['a']);
    expect(clock.timers).toBe(1);
    clock.advance(99); // 249 ms after the first render
    expect(rendered).toEqual(['a']);
    clock.advance(1);
    expect(rendered).toEqual(['a', 'abcd']);
    await flush();
    expect(throttle.isPending).toBe(false);
  });

  it('renders at most once per interval under a steady stream', async () => {
    let text = '';
    for (let tick = 0; tick < 100; tick++) {
      text += 'x';
      throttle.update(text);
      clock.advance(10); // 1 s of deltas every 10 ms
      await flush();
    }
    clock.advance(250);
    await flush();
    expect(rendered.length).toBeLessThanOrEqual(5);
    expect(rendered.length).toBeGreaterThanOrEqual(4);
    expect(rendered[rendered.length - 1]).toBe(text); // the last value always renders
  });

  it('renders again at once when the interval has passed', async () => {
    throttle.update('a');
    await flush();
    clock.advance(300);
    throttle.update('ab');
    expect(rendered).toEqual(['a', 'ab']);
  });

  it('waits for a slow render before the next, then renders the latest', async () => {
    const finish: (() => void)[] = [];
    const slow = new LatestThrottle<string>(
      value =>
        new Promise<void>(resolve => {
          rendered.push(value);
          finish.push(resolve);
        }),
      250,
      clock
    );
    slow.update('a');
    slow.update('ab');
    clock.advance(1000);
    slow.update('abc');
    clock.advance(1000);
    expect(rendered).toEqual(['a']); // still rendering 'a'
    expect(slow.isPending).toBe(true);
    finish[0]();
    await flush();
    expect(rendered).toEqual(['a', 'abc']);
    finish[1]();
    await flush();
    expect(slow.isPending).toBe(false);
    expect(clock.timers).toBe(0);
  });

  it('goes on after a render fails', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    let calls = 0;
    const failing = new LatestThrottle<string>(
      value => {
        calls += 1;
        if (value === 'bad') {
          return Promise.reject(new Error('boom'));
        }
        rendered.push(value);
        return Promise.resolve();
      },
      250,
      clock
    );
    failing.update('bad');
    await flush();
    failing.update('good');
    clock.advance(250);
    expect(calls).toBe(2);
    expect(rendered).toEqual(['good']);
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });

  it('renders nothing after dispose', async () => {
    throttle.update('a');
    await flush();
    throttle.update('ab');
    throttle.dispose();
    expect(clock.timers).toBe(0);
    clock.advance(1000);
    throttle.update('abc');
    expect(rendered).toEqual(['a']);
    expect(throttle.isDisposed).toBe(true);
    expect(throttle.isPending).toBe(false);
  });
});
