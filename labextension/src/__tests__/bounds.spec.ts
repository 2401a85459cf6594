/**
 * The Markdown budget: every shape it lets through renders in JupyterLab's pipeline
 * (math pre-pass + marked) in well under a second, the corpus's pathological sizes are
 * held back, and the plain view of each is linear. Times are generous: this machine is
 * shared, and what they guard against took 5 to 100 seconds.
 */
import {
  fitsMarkdownBudget,
  MARKDOWN_BUDGET,
  markdownCost,
  plainAnswer
} from '../bounds';
import { loadCorpus } from './corpus';
import { createMarkedParser, jupyterMarkdownHtml } from './jupyterMarkdown';

function repeat(unit: string, chars: number): string {
  return unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
}

async function pipelineMs(text: string): Promise<number> {
  const start = performance.now();
  try {
    await jupyterMarkdownHtml(text, createMarkedParser());
  } catch {
    // Marked's stack overflow on deep nesting is also a way to fail; time is what counts.
  }
  return performance.now() - start;
}

function timed<T>(run: () => T): [T, number] {
  const start = performance.now();
  const value = run();
  return [value, performance.now() - start];
}

const REALISTIC = [
  '# Analysis\n\nThe **mean** is $\\mu = 3.2$ and `df.describe()` shows it.\n',
  '| col | value |\n|---|---|\n' + '| a_b | `x*y` |\n'.repeat(200),
  '```python\n' +
    'def f(*args, **kwargs):\n    return a_b * c_d\n'.repeat(300) +
    '```\n',
  'Some prose with [a link](https://example.com) and *emphasis*.\n\n'.repeat(
    400
  )
].join('\n');

/** Shapes that are slow in one stage or another when large enough. */
const UNITS = [
  '`',
  '` ',
  '`a``b```c',
  '```x\n',
  '~~~x\n',
  '**a ',
  '__a ',
  '*a',
  '_a',
  '~~a ',
  '[a](',
  '[',
  '![',
  '> ',
  '- ',
  '1. ',
  '> - ',
  'http://a.b ',
  '$a$ ',
  '\\(',
  '<',
  '&#',
  '|a',
  '*.',
  '!',
  'a@b.c ',
  'www.a.b ',
  '=\n',
  '-\n',
  'a\n',
  'a\n\n',
  '- a\n\n',
  '* * *\n\n',
  'x\n===\n\n',
  '> > x\n\n',
  '###### a\n',
  '1. a\n\n',
  '1. a\n   ```\n**a **a\n',
  '- a\n```\n**a **a **a\n'
];

describe('markdownCost', () => {
  it('measures each kind of work', () => {
    const cost = markdownCost('a `b` ``c``\n```x\n**a** _b_\n\n> > q $x$');
    expect(cost.chars).toBe(37);
    expect(cost.tokens).toBe(5 + 2 + 6);
    expect(cost.backticks).toBe(6 * 2 * 11 + 3 * 3 * 4);
    expect(cost.fences).toBe(37);
    // The fence opened on line 2 is never closed: what follows is code.
    expect(cost.delimiters).toBe((6 + 1) ** 2);
    expect(cost.math).toBe(2);
    expect(cost.nesting).toBe(2);
  });

  it('counts a paragraph through lines with only NBSP (the parser does not end it there)', () => {
    const joined = markdownCost('**a **a\n\u00a0\n**a **a').delimiters;
    const split = markdownCost('**a **a\n\n**a **a').delimiters;
    expect(joined).toBe((8 + 3) ** 2);
    expect(split).toBe(2 * 5 * 5);
  });

  it('takes linear time on a megabyte', () => {
    const [, ms] = timed(() => markdownCost(repeat('`a*[<$ \n', 1_000_000)));
    expect(ms).toBeLessThan(1000);
  });
});

describe('fitsMarkdownBudget', () => {
  it('lets a long realistic answer through', () => {
    expect(REALISTIC.length).toBeGreaterThan(30_000);
    expect(fitsMarkdownBudget(REALISTIC)).toBe(true);
  });

  it('holds back each size of the corpus unless the pipeline renders it fast', async () => {
    for (const vector of loadCorpus('size')) {
      const [fits, ms] = timed(() => fitsMarkdownBudget(vector.text));
      expect(ms).toBeLessThan(500);
      if (fits) {
        expect([vector.id, (await pipelineMs(vector.text)) < 1500]).toEqual([
          vector.id,
          true
        ]);
      }
    }
  });

  it.each(UNITS)(
    'lets %p through only at sizes the pipeline renders fast',
    async unit => {
      for (const chars of [2_000, 8_000, 32_000, MARKDOWN_BUDGET.chars]) {
        const text = repeat(unit, chars);
        if (fitsMarkdownBudget(text)) {
          expect([chars, (await pipelineMs(text)) < 1500]).toEqual([
            chars,
            true
          ]);
        }
      }
    },
    60_000
  );

  it('holds back 8,000 backticks, which took the pipeline minutes', async () => {
    const text = '`'.repeat(8000);
    expect(fitsMarkdownBudget(text)).toBe(false);
    // The pipeline is cubic in the run: 1,000 backticks already take a noticeable time.
    expect(fitsMarkdownBudget('`'.repeat(1000))).toBe(false);
    expect(fitsMarkdownBudget('`'.repeat(100))).toBe(true);
  });
});

describe('plainAnswer', () => {
  it('shows text as text and top-level fenced code as code blocks', () => {
    const fragment = plainAnswer(
      document,
      'Intro <img src=x onerror=alert(1)>\n\n```python\nx = 1\n```\nmore\n~~~\nopen'
    );
    const host = document.createElement('div');
    host.appendChild(fragment);
    expect(
      Array.from(host.children, child => [
        child.localName,
        child.className || child.firstElementChild?.className || '',
        child.textContent
      ])
    ).toEqual([
      ['pre', 'jp-KimiTurn-plainText', 'Intro <img src=x onerror=alert(1)>\n'],
      ['pre', 'language-python', 'x = 1'],
      ['pre', 'jp-KimiTurn-plainText', 'more'],
      ['pre', '', 'open']
    ]);
    expect(host.querySelector('img')).toBeNull();
  });

  it('shows a fence line that opens nothing as text (8,000 backticks are not empty)', () => {
    const host = document.createElement('div');
    host.appendChild(plainAnswer(document, `${'`'.repeat(8000)} tail`));
    expect(host.querySelector('code')).toBeNull();
    expect(host.textContent).toBe(`${'`'.repeat(8000)} tail`);
  });

  it('sanitises the language class and keeps CRLF fences', () => {
    const host = document.createElement('div');
    host.appendChild(plainAnswer(document, '```py"><x\r\ncode\r\n```\r\n'));
    expect(host.querySelector('code')?.className).toBe('language-pyx');
    expect(host.querySelector('code')?.textContent).toBe('code');
    expect(host.querySelector('pre.jp-KimiTurn-plainText')).toBeNull();
  });

  it('is linear on every size of the corpus', () => {
    for (const vector of loadCorpus('size')) {
      const [fragment, ms] = timed(() => plainAnswer(document, vector.text));
      expect(fragment.textContent?.length).toBeGreaterThan(0);
      expect([vector.id, ms < 1500]).toEqual([vector.id, true]);
    }
  });
});
