import { handleChatKey, installChatKeys, SEND_MARK } from '../chatkeys';

function chat(): {
  root: HTMLElement;
  textarea: HTMLTextAreaElement;
  box: HTMLInputElement;
  sends: () => number;
} {
  document.body.innerHTML = `
    <div class="kimi-chat">
      <div class="kimi-chat-input"><textarea></textarea></div>
      <div class="kimi-chat-enter"><input type="checkbox" checked></div>
      <button class="kimi-chat-send">Send</button>
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

describe('chat keys', () => {
  it('sends on Enter, swallows the key and switches the fallback off', () => {
    const { textarea, box, sends } = chat();
    textarea.value = 'two\nlines';
    const event = key({});
    textarea.dispatchEvent(event);
    expect(sends()).toBe(0); // not installed yet
    const undo = installChatKeys(window);
    const again = key({});
    textarea.dispatchEvent(again);
    undo();
    expect(sends()).toBe(1);
    expect(textarea.value).toBe(`two\nlines${SEND_MARK}`);
    expect(again.defaultPrevented).toBe(true);
    expect(box.checked).toBe(false);
    expect(box.parentElement!.style.display).toBe('none');
  });

  it('leaves Shift+Enter to the textarea (a new line), yet takes over the fallback', () => {
    const { textarea, box, sends } = chat();
    const event = key({ shiftKey: true });
    Object.defineProperty(event, 'target', { value: textarea });
    const stop = jest.spyOn(event, 'stopPropagation');
    expect(handleChatKey(event)).toBe(false);
    expect(event.defaultPrevented).toBe(false);
    expect(stop).toHaveBeenCalled(); // no notebook shortcut (Notebook 7 would run the cell)
    expect(sends()).toBe(0);
    expect(box.checked).toBe(false);
  });

  it('ignores other keys, IME composition and textareas outside a chat', () => {
    const { textarea, sends } = chat();
    const other = document.querySelector<HTMLTextAreaElement>('.elsewhere')!;
    for (const [target, init] of [
      [textarea, { key: 'a' }],
      [textarea, { isComposing: true }],
      [other, {}]
    ] as const) {
      const event = key(init);
      Object.defineProperty(event, 'target', { value: target });
      expect(handleChatKey(event)).toBe(false);
      expect(event.defaultPrevented).toBe(false);
    }
    expect(sends()).toBe(0);
  });

  it('unticks the fallback only once', () => {
    const { textarea, box } = chat();
    for (let i = 0; i < 2; i++) {
      const event = key({ shiftKey: true });
      Object.defineProperty(event, 'target', { value: textarea });
      handleChatKey(event);
    }
    expect(box.checked).toBe(false);
  });
});
