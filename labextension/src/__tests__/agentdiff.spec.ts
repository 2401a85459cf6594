import { diffLines, diffRows, renderDiff } from '../agent/diffview';

const lines = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => `line ${i + from}`);

const texts = (root: HTMLElement, kind: string) =>
  Array.from(
    root.querySelectorAll(`.jp-KimiDiff-${kind} .jp-KimiDiff-text`)
  ).map(node => node.textContent);

describe('diffLines', () => {
  it('numbers the old and new lines of each change', () => {
    expect(diffLines('a\nb\nc', 'a\nB\nc\nd')).toEqual([
      { kind: 'context', text: 'a', oldNumber: 1, newNumber: 1 },
      { kind: 'removed', text: 'b', oldNumber: 2, newNumber: null },
      { kind: 'added', text: 'B', oldNumber: null, newNumber: 2 },
      { kind: 'context', text: 'c', oldNumber: 3, newNumber: 3 },
      { kind: 'added', text: 'd', oldNumber: null, newNumber: 4 }
    ]);
  });

  it('shows a new final newline as an added empty line', () => {
    expect(diffLines('a', 'a\n').map(line => [line.kind, line.text])).toEqual([
      ['context', 'a'],
      ['added', '']
    ]);
  });
});

describe('diffRows', () => {
  it('folds long unchanged runs, keeping three lines next to each change', () => {
    const old = lines(20).join('\n');
    const changed = lines(20).map((line, i) => (i === 9 ? 'changed' : line));
    const rows = diffRows(old, changed.join('\n'));
    const shape = rows.map(row =>
      row.kind === 'fold'
        ? `fold ${row.lines.length}`
        : `${row.kind} ${row.text}`
    );
    expect(shape).toEqual([
      'fold 6',
      'context line 7',
      'context line 8',
      'context line 9',
      'removed line 10',
      'added changed',
      'context line 11',
      'context line 12',
      'context line 13',
      'fold 7'
    ]);
  });

  it('does not fold a run that is short anyway', () => {
    const old = ['x', ...lines(7), 'y'].join('\n');
    const rows = diffRows(old, ['X', ...lines(7), 'Y'].join('\n'));
    expect(rows.some(row => row.kind === 'fold')).toBe(false);
  });
});

describe('renderDiff', () => {
  it('renders added, removed and context lines with their classes', () => {
    const root = renderDiff('keep\nold line', 'keep\nnew line\nmore');
    expect(texts(root, 'removed')).toEqual(['old line']);
    expect(texts(root, 'added')).toEqual(['new line', 'more']);
    expect(texts(root, 'context')).toEqual(['keep']);
    expect(root.querySelector('.jp-KimiDiff-summary')?.textContent).toBe(
      '+2 added, −1 removed'
    );
    const signs = Array.from(root.querySelectorAll('.jp-KimiDiff-sign')).map(
      node => node.textContent
    );
    expect(signs).toEqual([' ', '-', '+', '+']);
  });

  it('keeps hostile text as text: no element is created from it', () => {
    const hostile = [
      '<img src=x onerror=alert(1)>',
      '<script>alert(1)</script>',
      '</div><a href="javascript:alert(1)">x</a>'
    ];
    const root = renderDiff('print(1)', hostile.join('\n'));
    expect(root.querySelector('img, script, a, iframe')).toBeNull();
    expect(texts(root, 'added')).toEqual(hostile);
    expect(root.innerHTML).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('unfolds a fold in place when clicked', () => {
    const old = lines(12).join('\n');
    const root = renderDiff(old, `${old}\nlast`);
    const fold = root.querySelector<HTMLButtonElement>('.jp-KimiDiff-fold')!;
    expect(fold.textContent).toBe('⋯ 9 unchanged lines');
    expect(texts(root, 'context')).toEqual(['line 10', 'line 11', 'line 12']);
    fold.click();
    expect(root.querySelector('.jp-KimiDiff-fold')).toBeNull();
    expect(texts(root, 'context')).toEqual(lines(12));
  });

  it('says when nothing changed, and marks bidi controls', () => {
    expect(
      renderDiff('a', 'a').querySelector('.jp-KimiDiff-summary')?.textContent
    ).toBe('No changes');
    const root = renderDiff('x', 'x = "\u202eevil"');
    expect(
      root.querySelector('.jp-KimiTurn-bidi')?.getAttribute('data-bidi')
    ).toBe('RLO');
  });
});
