/**
 * Notebook actions: ask Kimi about an output, explain an error, insert an answer's code.
 *
 * Only type imports from `@jupyterlab/notebook` here: `index.ts` hands in the tracker and
 * `NotebookActions`, so the turn view (which adds the "Insert" buttons) and the unit tests
 * can load this module without the notebook package.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { Notebook, NotebookActions } from '@jupyterlab/notebook';

import { labelWithNotice } from './bidi';
import { codeText } from './clipboard';
import { ITranslate, untranslated } from './turn';

/** The command that inserts `args.code` as a new code cell below the active cell. */
export const INSERT_CODE_COMMAND = 'kimi-jupyter:insert-code';
/** The command that inserts a `%%kimi` cell mentioning an output. */
export const ASK_OUTPUT_COMMAND = 'kimi-jupyter:ask-about-output';
/** The command that inserts and runs `%kimi fix` below an error. */
export const EXPLAIN_ERROR_COMMAND = 'kimi-jupyter:explain-error';

/**
 * The MIME type JupyterLab renders error outputs with (their traceback as text, like
 * stderr streams, so the output's model tells errors apart).
 */
export const ERROR_MIME_TYPE = 'application/vnd.jupyter.stderr';
/** The class of each output's wrapper in an output area. */
export const OUTPUT_CHILD_CLASS = 'jp-OutputArea-child';
/** Context-menu selectors: any output, and error (or stderr) outputs. */
export const OUTPUT_SELECTOR = `.jp-Notebook .${OUTPUT_CHILD_CLASS}`;
export const ERROR_OUTPUT_SELECTOR = `.jp-Notebook .jp-OutputArea-output[data-mime-type="${ERROR_MIME_TYPE}"]`;
/** The cell `Explain this error with Kimi` inserts and runs. */
export const FIX_CELL_SOURCE = '%kimi fix';

/** What the cell text depends on: an output's type and execution count. */
export interface IOutputInfo {
  type: string;
  executionCount?: number | null;
}

/** `@Out[n]` for an execute_result with a count, else `@last` (the cell's display output). */
export function outputMention(output: IOutputInfo | null | undefined): string {
  const count = output?.executionCount;
  if (
    output?.type === 'execute_result' &&
    typeof count === 'number' &&
    Number.isInteger(count) &&
    count > 0
  ) {
    return `@Out[${count}]`;
  }
  return '@last';
}

/** The starter `%%kimi` cell for an output, e.g. `%%kimi\nWhat does @Out[3] show? `. */
export function askCellSource(output: IOutputInfo | null | undefined): string {
  return `%%kimi\nWhat does ${outputMention(output)} show? `;
}

/** The `<pre>` code blocks of a rendered answer, in document order. */
export function findCodeBlocks(host: HTMLElement): HTMLPreElement[] {
  return Array.from(host.querySelectorAll('pre'));
}

/** Inserts code into the notebook; set by `index.ts` once the command exists. */
export type CodeInserter = (code: string) => void;

let codeInserter: CodeInserter | null = null;

/** Set (or with `null`, clear) what the "Insert" buttons of rendered answers call. */
export function setCodeInserter(inserter: CodeInserter | null): void {
  codeInserter = inserter;
}

/**
 * Inserts `sources` as code cells below the cell whose output holds `from`; resolves to
 * how many it inserted (0: no notebook cell holds `from`). Set by `index.ts`; the "Insert
 * steps as cells below" button of a `%%kimi --agent` turn calls it (`agentcellsteps.ts`).
 */
export type StepsInserter = (
  sources: string[],
  from: HTMLElement
) => Promise<number>;

let stepsInserter: StepsInserter | null = null;

/** Set (or with `null`, clear) what "Insert steps as cells below" calls. */
export function setStepsInserter(inserter: StepsInserter | null): void {
  stepsInserter = inserter;
}

/** What "Insert steps as cells below" calls now (`null`: no notebook to insert into). */
export function currentStepsInserter(): StepsInserter | null {
  return stepsInserter;
}

/**
 * Give every code block under `host` an "Insert" button that calls `insert` (by default
 * the inserter `index.ts` set) with the block's code; return how many were added.
 *
 * Blocks wrapped by `addCodeCopyButtons` get the button next to the copy button; blocks
 * that already have one, or no inserter at all, are left alone.
 */
export function addInsertCodeButtons(
  host: HTMLElement,
  trans: ITranslate = untranslated,
  insert: CodeInserter | null = codeInserter
): number {
  if (!insert) {
    return 0;
  }
  const doc = host.ownerDocument;
  let added = 0;
  for (const pre of findCodeBlocks(host)) {
    const block = pre.parentElement;
    if (
      !block?.classList.contains('jp-KimiTurn-codeBlock') ||
      block.querySelector(':scope > .jp-KimiTurn-insertCode')
    ) {
      continue;
    }
    const label = trans.__('Insert code below');
    const button = doc.createElement('button');
    button.type = 'button';
    button.className = 'jp-KimiTurn-insertCode';
    button.textContent = trans.__('Insert');
    button.setAttribute('aria-label', label);
    button.title = labelWithNotice(label, pre.textContent ?? '', trans);
    button.addEventListener('click', () => insert(codeText(pre)));
    block.classList.add('jp-mod-insertable');
    block.appendChild(button);
    added += 1;
  }
  return added;
}

/** What the actions need from `@jupyterlab/notebook`: its `NotebookActions`. */
export type NotebookActionsApi = Pick<
  typeof NotebookActions,
  'insertBelow' | 'changeCellType' | 'run'
>;

/** The notebook an action works in: its `content` and kernel session. */
export interface INotebookHost {
  content: Notebook;
  sessionContext: ISessionContext;
}

/** A cell's widget as far as the actions use it. */
type CellWidget = Notebook['widgets'][number];

/** Where an output sits: its cell's index and the output's type and count. */
export interface IOutputLocation {
  cellIndex: number;
  output: IOutputInfo | null;
}

/**
 * Find the output `node` (an element inside an output area) belongs to in `notebook`:
 * the cell's index and that output's model (type, execution count).
 */
export function locateOutput(
  notebook: Notebook,
  node: HTMLElement
): IOutputLocation | null {
  const cellIndex = notebook.widgets.findIndex(cell =>
    cell.node.contains(node)
  );
  if (cellIndex < 0) {
    return null;
  }
  const cell = notebook.widgets[cellIndex];
  const area = outputAreaOf(cell);
  const child = node.closest(`.${OUTPUT_CHILD_CLASS}`);
  if (!area || !child) {
    return { cellIndex, output: null };
  }
  const index = area.widgets.findIndex(widget => widget.node === child);
  const model = index >= 0 ? area.model.get(index) : undefined;
  return {
    cellIndex,
    output: model
      ? { type: model.type, executionCount: model.executionCount }
      : null
  };
}

/** The outputs of `notebook`'s active cell: the last execute_result, else the last one. */
export function activeCellOutput(notebook: Notebook): IOutputLocation | null {
  const cell = notebook.activeCell;
  const area = cell ? outputAreaOf(cell) : null;
  if (!cell || !area || area.model.length === 0) {
    return null;
  }
  const outputs = Array.from({ length: area.model.length }, (_, i) =>
    area.model.get(i)
  );
  const result =
    outputs.filter(output => output.type === 'execute_result').pop() ??
    outputs[outputs.length - 1];
  return {
    cellIndex: notebook.activeCellIndex,
    output: { type: result.type, executionCount: result.executionCount }
  };
}

/** Whether the active cell of `notebook` shows an error output. */
export function activeCellHasError(notebook: Notebook): boolean {
  const cell = notebook.activeCell;
  const area = cell ? outputAreaOf(cell) : null;
  if (!area) {
    return false;
  }
  for (let i = 0; i < area.model.length; i++) {
    if (area.model.get(i).type === 'error') {
      return true;
    }
  }
  return false;
}

/** Insert a code cell with `source` below cell `index` (default: the active cell). */
export function insertCodeCell(
  actions: NotebookActionsApi,
  notebook: Notebook,
  source: string,
  index?: number
): CellWidget | null {
  if (!notebook.model) {
    return null;
  }
  if (index !== undefined && index >= 0 && index < notebook.widgets.length) {
    notebook.activeCellIndex = index;
  }
  actions.insertBelow(notebook);
  if (notebook.activeCell?.model.type !== 'code') {
    actions.changeCellType(notebook, 'code');
  }
  const cell = notebook.activeCell;
  cell?.model.sharedModel.setSource(source);
  return cell ?? null;
}

/** Edit mode in `cell`, the cursor at the end of its text. */
export async function editAtEnd(
  notebook: Notebook,
  cell: CellWidget
): Promise<void> {
  notebook.mode = 'edit';
  await cell.ready;
  const editor = cell.editor;
  if (!editor || cell.isDisposed) {
    return;
  }
  const end = editor.getPositionAt(editor.model.sharedModel.getSource().length);
  if (end) {
    editor.setCursorPosition(end);
  }
  editor.focus();
}

/** `Ask Kimi about this output`: a starter `%%kimi` cell below, in edit mode. */
export async function askAboutOutput(
  actions: NotebookActionsApi,
  notebook: Notebook,
  location: IOutputLocation
): Promise<CellWidget | null> {
  const cell = insertCodeCell(
    actions,
    notebook,
    askCellSource(location.output),
    location.cellIndex
  );
  if (cell) {
    await editAtEnd(notebook, cell);
  }
  return cell;
}

/**
 * `Explain this error with Kimi`: `%kimi fix` below cell `cellIndex`, run, and scrolled
 * to mid-view, so that its answer streams in view below it.
 */
export async function explainError(
  actions: NotebookActionsApi,
  host: INotebookHost,
  cellIndex: number
): Promise<boolean> {
  const notebook = host.content;
  const cell = insertCodeCell(actions, notebook, FIX_CELL_SOURCE, cellIndex);
  if (!cell) {
    return false;
  }
  const ran = actions.run(notebook, host.sessionContext);
  // Attached (a windowed notebook), then by the DOM: the list's offsets are estimates.
  await notebook.scrollToItem(notebook.activeCellIndex, 'top-center');
  cell.node.scrollIntoView({ block: 'center' });
  return ran;
}

/** `kimi-jupyter:insert-code`: `code` in a new code cell below the active cell. */
export function insertCode(
  actions: NotebookActionsApi,
  notebook: Notebook,
  code: string
): CellWidget | null {
  const cell = insertCodeCell(actions, notebook, code);
  if (cell) {
    notebook.mode = 'command';
  }
  return cell;
}

/** The output area of a code cell, or `null` for other cells. */
function outputAreaOf(cell: CellWidget): {
  widgets: readonly { node: HTMLElement }[];
  model: {
    length: number;
    get(index: number): { type: string; executionCount: number | null };
  };
} | null {
  if (cell.model.type !== 'code' || !('outputArea' in cell)) {
    return null;
  }
  return (cell as unknown as { outputArea: ReturnType<typeof outputAreaOf> })
    .outputArea;
}
