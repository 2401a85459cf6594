/**
 * Carries out one agent step on a notebook through its shared model (issue 13, item 1).
 *
 * Every change goes through `model.sharedModel`, so collaborators see it and the turn's
 * `TurnSnapshot` records each cell before its first change. Running goes through an
 * injected `ICellRunner` (`notebookRunner` in JupyterLab: the notebook's own run action),
 * so outputs land in the document as if the user had run the cell. A bad call (unknown
 * id, index out of range, a cell that cannot run) is one error result, never an exception.
 */
import type { ISharedNotebook } from '@jupyter/ydoc';
import type * as nbformat from '@jupyterlab/nbformat';

import {
  cellJSON,
  cellOutputs,
  errorName,
  executionCount,
  findCell,
  ICellSummary,
  IFoundCell,
  summarizeCell
} from './cells';
import { AgentStep, CellKind, quote, ToolName } from './steps';
import { TurnSnapshot } from './undo';

/** Runs one cell the way the notebook runs it, resolving when it has finished. */
export interface ICellRunner {
  /**
   * `true` when the run completed without error; `false` when the cell raised, or did not
   * run or finish (no kernel, interrupted, the kernel restarted).
   */
  run(cellId: string): Promise<boolean>;
}

/** A cell's source and outputs, for `read_cell`. */
export interface ICellContent {
  id: string;
  index: number;
  cell_type: string;
  source: string;
  execution_count: number | null;
  outputs: nbformat.IOutput[];
}

/** What a step gave back; every failure is `{status: 'error', error}`. */
export type StepResult =
  | { status: 'ok'; tool: 'list_cells'; cells: ICellSummary[] }
  | { status: 'ok'; tool: 'read_cell'; cell: ICellContent }
  | {
      status: 'ok';
      tool: 'insert_cell' | 'edit_cell' | 'delete_cell';
      cell_id: string;
    }
  | {
      status: 'ok';
      tool: 'run_cell';
      cell_id: string;
      execution_count: number | null;
      outputs: nbformat.IOutput[];
      error_name: string | null;
    }
  | { status: 'error'; tool: ToolName; error: string };

/** What an executor works on: the notebook, its runner, and the turn's undo record. */
export interface IExecutorOptions {
  notebook: ISharedNotebook;
  runner: ICellRunner;
  snapshot?: TurnSnapshot | null;
}

/** Applies agent steps to one notebook for one turn. */
export class NotebookExecutor {
  private readonly _notebook: ISharedNotebook;
  private readonly _runner: ICellRunner;
  private readonly _snapshot: TurnSnapshot | null;

  constructor(options: IExecutorOptions) {
    this._notebook = options.notebook;
    this._runner = options.runner;
    this._snapshot = options.snapshot ?? null;
  }

  /** Carry out `step` (already approved where it needed to be). */
  async apply(step: AgentStep): Promise<StepResult> {
    switch (step.tool) {
      case 'list_cells':
        return this.listCells();
      case 'read_cell':
        return this.readCell(step.cell_id);
      case 'insert_cell':
        return this.insertCell(step.index, step.source, step.cell_type);
      case 'edit_cell':
        return this.editCell(step.cell_id, step.source);
      case 'delete_cell':
        return this.deleteCell(step.cell_id);
      case 'run_cell':
        return this.runCell(step.cell_id);
    }
  }

  /** Every cell, briefly. */
  listCells(): StepResult {
    const cells = this._notebook.cells.map((cell, index) =>
      summarizeCell(cell, index)
    );
    return { status: 'ok', tool: 'list_cells', cells };
  }

  /** One cell's source and outputs. */
  readCell(cellId: string): StepResult {
    const found = this._find('read_cell', cellId);
    if ('error' in found) {
      return found;
    }
    return { status: 'ok', tool: 'read_cell', cell: cellContent(found) };
  }

  /** A new cell at `index` (0 to the number of cells); gives its id. */
  insertCell(
    index: number,
    source: string,
    cellType: CellKind = 'code'
  ): StepResult {
    const count = this._notebook.cells.length;
    if (!Number.isInteger(index) || index < 0 || index > count) {
      return failure(
        'insert_cell',
        `index ${quote(index)} is out of range: a new cell goes at 0 to ${count}`
      );
    }
    const cell = this._notebook.insertCell(index, {
      cell_type: cellType,
      source,
      metadata: {}
    });
    this._snapshot?.recordCreated(cell.id);
    return { status: 'ok', tool: 'insert_cell', cell_id: cell.id };
  }

  /** Replace a cell's source. */
  editCell(cellId: string, source: string): StepResult {
    const found = this._find('edit_cell', cellId);
    if ('error' in found) {
      return found;
    }
    this._snapshot?.recordBefore(cellId);
    found.cell.setSource(source);
    return { status: 'ok', tool: 'edit_cell', cell_id: cellId };
  }

  /** Remove a cell. */
  deleteCell(cellId: string): StepResult {
    const found = this._find('delete_cell', cellId);
    if ('error' in found) {
      return found;
    }
    this._snapshot?.recordBefore(cellId);
    this._notebook.deleteCell(found.index);
    return { status: 'ok', tool: 'delete_cell', cell_id: cellId };
  }

  /** Run a code cell through the runner, wait for the end, give its outputs. */
  async runCell(cellId: string): Promise<StepResult> {
    const found = this._find('run_cell', cellId);
    if ('error' in found) {
      return found;
    }
    if (found.cell.cell_type !== 'code') {
      return failure(
        'run_cell',
        `cell ${quote(cellId)} is a ${found.cell.cell_type} cell: only code cells run`
      );
    }
    this._snapshot?.recordBefore(cellId);
    let completed: boolean;
    try {
      completed = await this._runner.run(cellId);
    } catch (reason) {
      return failure(
        'run_cell',
        `cell ${quote(cellId)} could not run: ${String(reason)}`
      );
    }
    return this._runResult(cellId, completed);
  }

  private _runResult(cellId: string, completed: boolean): StepResult {
    const after = findCell(this._notebook, cellId);
    if (!after) {
      return failure(
        'run_cell',
        `cell ${quote(cellId)} was deleted while it ran`
      );
    }
    const outputs = cellOutputs(after.cell);
    const error = errorName(outputs);
    if (!completed && error === null) {
      return failure(
        'run_cell',
        `cell ${quote(cellId)} did not finish (no kernel, interrupted, or the kernel restarted)`
      );
    }
    return {
      status: 'ok',
      tool: 'run_cell',
      cell_id: cellId,
      execution_count: executionCount(after.cell),
      outputs,
      error_name: error
    };
  }

  private _find(
    tool: ToolName,
    cellId: string
  ): IFoundCell | { status: 'error'; tool: ToolName; error: string } {
    const found =
      typeof cellId === 'string' ? findCell(this._notebook, cellId) : null;
    return (
      found ??
      failure(
        tool,
        `no cell has the id ${quote(cellId)} (list_cells gives the ids)`
      )
    );
  }
}

/** `read_cell`'s view of a found cell. */
export function cellContent(found: IFoundCell): ICellContent {
  const json = cellJSON(found.cell);
  return {
    id: found.cell.id,
    index: found.index,
    cell_type: found.cell.cell_type,
    source: found.cell.getSource(),
    execution_count: executionCount(found.cell),
    outputs:
      json.cell_type === 'code' ? (json.outputs as nbformat.IOutput[]) : []
  };
}

function failure(
  tool: ToolName,
  error: string
): { status: 'error'; tool: ToolName; error: string } {
  return { status: 'error', tool, error };
}
