import {
  handleChatKey,
  installChatKeys,
  SEND_MARK,
  takeOverKeys
} from '../chatkeys';

/** A chat widget's DOM as ipywidgets draws it; `keys: false` is an older widget. */
function chat({ keys = true } = {}): {
  root: HTMLElement;
  textarea: HTMLTextAreaElement;
  box: HTMLInputElement;
  keysBox: HTMLInputElement | null;
  sends: () => number;
} {
  const keysHtml = keys
    ? '<div class="kimi-chat-keys" style="display: none"><input type="checkbox"></div>'
    : '';
  document.body.innerHTML = `
    <div class="kimi-chat">
      <div class="kimi-chat-input"><textarea></textarea></div>
      <div class="kimi-chat-enter"><input type="checkbox" checked></div>
      <button class="kimi-chat-send">Send</button>
      ${keysHtml}
    </div>
    <textarea class="elsewhere"></textarea>`;
  const textarea = document.querySelector<HTMLTextAreaElement>(
    '.kimi-chat-input textarea'
  )!;
  const values: string[] = []; // what ipywidgets' input handler would sync
  textarea.addEventListener('input', () => values.push(textarea.value));
  return {
    root: document.querySelector('.kimi-chat')!,
    textarea,
    box: document.querySelector('.kimi-chat-enter input')!,
    keysBox: document.querySelector('.kimi-chat-keys input'),
    sends: () => values.filter(value => value.endsWith(SEND_MARK)).length
  };
}

function key(init: KeyboardEventInit): KeyboardEvent {
  return new KeyboardEvent('keydown', {
    key: 'Enter',
    bubbles: true,
    cancelable: true,
    ...init
  });
}

/** `handleChatKey` on a key aimed at `target`, and the event. */
function press(
  target: HTMLElement,
  init: KeyboardEventInit = {}
): { sent: boolean; event: KeyboardEvent } {
  const event = key(init);
  Object.defineProperty(event, 'target', { value: target });
  return { sent: handleChatKey(event), event };
}

describe('chat keys', () => {
  it('sends on Enter and swallows the key; "Enter sends" stays on screen', () => {
    const { textarea, box, keysBox, sends } = chat();
    textarea.value = 'two\nlines';
    textarea.dispatchEvent(key({}));
    expect(sends()).toBe(0); // not installed yet
    const undo = installChatKeys(window);
    const again = key({});
    textarea.dispatchEvent(again);
    undo();
    expect(sends()).toBe(1);
    expect(textarea.value).toBe(`two\nlines${SEND_MARK}`);
    expect(again.defaultPrevented).toBe(true);
    expect(keysBox!.checked).toBe(true); // the kernel leaves Enter to us
    expect(box.checked).toBe(true);
    expect(box.parentElement!.style.display).toBe('');
  });

  it('leaves Shift+Enter to the textarea (a new line), yet takes over the keys', () => {
    const { textarea, keysBox, sends } = chat();
    const event = key({ shiftKey: true });
    Object.defineProperty(event, 'target', { value: textarea });
    const stop = jest.spyOn(event, 'stopPropagation');
    expect(handleChatKey(event)).toBe(false);
    expect(event.defaultPrevented).toBe(false);
    expect(stop).toHaveBeenCalled(); // no notebook shortcut (Notebook 7 would run the cell)
    expect(sends()).toBe(0);
    expect(keysBox!.checked).toBe(true);
  });

  it('adds a line on Enter when "Enter sends" is unticked; Ctrl+Enter sends', () => {
    const { textarea, box, sends } = chat();
    box.click(); // the reader unticks "Enter sends"
    const enter = press(textarea);
    expect(enter.sent).toBe(false);
    expect(enter.event.defaultPrevented).toBe(false);
    expect(sends()).toBe(0);
    for (const init of [{ ctrlKey: true }, { metaKey: true }]) {
      const { sent, event } = press(textarea, init);
      expect(sent).toBe(true);
      expect(event.defaultPrevented).toBe(true);
    }
    expect(sends()).toBe(2);
    expect(box.checked).toBe(false); // the reader's choice is left alone
  });

  it('takes over as soon as the input has the focus', () => {
    const { textarea, keysBox } = chat();
    const clicks = jest.fn();
    keysBox!.addEventListener('click', clicks);
    const undo = installChatKeys(window);
    document.querySelector<HTMLTextAreaElement>('.elsewhere')!.focus();
    expect(keysBox!.checked).toBe(false);
    textarea.focus();
    textarea.blur();
    textarea.focus();
    undo();
    expect(keysBox!.checked).toBe(true);
    expect(clicks).toHaveBeenCalledTimes(1); // ticked once: one widget change
  });

  it('unticks and hides the fallback of a widget without the keys box', () => {
    const { root, textarea, box, sends } = chat({ keys: false });
    expect(press(textarea).sent).toBe(true);
    expect(box.checked).toBe(false);
    expect(box.parentElement!.style.display).toBe('none');
    expect(press(textarea).sent).toBe(true); // Enter still sends
    expect(sends()).toBe(2);
    expect(takeOverKeys(root)).toBe(true);
    expect(box.checked).toBe(false); // unticked only once
  });

  it('ignores other keys, IME composition and textareas outside a chat', () => {
    const { textarea, keysBox, sends } = chat();
    const other = document.querySelector<HTMLTextAreaElement>('.elsewhere')!;
    for (const [target, init] of [
      [textarea, { key: 'a' }],
      [textarea, { isComposing: true }],
      [other, {}]
    ] as const) {
      const { sent, event } = press(target, init);
      expect(sent).toBe(false);
      expect(event.defaultPrevented).toBe(false);
    }
    expect(sends()).toBe(0);
    expect(keysBox!.checked).toBe(false);
  });
});
