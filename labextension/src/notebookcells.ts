/**
 * The notebook as the page knows it, for questions that mention `@notebook` or `@cell:N`:
 * every cell's nbformat JSON (id, type, source, execution count, outputs), sent with the
 * execute request of a `%%kimi` cell (`cellliveplugin.ts`) or with the panel's `ask`. The
 * kernel summarises and bounds it (`kimi_jupyter/context/cells.py`); the page only keeps
 * the outputs within `OUTPUT_BUDGET` characters, nearest the asking cell first, and says
 * how many it left out of each cell (`outputs_left_out`).
 */
import type {
  ISharedCell,
  ISharedCodeCell,
  ISharedNotebook
} from '@jupyter/ydoc';

import type { IAskRequest, INotebookData } from './chatprotocol';

/** How many characters of outputs (their JSON, images included) go along at most. */
const OUTPUT_BUDGET = 3_000_000;

// As `kimi_jupyter/mentions.py` finds them: not inside a word, an e-mail or `@@`.
const NOTEBOOK_MENTION =
  /(?<![\w@.])@(?:notebook(?!\w|\.[A-Za-z_]|\[)|cell:[A-Za-z0-9])/;

/** Whether `text` mentions the notebook (`@notebook`, `@cell:N`, `@cell:ID`). */
export function mentionsNotebook(text: string): boolean {
  return NOTEBOOK_MENTION.test(text);
}

/**
 * `notebook` as the kernel reads it; `current`: the index of the asking cell (`null`: none,
 * as from the panel); `name`: the notebook's file name.
 */
export function notebookData(
  notebook: ISharedNotebook,
  current: number | null,
  name = '',
  budget = OUTPUT_BUDGET
): INotebookData {
  const cells = notebook.cells.map(cellData);
  let left = budget;
  for (const index of nearestFirst(cells.length, current)) {
    left = keepOutputs(cells[index], left);
  }
  const data: INotebookData = { cells, current };
  if (name) {
    data.name = name;
  }
  return data;
}

/** The panel's `request`, with `notebook`'s cells when its prompt mentions them. */
export function withNotebook(
  request: IAskRequest,
  notebook: ISharedNotebook | null | undefined,
  name = ''
): IAskRequest {
  if (!notebook || !mentionsNotebook(request.prompt)) {
    return request;
  }
  return { ...request, notebook: notebookData(notebook, null, name) };
}

/** The index of the cell with `id` in `notebook`, or `null`. */
export function cellIndex(
  notebook: ISharedNotebook,
  id: unknown
): number | null {
  if (typeof id !== 'string') {
    return null;
  }
  const index = notebook.cells.findIndex(cell => cell.id === id);
  return index < 0 ? null : index;
}

/** The last part of a path: what the kernel calls the notebook. */
export function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

function cellData(cell: ISharedCell): Record<string, unknown> {
  const data: Record<string, unknown> = {
    id: cell.id,
    cell_type: cell.cell_type,
    source: cell.getSource()
  };
  if (cell.cell_type === 'code') {
    // As `cellOutputs` and `executionCount` of `agent/cells.ts` read them (not imported:
    // this module loads with the application, and that one would weigh on its start).
    const code = cell as ISharedCodeCell;
    data.execution_count = code.execution_count ?? null;
    data.outputs = code.getOutputs();
  }
  return data;
}

/** Cell indices, the asking cell and the ones above it first, then the ones below. */
function nearestFirst(count: number, current: number | null): number[] {
  const from = current === null ? count - 1 : Math.min(current, count - 1);
  const order: number[] = [];
  for (let i = from; i >= 0; i--) {
    order.push(i);
  }
  for (let i = from + 1; i < count; i++) {
    order.push(i);
  }
  return order;
}

/** Keep the cell's outputs that fit in `left` characters; returns what is left. */
function keepOutputs(cell: Record<string, unknown>, left: number): number {
  const outputs = cell.outputs;
  if (!Array.isArray(outputs) || outputs.length === 0) {
    return left;
  }
  const kept: unknown[] = [];
  for (const output of outputs) {
    const size = JSON.stringify(output).length;
    if (size <= left) {
      kept.push(output);
      left -= size;
    }
  }
  cell.outputs = kept;
  if (kept.length < outputs.length) {
    cell.outputs_left_out = outputs.length - kept.length;
  }
  return left;
}
