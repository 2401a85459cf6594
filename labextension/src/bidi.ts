/**
 * Invisible direction-changing characters in model text (issue 11).
 *
 * The bidi embeddings, overrides and isolates U+202A–202E and U+2066–2069 make text
 * display in another order than it is read by a program ("Trojan Source",
 * CVE-2021-42574): code that looks harmless runs something else. In a rendered answer
 * each one is shown as a visible mark that no longer reorders anything; the code that
 * Copy and Insert put on the clipboard or in a cell loses them, and says so.
 */
import { ITranslate, untranslated } from './turn';

/** The characters, with the short names the marks show. */
const CONTROL_NAMES = new Map([
  ['\u202a', 'LRE'],
  ['\u202b', 'RLE'],
  ['\u202c', 'PDF'],
  ['\u202d', 'LRO'],
  ['\u202e', 'RLO'],
  ['\u2066', 'LRI'],
  ['\u2067', 'RLI'],
  ['\u2068', 'FSI'],
  ['\u2069', 'PDI']
]);
const CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

/** The class of the mark that stands for one control character. */
export const BIDI_MARK_CLASS = 'jp-KimiTurn-bidi';

/** `text` without bidi controls, and how many there were. */
export function stripBidi(text: string): { text: string; removed: number } {
  let removed = 0;
  const stripped = text.replace(CONTROLS, () => {
    removed += 1;
    return '';
  });
  return { text: stripped, removed };
}

/** `Removed 2 invisible direction-changing characters`, or `''` for none. */
export function bidiNotice(
  removed: number,
  trans: ITranslate = untranslated
): string {
  if (removed === 0) {
    return '';
  }
  return removed === 1
    ? trans.__('Removed 1 invisible direction-changing character')
    : trans.__('Removed %1 invisible direction-changing characters', removed);
}

/**
 * `label`, followed by the notice for the bidi controls in `text` when there are any:
 * the title of a button that copies or inserts `text`.
 */
export function labelWithNotice(
  label: string,
  text: string,
  trans: ITranslate = untranslated
): string {
  const notice = bidiNotice(stripBidi(text).removed, trans);
  return notice ? `${label} (${notice})` : label;
}

/**
 * Wrap each bidi control under `root` in a visible mark (an isolate, so the character
 * inside reorders nothing, named by CSS from `data-bidi`); returns how many.
 *
 * The character stays in the text, so `textContent` still holds it: `stripBidi` decides
 * what is copied.
 */
export function markBidi(
  root: HTMLElement,
  trans: ITranslate = untranslated
): number {
  const doc = root.ownerDocument;
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const found: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node as Text;
    CONTROLS.lastIndex = 0;
    if (
      CONTROLS.test(text.data) &&
      !text.parentElement?.classList.contains(BIDI_MARK_CLASS)
    ) {
      found.push(text);
    }
  }
  let marked = 0;
  for (const text of found) {
    const parts = text.data.split(/([\u202a-\u202e\u2066-\u2069])/);
    text.replaceWith(
      ...parts
        .filter(part => part !== '')
        .map(part => {
          const name = CONTROL_NAMES.get(part);
          if (name === undefined) {
            return part;
          }
          marked += 1;
          return bidiMark(doc, part, name, trans);
        })
    );
  }
  return marked;
}

function bidiMark(
  doc: Document,
  char: string,
  name: string,
  trans: ITranslate
): HTMLElement {
  const mark = doc.createElement('span');
  mark.className = BIDI_MARK_CLASS;
  mark.dataset.bidi = name;
  const code = char.charCodeAt(0).toString(16).toUpperCase();
  mark.title = trans.__(
    'U+%1 (%2): an invisible character that changes the direction of text',
    code,
    name
  );
  mark.textContent = char;
  return mark;
}
