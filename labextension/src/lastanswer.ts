/**
 * What "Insert code below" inserts when run without code (from the palette): the last
 * code block of the last finished answer, in the Kimi panel or the notebook, whichever
 * the reader was in last (`LastFocus`). Read from the rendered answers, so it is exactly
 * what that block's own Insert button inserts.
 */
import { codeText } from './clipboard';

/** Answers still streaming (the panel's, a cell's live view): their code may be cut short. */
const LIVE_SELECTOR = '.jp-KimiChat-live, .jp-KimiLive';

/** The last finished answer under `root` (turn outputs, chat widgets, the panel). */
export function lastAnswer(root: ParentNode): HTMLElement | null {
  const answers = root.querySelectorAll<HTMLElement>('.jp-KimiTurn-answer');
  for (let i = answers.length - 1; i >= 0; i--) {
    if (!answers[i].closest(LIVE_SELECTOR)) {
      return answers[i];
    }
  }
  return null;
}

/** The code of the last code block of `answer`, or `null` when it has none. */
export function lastCodeBlock(answer: HTMLElement): string | null {
  const blocks = answer.querySelectorAll<HTMLElement>(
    '.jp-KimiTurn-codeBlock > pre'
  );
  const last = blocks[blocks.length - 1];
  const code = last ? codeText(last) : '';
  return code.trim() ? code : null;
}

/**
 * The code to insert: the last code block of the last answer of the first of `roots`
 * that has an answer (`null` when that answer has no code, or no root has an answer).
 */
export function codeToInsert(
  roots: readonly (ParentNode | null | undefined)[]
): string | null {
  for (const root of roots) {
    const answer = root ? lastAnswer(root) : null;
    if (answer) {
      return lastCodeBlock(answer);
    }
  }
  return null;
}

/**
 * Whether the reader was last in the Kimi panel or in a notebook: a click or the focus
 * there. Elsewhere (the command palette, a menu) changes nothing.
 */
export class LastFocus {
  /** `panel` finds the Kimi panel's node (`null` while there is none). */
  constructor(
    private readonly _doc: Document,
    private readonly _panel: () => HTMLElement | null
  ) {
    _doc.addEventListener('focusin', this._onEvent, true);
    _doc.addEventListener('pointerdown', this._onEvent, true);
  }

  /** The panel was used more recently than any notebook. */
  get inPanel(): boolean {
    return this._inPanel;
  }

  dispose(): void {
    this._doc.removeEventListener('focusin', this._onEvent, true);
    this._doc.removeEventListener('pointerdown', this._onEvent, true);
  }

  private readonly _onEvent = (event: Event): void => {
    const target = event.target;
    if (!(target instanceof Element)) {
      return;
    }
    if (this._panel()?.contains(target)) {
      this._inPanel = true;
    } else if (target.closest('.jp-Notebook')) {
      this._inPanel = false;
    }
  };

  private _inPanel = false;
}
