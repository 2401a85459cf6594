import { addCodeCopyButtons } from '../clipboard';
import {
  codeToInsert,
  lastAnswer,
  lastCodeBlock,
  LastFocus
} from '../lastanswer';

/** A rendered answer (`.jp-KimiTurn-answer`) whose code blocks are wrapped as in a turn. */
function answer(html: string, extraClass = ''): HTMLElement {
  const node = document.createElement('div');
  node.className = `jp-KimiTurn-answer ${extraClass}`.trim();
  node.innerHTML = html;
  addCodeCopyButtons(node);
  return node;
}

function host(...children: HTMLElement[]): HTMLElement {
  const node = document.createElement('div');
  node.append(...children);
  return node;
}

const TWO_BLOCKS =
  '<pre><code>import math\n</code></pre><p>or</p><pre><code>echo hi\n</code></pre>';

describe('lastAnswer and lastCodeBlock', () => {
  it('takes the last code block of the last answer', () => {
    const root = host(
      answer('<pre><code>old()</code></pre>'),
      answer(TWO_BLOCKS)
    );
    expect(lastCodeBlock(lastAnswer(root)!)).toBe('echo hi');
    expect(codeToInsert([root])).toBe('echo hi');
  });

  it('skips answers still streaming, in the panel and in cells', () => {
    const panelLive = document.createElement('div');
    panelLive.className = 'jp-KimiChat-live';
    panelLive.appendChild(answer('<pre><code>half(</code></pre>'));
    const cellLive = document.createElement('div');
    cellLive.className = 'jp-KimiTurn jp-KimiLive';
    cellLive.appendChild(answer('<pre><code>half(</code></pre>'));
    const done = answer('<pre><code>done()</code></pre>');
    expect(codeToInsert([host(done, panelLive, cellLive)])).toBe('done()');
  });

  it('has nothing when the last answer has no code (an earlier one is not used)', () => {
    const root = host(answer(TWO_BLOCKS), answer('<p>No code here.</p>'));
    expect(lastAnswer(root)).not.toBeNull();
    expect(codeToInsert([root])).toBeNull();
    expect(codeToInsert([host(answer('<pre><code>  \n</code></pre>'))])).toBe(
      null
    );
  });

  it('takes the first root with an answer, and strips bidi controls', () => {
    const empty = host();
    const other = host(answer('<pre><code>a = "\u202e1"</code></pre>'));
    expect(codeToInsert([null, empty, other])).toBe('a = "1"');
    expect(codeToInsert([undefined, empty])).toBeNull();
    expect(codeToInsert([])).toBeNull();
  });
});

describe('LastFocus', () => {
  it('tells whether the panel or a notebook was used last', () => {
    document.body.innerHTML = `
      <div id="panel"><textarea></textarea><p>text</p></div>
      <div class="jp-Notebook"><div class="cell" tabindex="0"></div></div>
      <input class="palette">`;
    const panel = document.getElementById('panel')!;
    const focus = new LastFocus(document, () => panel);
    const cell = document.querySelector<HTMLElement>('.cell')!;
    expect(focus.inPanel).toBe(false);
    panel.querySelector('textarea')!.focus();
    expect(focus.inPanel).toBe(true);
    document.querySelector<HTMLInputElement>('.palette')!.focus();
    expect(focus.inPanel).toBe(true); // the palette is neither
    cell.focus();
    expect(focus.inPanel).toBe(false);
    panel
      .querySelector('p')!
      .dispatchEvent(new Event('pointerdown', { bubbles: true }));
    expect(focus.inPanel).toBe(true);
    focus.dispose();
    cell.focus();
    expect(focus.inPanel).toBe(true);
    document.body.replaceChildren();
  });
});
