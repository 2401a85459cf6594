import { footerText, parseTurn, renderTurn, TURN_MIME_TYPE } from '../turn';

const HOSTILE = '<img src=x onerror="window.__xss=1"> **bold**';

describe('parseTurn', () => {
  it('keeps the known fields of a valid record', () => {
    const turn = parseTurn({
      answer: 'hi',
      reasoning: 'think',
      model: 'kimi-k2.6',
      usage: { total_tokens: 12, prompt_tokens: 'x' },
      session: 'default'
    });
    expect(turn).toEqual({
      answer: 'hi',
      reasoning: 'think',
      model: 'kimi-k2.6',
      usage: { total_tokens: 12 }
    });
  });

  it.each([null, 'text', 42, {}, { answer: 3 }])('rejects %p', data => {
    expect(parseTurn(data)).toBeNull();
  });
});

describe('footerText', () => {
  it('joins model and total tokens', () => {
    expect(
      footerText({ answer: '', model: 'kimi-k2.6', usage: { total_tokens: 7 } })
    ).toBe('kimi-k2.6 · 7 tokens');
  });

  it('is empty without model or usage', () => {
    expect(footerText({ answer: 'a' })).toBe('');
  });
});

describe('renderTurn', () => {
  it('renders the answer as literal text, never as HTML', () => {
    const host = document.createElement('div');
    renderTurn(host, { answer: HOSTILE });
    const pre = host.querySelector('pre.jp-KimiTurn-answer');
    expect(pre?.textContent).toBe(HOSTILE);
    expect(host.querySelector('img')).toBeNull();
    expect(host.querySelector('.jp-KimiTurn-footer')).toBeNull();
  });

  it('replaces earlier content and adds a footer', () => {
    const host = document.createElement('div');
    host.innerHTML = '<p>old</p>';
    renderTurn(host, { answer: 'new', model: 'kimi-k2.6' });
    expect(host.querySelector('p')).toBeNull();
    expect(host.querySelector('.jp-KimiTurn-footer')?.textContent).toBe(
      'kimi-k2.6'
    );
  });

  it('shows a notice for a malformed record', () => {
    const host = document.createElement('div');
    renderTurn(host, { nope: true });
    expect(host.textContent).toBe('Invalid Kimi turn record');
  });

  it('translates the notice', () => {
    const host = document.createElement('div');
    renderTurn(host, null, { __: msgid => `[${msgid}]` });
    expect(host.textContent).toBe('[Invalid Kimi turn record]');
  });

  it('names the Kimi turn MIME type', () => {
    expect(TURN_MIME_TYPE).toBe('application/vnd.kimi.turn+json');
  });
});
