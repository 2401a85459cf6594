/**
 * The steps a `%%kimi --agent` turn ran in the kernel, offered as cells below the turn.
 *
 * The kernel records each step in the turn (`meta.agent`, surface `cell`: tool `run_code`,
 * its code as actually run, its status); the saved turn record carries that record, so the
 * offer is there as soon as the answer ends and again when the notebook is reopened. The
 * code is model text: it only ever becomes the source of new, unrun cells (the user runs
 * them), and is shown as text.
 */
import type { ISharedNotebook } from '@jupyter/ydoc';

import { currentStepsInserter, StepsInserter } from './actions';
import { textNode } from './dom';
import { isObject, Json } from './jsonshape';
import { ITranslate, untranslated } from './turn';

/** A figure's base64 longer than this is not shown (the kernel keeps PNGs of a few MB). */
const MAX_FIGURE_CHARS = 8_000_000;
const PNG_BASE64 = 'iVBORw0KGgo'; // the PNG signature, 89 50 4E 47 0D 0A 1A 0A, in base64
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One thing a step showed: text (shown as text) or a PNG figure. */
export type StepItem =
  | { kind: 'text'; label: string; text: string }
  | { kind: 'image/png'; data: string };

/**
 * The outputs of each code call of a cell agent turn, by call id, from the
 * `application/vnd.kimi.steps+json` payload; anything malformed is left out, and a
 * "figure" that is not base64 PNG is not a figure.
 */
export function parseStepOutputs(data: unknown): Map<string, StepItem[]> {
  const found = new Map<string, StepItem[]>();
  const outputs = asObject(asObject(data)?.outputs);
  for (const [callId, items] of Object.entries(outputs ?? {})) {
    if (!Array.isArray(items)) {
      continue;
    }
    const kept: StepItem[] = [];
    for (const value of items) {
      const item = asObject(value);
      if (
        item?.kind === 'text' &&
        typeof item.text === 'string' &&
        typeof item.label === 'string'
      ) {
        kept.push({ kind: 'text', label: item.label, text: item.text });
      } else if (item?.kind === 'image/png' && isPngBase64(item.data)) {
        kept.push({ kind: 'image/png', data: item.data });
      }
    }
    found.set(callId, kept);
  }
  return found;
}

function isPngBase64(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= MAX_FIGURE_CHARS &&
    value.startsWith(PNG_BASE64) &&
    BASE64.test(value)
  );
}

/** The code a `run_code` call carries (its JSON arguments' `code`), else `null`. */
export function stepCode(name: string, args: string): string | null {
  if (name !== 'run_code') {
    return null;
  }
  try {
    const code = asObject(JSON.parse(args))?.code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}

/**
 * What a saved `run_code` panel shows: its code, then what it printed and drew, text as
 * text and figures as images made from the PNG bytes themselves (a `data:` URL: nothing
 * is fetched).
 */
export function stepNodes(
  code: string,
  items: readonly StepItem[],
  trans: ITranslate = untranslated
): HTMLElement[] {
  const nodes: HTMLElement[] = [
    textNode('div', 'jp-KimiTool-label', trans.__('Code')),
    textNode('pre', 'jp-KimiTool-code', code)
  ];
  for (const item of items) {
    if (item.kind === 'text') {
      nodes.push(
        textNode('div', 'jp-KimiTool-label', item.label),
        textNode('pre', 'jp-KimiTool-preview', item.text)
      );
    } else {
      const image = document.createElement('img');
      image.className = 'jp-KimiTool-figure';
      image.alt = trans.__('A figure this step drew');
      image.src = `data:image/png;base64,${item.data}`;
      nodes.push(image);
    }
  }
  return nodes;
}

/** The statuses of a step whose code ran as the user approved it. */
const RAN = new Set(['done', 'edited_and_done']);
/** At most this many steps are offered (the kernel's step cap is 20 by default). */
const MAX_OFFERED_STEPS = 100;
/** A step's code longer than this is not offered (a cell of model text is capped). */
export const MAX_STEP_CHARS = 100_000;

/** `value` if it is a JSON object, else `null`. */
function asObject(value: unknown): Json | null {
  return isObject(value) ? value : null;
}

/**
 * The code of each step a cell agent turn ran (done, or edited then done), in order, from
 * a turn record (object or JSON text); `[]` for any other turn or a malformed record.
 */
export function agentCellSteps(data: unknown): string[] {
  let record: unknown = data;
  if (typeof data === 'string') {
    try {
      record = JSON.parse(data);
    } catch {
      return [];
    }
  }
  const agent = asObject(asObject(asObject(record)?.meta)?.agent);
  if (agent?.surface !== 'cell' || !Array.isArray(agent.steps)) {
    return [];
  }
  const sources: string[] = [];
  for (const item of agent.steps) {
    const step = asObject(item);
    const code = asObject(step?.args)?.code;
    if (
      step?.tool === 'run_code' &&
      typeof step.status === 'string' &&
      RAN.has(step.status) &&
      typeof code === 'string' &&
      code.trim() &&
      code.length <= MAX_STEP_CHARS
    ) {
      sources.push(code);
    }
    if (sources.length >= MAX_OFFERED_STEPS) {
      break;
    }
  }
  return sources;
}

/**
 * The line under a cell agent turn: how many steps ran, and a button that inserts them as
 * cells below (once; nothing runs). `null` when nothing ran or nothing can insert.
 */
export function agentStepsNode(
  sources: string[],
  trans: ITranslate = untranslated,
  insert: StepsInserter | null = currentStepsInserter()
): HTMLElement | null {
  if (!sources.length || !insert) {
    return null;
  }
  const bar = document.createElement('div');
  bar.className = 'jp-KimiTurn-agentSteps';
  const count = sources.length;
  const label = textNode(
    'span',
    'jp-KimiTurn-agentStepsText',
    count === 1
      ? trans.__('Kimi ran 1 step in the kernel.')
      : trans.__('Kimi ran %1 steps in the kernel.', count)
  );
  const button = textNode(
    'button',
    'jp-KimiTurn-insertSteps',
    count === 1
      ? trans.__('Insert the step as a cell below')
      : trans.__('Insert the %1 steps as cells below', count)
  );
  button.type = 'button';
  button.title = trans.__(
    'New code cells below this one, with the code Kimi ran; nothing runs'
  );
  button.addEventListener('click', async () => {
    button.disabled = true; // one insertion per click, however long it takes
    const inserted = await insert(sources, button);
    button.disabled = inserted > 0;
    if (inserted > 0) {
      button.textContent =
        inserted === 1
          ? trans.__('Inserted 1 cell below')
          : trans.__('Inserted %1 cells below', inserted);
    }
  });
  bar.append(label, button);
  return bar;
}

/** What `insertStepsBelow` needs of a notebook panel (a `NotebookPanel` fits). */
export interface IStepsNotebook {
  node: HTMLElement;
  content: {
    widgets: readonly { node: HTMLElement }[];
    model: { sharedModel: Pick<ISharedNotebook, 'insertCells'> } | null;
  };
}

/**
 * Insert `sources` as code cells right below the cell (of one of `notebooks`) that holds
 * `from`, in one shared-model transaction (one step of the notebook's own undo, seen as one
 * change by collaborators); the number inserted, 0 when no cell holds `from`.
 */
export function insertStepsBelow(
  notebooks: Iterable<IStepsNotebook>,
  sources: string[],
  from: HTMLElement
): number {
  for (const panel of notebooks) {
    if (!panel.node.contains(from) || !panel.content.model) {
      continue;
    }
    const index = panel.content.widgets.findIndex(cell =>
      cell.node.contains(from)
    );
    if (index < 0) {
      return 0;
    }
    panel.content.model.sharedModel.insertCells(
      index + 1,
      sources.map(source => ({ cell_type: 'code', source, metadata: {} }))
    );
    return sources.length;
  }
  return 0;
}
