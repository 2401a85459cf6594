/**
 * The notebook's own record of its agent turns (issue 13): what each turn was asked, its
 * steps (tool, cell, how each was settled) and its answer, kept in the notebook's metadata
 * (`metadata.kimi_jupyter.agent_turns`) through the shared model, so it is saved with the
 * notebook, reaches collaborators and shows again when the notebook is reopened.
 *
 * Bounded: the last `MAX_RECORDS` turns, texts cut; never outputs, media or the API key
 * (anything shaped like a key is masked). A notebook file is anyone's data, so what is read
 * back is checked field by field and shown as text only.
 */
import type { ISharedNotebook } from '@jupyter/ydoc';
import type { PartialJSONValue } from '@lumino/coreutils';

import { textNode } from '../dom';
import { isObject } from '../jsonshape';
import { ITranslate, untranslated } from '../turn';

/** The notebook metadata key this package writes under. */
export const METADATA_KEY = 'kimi_jupyter';
/** The list of agent turn records under `METADATA_KEY`. */
export const RECORDS_FIELD = 'agent_turns';
export const MAX_RECORDS = 20;
const MAX_STEPS = 100;
const MAX_PROMPT = 1000;
const MAX_ANSWER = 4000;
const MAX_SHORT = 200;
const KEY_LIKE = /\b(sk|ak)-[A-Za-z0-9_-]{16,}/g;

/** One step as the record keeps it. */
export interface IStepRecord {
  step: number;
  tool: string;
  status: string;
  cell_id?: string;
  detail?: string;
}

/** One agent turn as the notebook keeps it. */
export interface ITurnRecord {
  id: string;
  prompt: string;
  mode: string;
  cap: number;
  /** `done`, `stopped`, `error`, or `restarted` (the kernel went away mid-turn). */
  status: string;
  steps: IStepRecord[];
  answer: string;
  /** When the turn ended (ISO 8601). */
  ended: string;
}

/** `text` cut to `limit` characters, anything like an API key masked. */
export function bounded(text: string, limit: number): string {
  const masked = text.replace(KEY_LIKE, '[key removed]');
  return masked.length > limit ? `${masked.slice(0, limit)}…` : masked;
}

/** The records kept in `notebook` (the ones that do not fit the shape are left out). */
export function readRecords(notebook: ISharedNotebook): ITurnRecord[] {
  const ours = notebook.getMetadata(METADATA_KEY);
  return parseRecords(isObject(ours) ? ours[RECORDS_FIELD] : undefined);
}

/** Keep `record` in `notebook` (replacing one of the same id), the last MAX_RECORDS. */
export function writeRecord(
  notebook: ISharedNotebook,
  record: ITurnRecord
): void {
  const ours = notebook.getMetadata(METADATA_KEY);
  const others = isObject(ours) ? ours : {};
  const kept = parseRecords(others[RECORDS_FIELD]).filter(
    r => r.id !== record.id
  );
  // Plain JSON already: each record is freshly parsed or compacted.
  const records = [...kept, compact(record)].slice(-MAX_RECORDS);
  notebook.setMetadata(METADATA_KEY, {
    ...others,
    [RECORDS_FIELD]: records as unknown as PartialJSONValue
  });
}

/** The records of the list `list` (the ones that do not fit the shape are left out). */
function parseRecords(list: unknown): ITurnRecord[] {
  if (!Array.isArray(list)) {
    return [];
  }
  return list.flatMap(item => {
    const record = parseRecord(item);
    return record ? [record] : [];
  });
}

/** `record` within the bounds. */
function compact(record: ITurnRecord): ITurnRecord {
  return {
    ...record,
    prompt: bounded(record.prompt, MAX_PROMPT),
    answer: bounded(record.answer, MAX_ANSWER),
    steps: record.steps.slice(0, MAX_STEPS).map(step => {
      const kept: IStepRecord = {
        step: step.step,
        tool: bounded(step.tool, MAX_SHORT),
        status: bounded(step.status, MAX_SHORT)
      };
      if (step.cell_id !== undefined) {
        kept.cell_id = bounded(step.cell_id, MAX_SHORT);
      }
      if (step.detail) {
        kept.detail = bounded(step.detail, MAX_SHORT);
      }
      return kept;
    })
  };
}

function text(value: unknown, limit: number): string | null {
  return typeof value === 'string' ? bounded(value, limit) : null;
}

function parseRecord(item: unknown): ITurnRecord | null {
  if (!isObject(item) || !Array.isArray(item.steps)) {
    return null;
  }
  const id = text(item.id, MAX_SHORT);
  const prompt = text(item.prompt, MAX_PROMPT);
  const status = text(item.status, MAX_SHORT);
  if (id === null || prompt === null || status === null) {
    return null;
  }
  const cap = item.cap;
  return {
    id,
    prompt,
    status,
    mode: text(item.mode, MAX_SHORT) ?? '',
    cap: typeof cap === 'number' && Number.isInteger(cap) ? cap : 0,
    answer: text(item.answer, MAX_ANSWER) ?? '',
    ended: text(item.ended, MAX_SHORT) ?? '',
    steps: item.steps.slice(0, MAX_STEPS).flatMap(parseStepRecord)
  };
}

function parseStepRecord(item: unknown): IStepRecord[] {
  if (!isObject(item) || typeof item.step !== 'number') {
    return [];
  }
  const tool = text(item.tool, MAX_SHORT);
  const status = text(item.status, MAX_SHORT);
  if (tool === null || status === null) {
    return [];
  }
  const step: IStepRecord = { step: item.step, tool, status };
  const cell = text(item.cell_id, MAX_SHORT);
  const detail = text(item.detail, MAX_SHORT);
  if (cell !== null) {
    step.cell_id = cell;
  }
  if (detail) {
    step.detail = detail;
  }
  return [step];
}

/** The line a step shows: "Step 3: insert_cell (cell 1a2b)". */
function stepLine(step: IStepRecord, trans: ITranslate): string {
  const label = trans.__('Step %1: %2', step.step, step.tool);
  return step.cell_id ? `${label} (${step.cell_id})` : label;
}

/** The status a step shows: "done", "skipped: why". */
function statusLine(step: IStepRecord): string {
  return step.detail ? `${step.status}: ${step.detail}` : step.status;
}

/**
 * The head of a turn's entry in the agent record: a `className` node marked with the turn's
 * id and status, holding `notice` and the turn's prompt, each as text.
 */
export function recordHead(
  className: string,
  turn: { id: string; status: string; prompt: string },
  notice: string
): HTMLElement {
  const node = textNode('div', className, '');
  node.dataset.turn = turn.id;
  node.dataset.status = turn.status;
  node.append(
    textNode('div', 'jp-KimiAgent-recordNotice', notice),
    textNode('div', 'jp-KimiAgent-recordPrompt', turn.prompt)
  );
  return node;
}

/** A saved turn, read-only, marked as from the notebook's record; every text as text. */
export function recordView(
  record: ITurnRecord,
  trans: ITranslate = untranslated
): HTMLElement {
  const when = record.ended
    ? ` (${record.ended.slice(0, 16).replace('T', ' ')})`
    : '';
  const node = recordHead(
    'jp-KimiAgent-record',
    record,
    trans.__(
      'Saved in the notebook%1: %2',
      when,
      statusText(record.status, trans)
    )
  );
  const steps = textNode('div', 'jp-KimiAgent-steps', '');
  for (const step of record.steps) {
    const entry = textNode('div', 'jp-KimiAgent-steps-step', '');
    entry.dataset.status = step.status;
    entry.append(
      textNode('span', 'jp-KimiAgent-steps-label', stepLine(step, trans)),
      textNode('span', 'jp-KimiAgent-steps-status', statusLine(step))
    );
    steps.appendChild(entry);
  }
  node.appendChild(steps);
  if (record.answer) {
    node.appendChild(
      textNode('div', 'jp-KimiAgent-recordAnswer', record.answer)
    );
  }
  return node;
}

/** How a turn ended, in words. */
export function statusText(status: string, trans: ITranslate): string {
  switch (status) {
    case 'done':
      return trans.__('done');
    case 'stopped':
      return trans.__('stopped');
    case 'restarted':
      return trans.__('stopped: the kernel restarted');
    case 'error':
      return trans.__('failed');
    default:
      return status;
  }
}
