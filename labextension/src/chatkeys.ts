/**
 * Enter sends, Shift+Enter is a new line, in the notebook ChatWidget's input.
 *
 * The widget is built from ipywidgets core widgets (so it also runs where this extension
 * is absent), and a core Textarea reports only its text, never its keys. Where this
 * extension runs, it handles the keys instead: Enter appends `SEND_MARK` to the text, which
 * the kernel side takes as "send". A value change rather than a Send click, because
 * ipywidgets buffers value updates while one is in flight and a click could overtake the
 * last keystrokes. The widget's fallback ("send when the text gains a trailing newline") is
 * switched off by unticking its checkbox, an ordinary widget change.
 */

export const CHAT_CLASS = 'kimi-chat';
export const INPUT_CLASS = 'kimi-chat-input';
/** Must match `SEND_MARK` in kimi_jupyter/chat_widget.py (U+2063). */
export const SEND_MARK = '\u2063';
export const FALLBACK_CLASS = 'kimi-chat-enter';

/** Handle one keydown; true when it sent the message (and swallowed the key). */
export function handleChatKey(event: KeyboardEvent): boolean {
  if (event.key !== 'Enter' || event.isComposing) {
    return false;
  }
  const target = event.target;
  if (!(target instanceof HTMLTextAreaElement)) {
    return false;
  }
  const root = target.closest(`.${CHAT_CLASS}`);
  if (!root || !target.closest(`.${INPUT_CLASS}`)) {
    return false;
  }
  takeOverFallback(root);
  // Typing, not a notebook shortcut: Notebook 7 would run the cell on Shift+Enter.
  event.stopPropagation();
  if (event.shiftKey) {
    return false; // the textarea inserts the new line itself
  }
  event.preventDefault();
  target.value += SEND_MARK;
  target.dispatchEvent(new Event('input', { bubbles: true }));
  return true;
}

/** Untick and hide the widget's trailing-newline fallback: the keys are handled here. */
function takeOverFallback(root: Element): void {
  const holder = root.querySelector<HTMLElement>(`.${FALLBACK_CLASS}`);
  const box = holder?.querySelector<HTMLInputElement>('input[type="checkbox"]');
  if (box?.checked) {
    box.click();
  }
  if (holder) {
    holder.style.display = 'none';
  }
}

/**
 * Listen on `target` (the window, capture phase: before the application's own shortcut
 * handling, which listens on the document); returns the undo.
 */
export function installChatKeys(target: Window): () => void {
  const listener = (event: KeyboardEvent): void => {
    handleChatKey(event);
  };
  target.addEventListener('keydown', listener, true);
  return () => target.removeEventListener('keydown', listener, true);
}
