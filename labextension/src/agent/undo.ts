/**
 * "Undo this turn": what the agent's cells were before it touched them, and putting them
 * back in one shared-model transaction (issue 13, item 3).
 *
 * A turn makes a `TurnSnapshot` before its first change (it notes the order of the cells),
 * then records each existing cell as nbformat JSON before the turn first changes it, and
 * each cell the turn creates. `restore()` writes the recorded cells back in place (same
 * Yjs cell, so editors and per-cell undo history stay), removes the created ones and
 * re-inserts the deleted ones after their old neighbour: one Yjs transaction, so
 * collaborators see one change. The transaction's origin is added for that moment to
 * the undo managers of the cells it rewrites and of the document, so Ctrl+Z in a cell
 * (or the notebook's undo when it is document-wide) steps back over the restore cleanly
 * instead of replaying the agent's edits on top of it.
 */
import type { ISharedCell, ISharedNotebook } from '@jupyter/ydoc';
import type * as nbformat from '@jupyterlab/nbformat';

import { cellJSON, writeCell } from './cells';

/** A cell as it was before the turn first changed it. */
export interface ICellRecord {
  id: string;
  /** Its position when recorded. */
  index: number;
  cell: nbformat.ICell;
}

/** What `restore()` did. */
export interface IRestoreSummary {
  rewritten: number;
  reinserted: number;
  removed: number;
}

/** The part of a Yjs `UndoManager` the restore uses. */
interface IUndoTracker {
  trackedOrigins: Set<unknown>;
  stopCapturing(): void;
}

/** One turn's undo record for one notebook. */
export class TurnSnapshot {
  private readonly _order: string[];
  private readonly _records = new Map<string, ICellRecord>();
  private readonly _created = new Set<string>();
  private _restored = false;

  /** Call before the turn's first change: notes the cells' order now. */
  constructor(private readonly _notebook: ISharedNotebook) {
    this._order = _notebook.cells.map(cell => cell.id);
  }

  /** The ids of every cell the turn changed or made (for marking them). */
  get touched(): string[] {
    return [...this._records.keys(), ...this._created];
  }

  /** Whether the turn has changed nothing yet. */
  get isEmpty(): boolean {
    return this._records.size === 0 && this._created.size === 0;
  }

  /** Whether `restore()` has run. */
  get restored(): boolean {
    return this._restored;
  }

  /** The recorded cells, in the order they were recorded. */
  get records(): ICellRecord[] {
    return [...this._records.values()];
  }

  /** The ids of the cells the turn made. */
  get created(): string[] {
    return [...this._created];
  }

  /**
   * Record the cell `id` as it is now, before the turn changes it; later calls and cells
   * the turn made are no-ops. `false` when there is no such cell.
   */
  recordBefore(id: string): boolean {
    if (this._records.has(id) || this._created.has(id)) {
      return true;
    }
    const index = this._notebook.cells.findIndex(cell => cell.id === id);
    if (index < 0) {
      return false;
    }
    this._records.set(id, {
      id,
      index,
      cell: cellJSON(this._notebook.cells[index])
    });
    return true;
  }

  /** Note a cell the turn made: `restore()` removes it. */
  recordCreated(id: string): void {
    if (!this._records.has(id)) {
      this._created.add(id);
    }
  }

  /** Put every touched cell back as recorded, in one transaction; once per snapshot. */
  restore(): IRestoreSummary {
    const summary = { rewritten: 0, reinserted: 0, removed: 0 };
    if (this._restored || this.isEmpty) {
      this._restored = true;
      return summary;
    }
    this._restored = true;
    const notebook = this._notebook;
    // `notebook.cells` follows the Yjs array only when a transaction ends, so positions
    // inside the transaction come from this running copy of the ids.
    const ids = notebook.cells.map(cell => cell.id);
    const cells = new Map(notebook.cells.map(cell => [cell.id, cell]));
    const origin = { restore: 'kimi-jupyter agent turn' };
    const trackers = undoTrackers(notebook, this.records, cells);
    trackers.forEach(tracker => {
      tracker.stopCapturing();
      tracker.trackedOrigins.add(origin);
    });
    try {
      notebook.transact(() => this._apply(ids, cells, summary), false, origin);
    } finally {
      trackers.forEach(tracker => {
        tracker.trackedOrigins.delete(origin);
        tracker.stopCapturing();
      });
    }
    return summary;
  }

  private _apply(
    ids: string[],
    cells: Map<string, ISharedCell>,
    summary: IRestoreSummary
  ): void {
    const notebook = this._notebook;
    for (const id of this._created) {
      const at = ids.indexOf(id);
      if (at >= 0) {
        notebook.deleteCell(at);
        ids.splice(at, 1);
        summary.removed += 1;
      }
    }
    for (const record of this._inOriginalOrder()) {
      const at = ids.indexOf(record.id);
      const cell = cells.get(record.id);
      if (at >= 0 && cell && cell.cell_type === record.cell.cell_type) {
        writeCell(cell, record.cell);
        summary.rewritten += 1;
        continue;
      }
      if (at >= 0) {
        notebook.deleteCell(at);
        ids.splice(at, 1);
      }
      const to = at >= 0 ? at : this._insertionIndex(record, ids);
      notebook.insertCell(to, record.cell);
      ids.splice(to, 0, record.id);
      summary.reinserted += 1;
    }
  }

  /** Records by their place at the turn's start, so each deleted cell's anchor is back. */
  private _inOriginalOrder(): ICellRecord[] {
    const place = (record: ICellRecord) => {
      const at = this._order.indexOf(record.id);
      return at < 0 ? record.index : at;
    };
    return this.records.sort((a, b) => place(a) - place(b));
  }

  /** Right after the nearest cell that preceded it at the turn's start and is still here. */
  private _insertionIndex(record: ICellRecord, ids: string[]): number {
    const start = this._order.indexOf(record.id);
    if (start < 0) {
      return Math.min(record.index, ids.length);
    }
    for (let i = start - 1; i >= 0; i--) {
      const at = ids.indexOf(this._order[i]);
      if (at >= 0) {
        return at + 1;
      }
    }
    return 0;
  }
}

/** The document's undo manager and those of the cells rewritten in place. */
function undoTrackers(
  notebook: ISharedNotebook,
  records: ICellRecord[],
  cells: Map<string, ISharedCell>
): IUndoTracker[] {
  const found = new Set<IUndoTracker>();
  const add = (owner: unknown) => {
    const manager = (owner as { undoManager?: unknown } | undefined)
      ?.undoManager;
    if (isUndoTracker(manager)) {
      found.add(manager);
    }
  };
  add(notebook);
  records.forEach(record => add(cells.get(record.id)));
  return [...found];
}

function isUndoTracker(value: unknown): value is IUndoTracker {
  const manager = value as Partial<IUndoTracker> | null | undefined;
  return (
    manager?.trackedOrigins instanceof Set &&
    typeof manager.stopCapturing === 'function'
  );
}
