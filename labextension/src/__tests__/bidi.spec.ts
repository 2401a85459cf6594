import {
  BIDI_MARK_CLASS,
  bidiNotice,
  labelWithNotice,
  markBidi,
  stripBidi
} from '../bidi';

const RLO = '\u202e';
const LRI = '\u2066';
const PDI = '\u2069';

describe('stripBidi', () => {
  it('removes the nine controls and counts them', () => {
    const all = '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069';
    expect(stripBidi(`a${all}b`)).toEqual({ text: 'ab', removed: 9 });
    expect(stripBidi('plain \u200e\u200f text')).toEqual({
      text: 'plain \u200e\u200f text',
      removed: 0
    });
  });
});

describe('bidiNotice and labelWithNotice', () => {
  it('say how many were removed, and nothing when none were', () => {
    expect(bidiNotice(0)).toBe('');
    expect(bidiNotice(1)).toBe(
      'Removed 1 invisible direction-changing character'
    );
    expect(bidiNotice(3)).toBe(
      'Removed 3 invisible direction-changing characters'
    );
    expect(labelWithNotice('Copy code', `a${RLO}b`)).toBe(
      'Copy code (Removed 1 invisible direction-changing character)'
    );
    expect(labelWithNotice('Copy code', 'ab')).toBe('Copy code');
  });
});

describe('markBidi', () => {
  it('wraps each control in a named mark and keeps the text', () => {
    const root = document.createElement('div');
    root.innerHTML = `<pre><code>if x != "none${RLO} ${LRI}# admin${PDI}":</code></pre><p>ok</p>`;
    expect(markBidi(root)).toBe(3);
    const marks = Array.from(root.querySelectorAll(`.${BIDI_MARK_CLASS}`));
    expect(marks.map(mark => (mark as HTMLElement).dataset.bidi)).toEqual([
      'RLO',
      'LRI',
      'PDI'
    ]);
    expect(marks[0].getAttribute('title')).toBe(
      'U+202E (RLO): an invisible character that changes the direction of text'
    );
    expect(root.querySelector('code')?.textContent).toBe(
      `if x != "none${RLO} ${LRI}# admin${PDI}":`
    );
    expect(markBidi(root)).toBe(0); // marks are not marked again
  });
});
