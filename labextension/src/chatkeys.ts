/**
 * Enter sends, Shift+Enter is a new line, in the notebook ChatWidget's input.
 *
 * The widget is built from ipywidgets core widgets (so it also runs where this extension
 * is absent), and a core Textarea reports only its text, never its keys. Where this
 * extension runs, it handles the keys instead: a send appends `SEND_MARK` to the text, which
 * the kernel side takes as "send". A value change rather than a Send click, because
 * ipywidgets buffers value updates while one is in flight and a click could overtake the
 * last keystrokes.
 *
 * Taking over is an ordinary widget change: ticking the widget's hidden `keys_handled` box
 * (`KEYS_CLASS`) switches off its fallback ("send when the text gains a trailing newline"),
 * and its "Enter sends" box stays on screen, honoured here: unticked, Enter adds a line.
 * Ctrl+Enter (Cmd+Enter) always sends. A kernel whose widget has no such box gets the
 * older take-over: the fallback is unticked and hidden, and Enter always sends.
 */

export const CHAT_CLASS = 'kimi-chat';
export const INPUT_CLASS = 'kimi-chat-input';
/** Must match `SEND_MARK` in kimi_jupyter/chat_widget.py (U+2063). */
export const SEND_MARK = '\u2063';
/** The "Enter sends" box (`ChatWidget.enter_sends`). */
export const FALLBACK_CLASS = 'kimi-chat-enter';
/** The hidden box this extension ticks (`ChatWidget.keys_handled`). */
export const KEYS_CLASS = 'kimi-chat-keys';

/** Handle one keydown; true when it sent the message (and swallowed the key). */
export function handleChatKey(event: KeyboardEvent): boolean {
  if (event.key !== 'Enter' || event.isComposing) {
    return false;
  }
  const target = event.target;
  const root = chatInputRoot(target);
  if (!root || !(target instanceof HTMLTextAreaElement)) {
    return false;
  }
  const enterSends = takeOverKeys(root);
  // Typing, not a notebook shortcut: Notebook 7 would run the cell on Shift+Enter.
  event.stopPropagation();
  const send =
    event.ctrlKey || event.metaKey || (enterSends && !event.shiftKey);
  if (!send) {
    return false; // the textarea inserts the new line itself
  }
  event.preventDefault();
  target.value += SEND_MARK;
  target.dispatchEvent(new Event('input', { bubbles: true }));
  return true;
}

/**
 * Tell the widget its keys are handled here, once; returns whether Enter sends now (the
 * "Enter sends" box, or always for a widget without the `keys_handled` box).
 */
export function takeOverKeys(root: Element): boolean {
  const box = checkbox(root, KEYS_CLASS);
  const fallback = checkbox(root, FALLBACK_CLASS);
  if (box) {
    if (!box.checked) {
      box.click();
    }
    return fallback?.checked ?? true;
  }
  if (fallback?.checked) {
    fallback.click();
  }
  const holder = root.querySelector<HTMLElement>(`.${FALLBACK_CLASS}`);
  if (holder) {
    holder.style.display = 'none';
  }
  return true;
}

/**
 * Listen on `target` (the window, capture phase: before the application's own shortcut
 * handling, which listens on the document); returns the undo. The keys are taken over as
 * soon as the input gets the focus, so the kernel knows before the first Enter.
 */
export function installChatKeys(target: Window): () => void {
  const onKey = (event: KeyboardEvent): void => {
    handleChatKey(event);
  };
  const onFocus = (event: FocusEvent): void => {
    const root = chatInputRoot(event.target);
    if (root) {
      takeOverKeys(root);
    }
  };
  target.addEventListener('keydown', onKey, true);
  target.addEventListener('focusin', onFocus, true);
  return () => {
    target.removeEventListener('keydown', onKey, true);
    target.removeEventListener('focusin', onFocus, true);
  };
}

/** The chat widget whose input `target` is, or `null`. */
function chatInputRoot(target: EventTarget | null): Element | null {
  if (!(target instanceof HTMLTextAreaElement)) {
    return null;
  }
  const root = target.closest(`.${CHAT_CLASS}`);
  return root && target.closest(`.${INPUT_CLASS}`) ? root : null;
}

function checkbox(root: Element, className: string): HTMLInputElement | null {
  return root.querySelector<HTMLInputElement>(
    `.${className} input[type="checkbox"]`
  );
}
