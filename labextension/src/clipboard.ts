/**
 * Copy buttons: the whole answer's Markdown, and the text of each rendered code block.
 */
import { bidiNotice, labelWithNotice, stripBidi } from './bidi';
import { textNode } from './dom';
import { ITranslate, untranslated } from './turn';

/** The code blocks of an answer: `<pre>`s, but not the text of the plain view (`bounds.ts`). */
const CODE_BLOCK = 'pre:not(.jp-KimiTurn-plainText)';

/** How long a button says "Copied" (or "Copy failed") before it reads "Copy" again. */
export const FEEDBACK_MS = 1500;

/**
 * Put `text` on the clipboard; `true` when it worked.
 *
 * The async Clipboard API needs a secure context and document focus; when it is missing or
 * refuses, a hidden textarea and `execCommand('copy')` (deprecated, still widely supported)
 * take over.
 */
export async function copyText(
  text: string,
  doc: Document = document
): Promise<boolean> {
  const clipboard = doc.defaultView?.navigator.clipboard;
  if (clipboard?.writeText) {
    try {
      await clipboard.writeText(text);
      return true;
    } catch {
      // Denied or unfocused: the textarea fallback may still work.
    }
  }
  return copyWithTextarea(text, doc);
}

/** Options for `createCopyButton`. */
export interface ICopyButtonOptions {
  /** The accessible name, e.g. "Copy code". */
  ariaLabel: string;
  /** The text to copy, read at click time. */
  text: () => string;
  /** The class added next to `jp-KimiTurn-copy`. */
  className?: string;
  trans?: ITranslate;
  /** The copy function (tests inject one). */
  copy?: (text: string) => Promise<boolean>;
}

/** A `<button>` that copies `options.text()` and says "Copied" for a moment. */
export function createCopyButton(
  doc: Document,
  options: ICopyButtonOptions
): HTMLButtonElement {
  const trans = options.trans ?? untranslated;
  const copy = options.copy ?? (text => copyText(text, doc));
  const button = doc.createElement('button');
  button.type = 'button';
  button.className = ['jp-KimiTurn-copy', options.className ?? '']
    .join(' ')
    .trim();
  button.textContent = trans.__('Copy');
  button.setAttribute('aria-label', options.ariaLabel);
  button.title = options.ariaLabel;
  let reset: ReturnType<typeof setTimeout> | undefined;
  button.addEventListener('click', () => {
    void copy(options.text()).then(copied => {
      button.textContent = copied
        ? trans.__('Copied')
        : trans.__('Copy failed');
      // For a button shown as an icon (the chat panel's code blocks).
      button.dataset.feedback = copied ? 'copied' : 'failed';
      clearTimeout(reset);
      reset = setTimeout(() => {
        button.textContent = trans.__('Copy');
        delete button.dataset.feedback;
      }, FEEDBACK_MS);
    });
  });
  return button;
}

/**
 * Give every `<pre>` under `host` a copy button for its text; return how many were added.
 *
 * Each block is wrapped in `div.jp-KimiTurn-codeBlock` so the button sits outside the
 * `<pre>` and never becomes part of the copied text. Blocks already wrapped are skipped.
 * A block with bidi controls says under it (and in the button's title) that Copy and
 * Insert leave them out.
 */
export function addCodeCopyButtons(
  host: HTMLElement,
  trans: ITranslate = untranslated,
  copy?: (text: string) => Promise<boolean>
): number {
  const doc = host.ownerDocument;
  let added = 0;
  for (const pre of Array.from(
    host.querySelectorAll<HTMLPreElement>(CODE_BLOCK)
  )) {
    if (pre.parentElement?.classList.contains('jp-KimiTurn-codeBlock')) {
      continue;
    }
    const block = doc.createElement('div');
    block.className = 'jp-KimiTurn-codeBlock';
    pre.replaceWith(block);
    const button = createCopyButton(doc, {
      ariaLabel: trans.__('Copy code'),
      className: 'jp-KimiTurn-copyCode',
      text: () => codeText(pre),
      trans,
      copy
    });
    button.title = labelWithNotice(button.title, pre.textContent ?? '', trans);
    block.append(pre, button);
    const notice = bidiNotice(stripBidi(pre.textContent ?? '').removed, trans);
    if (notice) {
      block.appendChild(textNode('div', 'jp-KimiTurn-bidiNotice', notice));
    }
    added += 1;
  }
  return added;
}

/**
 * The text of a code block, without the newline Markdown renderers leave at its end and
 * without invisible direction-changing characters (see `bidi.ts`).
 */
export function codeText(pre: HTMLElement): string {
  return stripBidi(pre.textContent ?? '').text.replace(/\n$/, '');
}

function copyWithTextarea(text: string, doc: Document): boolean {
  const textarea = doc.createElement('textarea');
  textarea.value = text;
  textarea.setAttribute('readonly', '');
  textarea.style.position = 'fixed';
  textarea.style.top = '-1000px';
  textarea.style.opacity = '0';
  const active = doc.activeElement;
  doc.body.appendChild(textarea);
  textarea.focus();
  textarea.select();
  let copied = false;
  try {
    copied = doc.execCommand('copy');
  } catch {
    copied = false;
  } finally {
    textarea.remove();
    if (active instanceof HTMLElement) {
      active.focus();
    }
  }
  return copied;
}
