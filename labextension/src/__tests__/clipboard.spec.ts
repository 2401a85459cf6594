import {
  addCodeCopyButtons,
  codeText,
  copyText,
  createCopyButton,
  FEEDBACK_MS
} from '../clipboard';

function setClipboard(writeText?: (text: string) => Promise<void>): void {
  Object.defineProperty(navigator, 'clipboard', {
    configurable: true,
    value: writeText ? { writeText } : undefined
  });
}

function setExecCommand(result: boolean | Error): jest.Mock {
  const exec = jest.fn(() => {
    if (result instanceof Error) {
      throw result;
    }
    return result;
  });
  Object.defineProperty(document, 'execCommand', {
    configurable: true,
    value: exec
  });
  return exec;
}

afterEach(() => {
  setClipboard(undefined);
  jest.useRealTimers();
});

describe('copyText', () => {
  it('uses the Clipboard API when it works', async () => {
    const writeText = jest.fn(() => Promise.resolve());
    setClipboard(writeText);
    const exec = setExecCommand(true);
    await expect(copyText('hello')).resolves.toBe(true);
    expect(writeText).toHaveBeenCalledWith('hello');
    expect(exec).not.toHaveBeenCalled();
  });

  it('falls back to a textarea when the Clipboard API refuses', async () => {
    setClipboard(() => Promise.reject(new Error('denied')));
    const focused = document.createElement('input');
    document.body.appendChild(focused);
    focused.focus();
    let copied = '';
    const exec = jest.fn(() => {
      copied = (document.activeElement as HTMLTextAreaElement).value;
      return true;
    });
    Object.defineProperty(document, 'execCommand', {
      configurable: true,
      value: exec
    });
    await expect(copyText('fallback')).resolves.toBe(true);
    expect(exec).toHaveBeenCalledWith('copy');
    expect(copied).toBe('fallback');
    expect(document.querySelector('textarea')).toBeNull();
    expect(document.activeElement).toBe(focused);
    focused.remove();
  });

  it('reports failure when nothing can copy', async () => {
    setExecCommand(new Error('unsupported'));
    await expect(copyText('x')).resolves.toBe(false);
    setExecCommand(false);
    await expect(copyText('x')).resolves.toBe(false);
  });
});

describe('createCopyButton', () => {
  it('is a labelled button that copies and says so for a moment', async () => {
    jest.useFakeTimers();
    const copy = jest.fn(() => Promise.resolve(true));
    const button = createCopyButton(document, {
      ariaLabel: 'Copy answer',
      className: 'extra',
      text: () => 'the text',
      copy
    });
    expect(button.type).toBe('button');
    expect(button.className).toBe('jp-KimiTurn-copy extra');
    expect(button.getAttribute('aria-label')).toBe('Copy answer');
    expect(button.textContent).toBe('Copy');
    button.click();
    await Promise.resolve();
    await Promise.resolve();
    expect(copy).toHaveBeenCalledWith('the text');
    expect(button.textContent).toBe('Copied');
    expect(button.dataset.feedback).toBe('copied'); // the panel's icon shows a tick
    jest.advanceTimersByTime(FEEDBACK_MS);
    expect(button.textContent).toBe('Copy');
    expect(button.dataset.feedback).toBeUndefined();
  });

  it('says when copying failed', async () => {
    const button = createCopyButton(document, {
      ariaLabel: 'Copy',
      text: () => 'x',
      copy: () => Promise.resolve(false)
    });
    button.click();
    await Promise.resolve();
    await Promise.resolve();
    expect(button.textContent).toBe('Copy failed');
    expect(button.dataset.feedback).toBe('failed');
  });
});

describe('addCodeCopyButtons', () => {
  function rendered(): HTMLElement {
    const host = document.createElement('div');
    host.innerHTML =
      '<h1>T</h1><pre><code class="language-python">x = 1\nprint(x)\n</code></pre>' +
      '<p>and</p><pre><code>echo hi</code></pre>';
    return host;
  }

  it('wraps each block and adds a button outside the <pre>', () => {
    const host = rendered();
    expect(addCodeCopyButtons(host)).toBe(2);
    const blocks = host.querySelectorAll('div.jp-KimiTurn-codeBlock');
    expect(blocks).toHaveLength(2);
    for (const block of Array.from(blocks)) {
      expect(block.children[0].tagName).toBe('PRE');
      const button = block.children[1] as HTMLButtonElement;
      expect(button.tagName).toBe('BUTTON');
      expect(button.classList.contains('jp-KimiTurn-copyCode')).toBe(true);
      expect(button.getAttribute('aria-label')).toBe('Copy code');
      expect(block.querySelector('pre button')).toBeNull();
    }
    expect(host.children[0].tagName).toBe('H1');
    expect(host.children[2].tagName).toBe('P');
  });

  it('copies the text of its own block', async () => {
    const host = rendered();
    const copy = jest.fn(() => Promise.resolve(true));
    addCodeCopyButtons(host, undefined, copy);
    host
      .querySelectorAll<HTMLButtonElement>('.jp-KimiTurn-copyCode')[0]
      .click();
    await Promise.resolve();
    expect(copy).toHaveBeenCalledWith('x = 1\nprint(x)');
  });

  it('does not add a second button', () => {
    const host = rendered();
    addCodeCopyButtons(host);
    expect(addCodeCopyButtons(host)).toBe(0);
    expect(host.querySelectorAll('button')).toHaveLength(2);
  });

  it('translates the label', () => {
    const host = rendered();
    addCodeCopyButtons(host, { __: msgid => `[${msgid}]` });
    const button = host.querySelector('button');
    expect(button?.getAttribute('aria-label')).toBe('[Copy code]');
    expect(button?.textContent).toBe('[Copy]');
  });

  it('copies code without bidi controls and says so in the title and under the block', async () => {
    const host = document.createElement('div');
    host.innerHTML =
      '<pre><code>if a != "x\u202e \u2066# ok\u2069":\n</code></pre><pre><code>y</code></pre>';
    const copy = jest.fn(() => Promise.resolve(true));
    addCodeCopyButtons(host, undefined, copy);
    const [hostile, plain] = Array.from(
      host.querySelectorAll<HTMLButtonElement>('.jp-KimiTurn-copyCode')
    );
    expect(hostile.title).toBe(
      'Copy code (Removed 3 invisible direction-changing characters)'
    );
    expect(plain.title).toBe('Copy code');
    const notices = host.querySelectorAll('.jp-KimiTurn-bidiNotice');
    expect(Array.from(notices, n => n.textContent)).toEqual([
      'Removed 3 invisible direction-changing characters'
    ]);
    hostile.click();
    await Promise.resolve();
    expect(copy).toHaveBeenCalledWith('if a != "x # ok":');
  });

  it('strips one trailing newline only', () => {
    const pre = document.createElement('pre');
    pre.textContent = 'a\n\n';
    expect(codeText(pre)).toBe('a\n');
  });
});
