/**
 * The approval card for one proposed agent step (issue 13, items 2 and 7): a new cell as
 * code, an edit as a diff, a run as the cell's source, a delete as the cell to lose, with
 * Approve / Edit / Skip.
 *
 * The card is built from the document (`stepView` reads the target cell's current source
 * itself) and from the step's checked fields only; everything is text (`textContent`,
 * bidi controls marked). It reports the user's click through `onDecision`, once; nothing
 * in a proposal can decide for them.
 */
import type { ISharedNotebook } from '@jupyter/ydoc';

import { markBidi, stripBidi } from '../bidi';
import { ITranslate, untranslated } from '../turn';
import { findCell } from './cells';
import { renderDiff } from './diffview';
import {
  CardDecision,
  ChangeStep,
  editableSource,
  IStepProblem,
  quote
} from './steps';

/** What the card shows for one step: where it acts and what is there now. */
export interface IStepView {
  /** The step's number in the turn (from 1) and the turn's cap. */
  number: number;
  maxSteps: number;
  step: ChangeStep;
  /** The target cell's position (from 0), or where the new cell goes. */
  cellIndex: number;
  /** The target cell's type, or the new cell's. */
  cellType: string;
  /** The target cell's source now (`''` for a new cell). */
  currentSource: string;
}

/** The card's view of `step` in `notebook` as it is now, or why the step cannot be. */
export function stepView(
  notebook: ISharedNotebook,
  step: ChangeStep,
  number: number,
  maxSteps: number
): IStepView | IStepProblem {
  if (step.tool === 'insert_cell') {
    const count = notebook.cells.length;
    if (step.index > count) {
      return {
        error: `index ${step.index} is out of range: a new cell goes at 0 to ${count}`
      };
    }
    const base = { number, maxSteps, step, cellIndex: step.index };
    return { ...base, cellType: step.cell_type, currentSource: '' };
  }
  const found = findCell(notebook, step.cell_id);
  if (!found) {
    return {
      error: `no cell has the id ${quote(step.cell_id)} (list_cells gives the ids)`
    };
  }
  return {
    number,
    maxSteps,
    step,
    cellIndex: found.index,
    cellType: found.cell.cell_type,
    currentSource: found.cell.getSource()
  };
}

/** `Step 3 of at most 20: run cell 5` (cells counted from 1, as the user sees them). */
export function stepLabel(
  view: IStepView,
  trans: ITranslate = untranslated
): string {
  const { number, maxSteps } = view;
  const cell = view.cellIndex + 1;
  switch (view.step.tool) {
    case 'insert_cell':
      return trans.__(
        'Step %1 of at most %2: insert a %3 cell as cell %4',
        number,
        maxSteps,
        view.cellType,
        cell
      );
    case 'edit_cell':
      return trans.__(
        'Step %1 of at most %2: edit cell %3',
        number,
        maxSteps,
        cell
      );
    case 'run_cell':
      return trans.__(
        'Step %1 of at most %2: run cell %3',
        number,
        maxSteps,
        cell
      );
    case 'delete_cell':
      return trans.__(
        'Step %1 of at most %2: delete cell %3',
        number,
        maxSteps,
        cell
      );
  }
}

/** The card's root class, and the class it gets once the user has decided. */
export const CARD_CLASS = 'jp-KimiAgentCard';
export const DECIDED_CLASS = 'jp-mod-decided';

/** The approval card for `view`; `onDecision` gets the user's click, once. */
export function createApprovalCard(
  view: IStepView,
  onDecision: (decision: CardDecision) => void,
  trans: ITranslate = untranslated
): HTMLElement {
  const { step, currentSource } = view;
  const root = document.createElement('section');
  root.className = CARD_CLASS;
  root.dataset.tool = step.tool;
  const label = document.createElement('div');
  label.className = `${CARD_CLASS}-label`;
  label.textContent = stepLabel(view, trans);
  const body = document.createElement('div');
  body.className = `${CARD_CLASS}-body`;
  body.appendChild(stepBody(view, trans));
  root.append(label, body);
  const notice = bidiWarning(shownText(view), trans);
  if (notice) {
    root.insertBefore(notice, body);
  }
  root.appendChild(
    buttonRow(root, body, step, currentSource, onDecision, trans)
  );
  root.setAttribute('aria-label', label.textContent);
  return root;
}

function buttonRow(
  root: HTMLElement,
  body: HTMLElement,
  step: ChangeStep,
  currentSource: string,
  onDecision: (decision: CardDecision) => void,
  trans: ITranslate
): HTMLElement {
  const row = document.createElement('div');
  row.className = `${CARD_CLASS}-buttons`;
  const approve = button('approve', trans.__('Approve'));
  const skip = button('skip', trans.__('Skip'));
  let editor: HTMLTextAreaElement | null = null;
  const decide = (decision: CardDecision) => {
    if (root.classList.contains(DECIDED_CLASS)) {
      return;
    }
    root.classList.add(DECIDED_CLASS);
    root.dataset.decision = decision.decision;
    row.querySelectorAll('button').forEach(node => (node.disabled = true));
    if (editor) {
      editor.readOnly = true;
    }
    onDecision(decision);
  };
  approve.addEventListener('click', () =>
    decide(
      editor
        ? { decision: 'edit', source: editor.value }
        : { decision: 'approve' }
    )
  );
  skip.addEventListener('click', () => decide({ decision: 'skip' }));
  row.appendChild(approve);
  const start = editableSource(step, currentSource);
  if (start !== null) {
    const edit = button('edit', trans.__('Edit'));
    edit.title = trans.__('Change the code, then approve your version');
    edit.addEventListener('click', () => {
      editor = document.createElement('textarea');
      editor.className = `${CARD_CLASS}-editor`;
      editor.spellcheck = false;
      editor.value = start;
      editor.setAttribute('aria-label', trans.__('Code to approve'));
      body.replaceChildren(editor);
      approve.textContent = trans.__('Approve edited');
      edit.remove();
      editor.focus();
    });
    row.appendChild(edit);
  }
  row.appendChild(skip);
  return row;
}

function button(kind: string, text: string): HTMLButtonElement {
  const node = document.createElement('button');
  node.type = 'button';
  node.className = `jp-mod-styled ${CARD_CLASS}-${kind}`;
  node.textContent = text;
  return node;
}

/** The step's content: code, a diff, or the cell to run or lose. */
function stepBody(view: IStepView, trans: ITranslate): HTMLElement {
  const { step, currentSource, cellType } = view;
  switch (step.tool) {
    case 'insert_cell':
      return codeBlock(step.source, cellType, trans);
    case 'edit_cell':
      return renderDiff(currentSource, step.source, trans);
    case 'run_cell':
      return codeBlock(currentSource, cellType, trans);
    case 'delete_cell': {
      const block = codeBlock(currentSource, cellType, trans);
      block.classList.add('jp-mod-delete');
      return block;
    }
  }
}

function codeBlock(
  source: string,
  cellType: string,
  trans: ITranslate
): HTMLElement {
  const pre = document.createElement('pre');
  pre.className = `${CARD_CLASS}-code`;
  const code = document.createElement('code');
  code.className =
    cellType === 'markdown' ? 'language-markdown' : 'language-python';
  code.textContent = source;
  pre.appendChild(code);
  markBidi(pre, trans);
  return pre;
}

/** The text the card shows (the proposed source, or the cell's). */
function shownText(view: IStepView): string {
  const { step } = view;
  return step.tool === 'insert_cell' || step.tool === 'edit_cell'
    ? step.source
    : view.currentSource;
}

function bidiWarning(text: string, trans: ITranslate): HTMLElement | null {
  const count = stripBidi(text).removed;
  if (count === 0) {
    return null;
  }
  const notice = document.createElement('div');
  notice.className = `${CARD_CLASS}-notice`;
  notice.textContent = trans.__(
    'This code holds %1 invisible direction-changing characters, shown as marks: it may run differently from how it reads.',
    count
  );
  return notice;
}
