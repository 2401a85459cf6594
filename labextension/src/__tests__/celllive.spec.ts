import { announceLiveView, LIVE_METADATA_KEY } from '../cellliveplugin';
import { LiveTurnState, parseLiveMessage } from '../celllivestate';

describe('parseLiveMessage', () => {
  it('keeps only keys of the right type', () => {
    expect(
      parseLiveMessage({
        answer: 'a',
        thinking: 3,
        tokens: 7,
        reasoning: -1,
        phase: 'answering',
        note: null,
        end: { x: 1 },
        extra: 'ignored'
      })
    ).toEqual({ answer: 'a', tokens: 7, phase: 'answering', note: null });
    expect(parseLiveMessage('stop')).toEqual({});
    expect(parseLiveMessage(null)).toEqual({});
    expect(parseLiveMessage({ tokens: Infinity })).toEqual({});
  });
});

describe('LiveTurnState', () => {
  it('appends the text of each message and counts as the kernel counts', () => {
    const state = new LiveTurnState(0);
    expect(
      state.apply(
        { thinking: 'hm', reasoning: 1, tokens: 1, phase: 'thinking' },
        1000
      )
    ).toBe(true);
    expect(state.apply({ thinking: 'm', reasoning: 2, tokens: 2 }, 2000)).toBe(
      true
    );
    expect(
      state.apply({ answer: 'Hi', tokens: 3, phase: 'answering' }, 3000)
    ).toBe(true);
    expect(state.apply({ answer: ' there', tokens: 4 }, 3500)).toBe(true);
    expect(state.thinking).toBe('hmm');
    expect(state.answer).toBe('Hi there');
    expect(state.thinkingTitle(9000)).toBe('Thinking · 2.0 s · 2 tokens');
    expect(state.statusText(4000)).toBe(
      'answering · 4.0 s · 4 tokens · 1 tok/s'
    );
    expect(state.apply({ bogus: true }, 5000)).toBe(false);
  });

  it('shows a one-off notice until the next text, and a note throughout', () => {
    const state = new LiveTurnState(0);
    state.apply({ note: '@df left as text' }, 0);
    state.apply({ notice: 'retrying in 2.0 s: HTTP 503' }, 500);
    expect(state.statusText(1000)).toBe('retrying in 2.0 s: HTTP 503');
    state.apply({ answer: 'ok', tokens: 1, phase: 'answering' }, 1000);
    expect(state.statusText(2000)).toBe(
      'answering · 2.0 s · 1 tokens · 1 tok/s · @df left as text'
    );
  });

  it('ends with the phase it is given and stops counting the rate', () => {
    const state = new LiveTurnState(0);
    state.apply({ answer: 'x', tokens: 5, phase: 'answering' }, 1000);
    state.apply({ phase: 'stopped' }, 2000);
    state.apply({ end: 'stopped' }, 2000);
    expect(state.ended).toBe('stopped');
    expect(state.statusText(3000)).toBe('stopped · 3.0 s · 5 tokens');
  });
});

describe('announceLiveView', () => {
  it("adds the live line to every execute request's metadata, once", () => {
    const calls: unknown[][] = [];
    const kernel = {
      requestExecute: (...args: unknown[]) => {
        calls.push(args);
        return 'future';
      }
    };
    announceLiveView(kernel as any);
    announceLiveView(kernel as any); // again: not wrapped twice
    const result = kernel.requestExecute({ code: '1' }, false, {
      cellId: 'c1'
    });
    kernel.requestExecute({ code: '2' });
    expect(result).toBe('future');
    expect(calls[0]).toEqual([
      { code: '1' },
      false,
      { cellId: 'c1', [LIVE_METADATA_KEY]: { live: 1 } }
    ]);
    expect(calls[1][2]).toEqual({ [LIVE_METADATA_KEY]: { live: 1 } });
  });

  it('leaves no kernel at all alone', () => {
    expect(() => announceLiveView(null)).not.toThrow();
  });
});
