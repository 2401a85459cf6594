/**
 * A line diff of a cell's old and new source as DOM, for the approval card's edits.
 *
 * The lines are the model's text: they go in as `textContent` only, and bidi controls
 * are shown as marks (`markBidi`). Long runs of unchanged lines fold into a button that
 * unfolds them.
 */
import { diffArrays } from 'diff';

import { markBidi } from '../bidi';
import { ITranslate, untranslated } from '../turn';

/** Unchanged lines kept on each side of a change. */
export const DIFF_CONTEXT = 3;

/** One line of the diff, with its numbers in the old and new source (1-based). */
export interface IDiffLine {
  kind: 'added' | 'removed' | 'context';
  text: string;
  oldNumber: number | null;
  newNumber: number | null;
}

/** A line, or a folded run of unchanged lines. */
export type DiffRow = IDiffLine | { kind: 'fold'; lines: IDiffLine[] };

/** The lines of `oldSource` → `newSource`, unchanged runs folded beyond `context`. */
export function diffRows(
  oldSource: string,
  newSource: string,
  context = DIFF_CONTEXT
): DiffRow[] {
  return foldContext(diffLines(oldSource, newSource), context);
}

/** Every line of the diff, in order (removals before additions at a change). */
export function diffLines(oldSource: string, newSource: string): IDiffLine[] {
  const lines: IDiffLine[] = [];
  let oldNumber = 1;
  let newNumber = 1;
  for (const part of diffArrays(oldSource.split('\n'), newSource.split('\n'))) {
    for (const text of part.value) {
      if (part.added) {
        lines.push({
          kind: 'added',
          text,
          oldNumber: null,
          newNumber: newNumber++
        });
      } else if (part.removed) {
        lines.push({
          kind: 'removed',
          text,
          oldNumber: oldNumber++,
          newNumber: null
        });
      } else {
        lines.push({
          kind: 'context',
          text,
          oldNumber: oldNumber++,
          newNumber: newNumber++
        });
      }
    }
  }
  return lines;
}

/** Fold each unchanged run down to `context` lines next to a change (folds of 2 or more). */
export function foldContext(
  lines: IDiffLine[],
  context = DIFF_CONTEXT
): DiffRow[] {
  const rows: DiffRow[] = [];
  let start = 0;
  while (start < lines.length) {
    if (lines[start].kind !== 'context') {
      rows.push(lines[start++]);
      continue;
    }
    let end = start;
    while (end < lines.length && lines[end].kind === 'context') {
      end++;
    }
    const keepBefore = start === 0 ? 0 : context;
    const keepAfter = end === lines.length ? 0 : context;
    const run = lines.slice(start, end);
    if (run.length - keepBefore - keepAfter >= 2) {
      rows.push(...run.slice(0, keepBefore));
      rows.push({
        kind: 'fold',
        lines: run.slice(keepBefore, run.length - keepAfter)
      });
      rows.push(...run.slice(run.length - keepAfter));
    } else {
      rows.push(...run);
    }
    start = end;
  }
  return rows;
}

/** The diff of `oldSource` → `newSource` as an element. */
export function renderDiff(
  oldSource: string,
  newSource: string,
  trans: ITranslate = untranslated,
  context = DIFF_CONTEXT
): HTMLElement {
  const root = document.createElement('div');
  root.className = 'jp-KimiDiff';
  const lines = diffLines(oldSource, newSource);
  const added = lines.filter(line => line.kind === 'added').length;
  const removed = lines.filter(line => line.kind === 'removed').length;
  const summary = document.createElement('div');
  summary.className = 'jp-KimiDiff-summary';
  summary.textContent =
    added + removed === 0
      ? trans.__('No changes')
      : trans.__('%1 added, %2 removed', `+${added}`, `−${removed}`);
  const body = document.createElement('div');
  body.className = 'jp-KimiDiff-lines';
  for (const row of foldContext(lines, context)) {
    body.appendChild(
      row.kind === 'fold' ? foldButton(row.lines, trans) : lineNode(row)
    );
  }
  root.append(summary, body);
  markBidi(root, trans);
  return root;
}

const SIGNS = { added: '+', removed: '-', context: ' ' };

function lineNode(line: IDiffLine): HTMLElement {
  const node = document.createElement('div');
  node.className = `jp-KimiDiff-line jp-KimiDiff-${line.kind}`;
  node.append(
    span(
      'jp-KimiDiff-number',
      line.oldNumber === null ? '' : String(line.oldNumber)
    ),
    span(
      'jp-KimiDiff-number',
      line.newNumber === null ? '' : String(line.newNumber)
    ),
    span('jp-KimiDiff-sign', SIGNS[line.kind]),
    span('jp-KimiDiff-text', line.text)
  );
  return node;
}

function foldButton(lines: IDiffLine[], trans: ITranslate): HTMLElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'jp-KimiDiff-fold';
  button.textContent = trans.__('⋯ %1 unchanged lines', lines.length);
  button.title = trans.__('Show the unchanged lines');
  button.addEventListener('click', () => {
    const shown = lines.map(lineNode);
    button.replaceWith(...shown);
    shown.forEach(node => markBidi(node, trans));
  });
  return button;
}

function span(className: string, text: string): HTMLElement {
  const node = document.createElement('span');
  node.className = className;
  node.textContent = text;
  return node;
}
