/**
 * Cells of a notebook's shared model (`model.sharedModel`, a `YNotebook`) as nbformat JSON:
 * read whole, summarized for `list_cells`, and written back in place.
 *
 * Only type imports from `@jupyter/ydoc`: the notebook's own model is handed in.
 */
import type {
  ISharedCell,
  ISharedCodeCell,
  ISharedMarkdownCell,
  ISharedNotebook,
  ISharedRawCell
} from '@jupyter/ydoc';
import type * as nbformat from '@jupyterlab/nbformat';
import { JSONExt, PartialJSONValue } from '@lumino/coreutils';

/** How many lines of each cell `list_cells` shows, and how long each may be. */
const FIRST_LINES = 3;
const LINE_LIMIT = 200;

/** One cell as `list_cells` describes it. */
export interface ICellSummary {
  index: number;
  id: string;
  cell_type: string;
  first_lines: string;
  execution_count: number | null;
  output_kinds: string[];
  error_name: string | null;
}

/** A cell found by id, with where it is now. */
export interface IFoundCell {
  cell: ISharedCell;
  index: number;
}

/** Whether the cell is a code cell (outputs, execution count). */
export function isCodeCell(cell: ISharedCell): cell is ISharedCodeCell {
  return cell.cell_type === 'code';
}

function hasAttachments(
  cell: ISharedCell
): cell is ISharedMarkdownCell | ISharedRawCell {
  return cell.cell_type === 'markdown' || cell.cell_type === 'raw';
}

/** The cell with `id`, or `null`. */
export function findCell(
  notebook: ISharedNotebook,
  id: string
): IFoundCell | null {
  const index = notebook.cells.findIndex(cell => cell.id === id);
  return index < 0 ? null : { cell: notebook.cells[index], index };
}

/** The cell as plain nbformat JSON, detached from the document. */
export function cellJSON(cell: ISharedCell): nbformat.ICell {
  return JSON.parse(JSON.stringify(cell.toJSON())) as nbformat.ICell;
}

/** A code cell's outputs (none for other cells). */
export function cellOutputs(cell: ISharedCell): nbformat.IOutput[] {
  return isCodeCell(cell) ? cell.getOutputs() : [];
}

/** A code cell's execution count (`null` for other cells and unrun ones). */
export function executionCount(cell: ISharedCell): number | null {
  return isCodeCell(cell) ? (cell.execution_count ?? null) : null;
}

/** The `ename` of the first error output, or `null`. */
export function errorName(outputs: readonly nbformat.IOutput[]): string | null {
  const error = outputs.find(output => output.output_type === 'error');
  return error && typeof error.ename === 'string' ? error.ename : null;
}

/** Each kind of output once: `stdout`, `stderr`, `error`, or a MIME type. */
export function outputKinds(outputs: readonly nbformat.IOutput[]): string[] {
  const kinds = new Set<string>();
  for (const output of outputs) {
    if (output.output_type === 'stream') {
      kinds.add(String(output.name));
    } else if (output.output_type === 'error') {
      kinds.add('error');
    } else if (isObjectValue(output.data)) {
      Object.keys(output.data).forEach(mime => kinds.add(mime));
    }
  }
  return [...kinds];
}

/** The `list_cells` line for a cell. */
export function summarizeCell(cell: ISharedCell, index: number): ICellSummary {
  const outputs = cellOutputs(cell);
  return {
    index,
    id: cell.id,
    cell_type: cell.cell_type,
    first_lines: firstLines(cell.getSource()),
    execution_count: executionCount(cell),
    output_kinds: outputKinds(outputs),
    error_name: errorName(outputs)
  };
}

/** The first lines of `source`, each cut to a bounded length. */
export function firstLines(source: string): string {
  return source
    .split('\n')
    .slice(0, FIRST_LINES)
    .map(line =>
      line.length > LINE_LIMIT ? `${line.slice(0, LINE_LIMIT)}…` : line
    )
    .join('\n');
}

/**
 * Put `json` into `cell` where it differs: source, metadata (extra keys removed),
 * outputs, execution count and attachments. The cell keeps its identity (and its editor
 * and undo history); its type must already match.
 */
export function writeCell(cell: ISharedCell, json: nbformat.ICell): void {
  const source = sourceText(json.source);
  if (cell.getSource() !== source) {
    cell.setSource(source);
  }
  writeMetadata(cell, json.metadata ?? {});
  if (isCodeCell(cell)) {
    const outputs = (json.outputs ?? []) as nbformat.IOutput[];
    if (!JSONExt.deepEqual(jsonValue(cell.getOutputs()), jsonValue(outputs))) {
      cell.setOutputs(outputs);
    }
    const count = (json.execution_count ?? null) as number | null;
    if ((cell.execution_count ?? null) !== count) {
      cell.execution_count = count;
    }
  } else if (hasAttachments(cell)) {
    const attachments = json.attachments as nbformat.IAttachments | undefined;
    if (
      !JSONExt.deepEqual(
        jsonValue(cell.getAttachments()),
        jsonValue(attachments)
      )
    ) {
      cell.setAttachments(attachments);
    }
  }
}

/** nbformat allows a source as a list of lines. */
export function sourceText(
  source: nbformat.MultilineString | undefined
): string {
  return Array.isArray(source) ? source.join('') : (source ?? '');
}

function writeMetadata(
  cell: ISharedCell,
  metadata: nbformat.ICell['metadata']
): void {
  const wanted = jsonValue(metadata) as Record<string, PartialJSONValue>;
  for (const key of Object.keys(cell.getMetadata())) {
    if (!(key in wanted)) {
      cell.deleteMetadata(key);
    }
  }
  if (!JSONExt.deepEqual(jsonValue(cell.getMetadata()), wanted)) {
    cell.setMetadata(wanted);
  }
}

/** `value` as comparable JSON (`undefined` → `null`). */
function jsonValue(value: unknown): PartialJSONValue {
  return value === undefined
    ? null
    : (JSON.parse(JSON.stringify(value)) as PartialJSONValue);
}

function isObjectValue(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
