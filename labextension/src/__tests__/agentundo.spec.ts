import { YNotebook } from '@jupyter/ydoc';
import * as Y from 'yjs';

import { NotebookExecutor } from '../agent/executor';
import { TurnSnapshot } from '../agent/undo';
import {
  cellsText,
  FakeRunner,
  hideYdocWarnings,
  sharedNotebook
} from './agentfakes';

hideYdocWarnings();

const ids = (nb: YNotebook) => nb.cells.map(cell => cell.id);
const source = (nb: YNotebook, id: string) =>
  nb.cells.find(cell => cell.id === id)?.getSource();

/** A busy agent turn: inserts, edits, runs (new outputs), deletes, a metadata change. */
async function agentTurn(nb: YNotebook, snapshot: TurnSnapshot): Promise<void> {
  const runner = new FakeRunner(nb);
  const ex = new NotebookExecutor({ notebook: nb, runner, snapshot });
  const first = await ex.apply({
    tool: 'insert_cell',
    index: 0,
    source: 'import os',
    cell_type: 'code'
  });
  expect(first.status).toBe('ok');
  await ex.apply({
    tool: 'insert_cell',
    index: 3,
    source: '## Plot',
    cell_type: 'markdown'
  });
  await ex.apply({ tool: 'edit_cell', cell_id: 'load', source: 'df = None' });
  runner.next = {
    outputs: [
      { output_type: 'stream', name: 'stdout', text: 'a\n' },
      { output_type: 'display_data', data: { 'text/plain': 'x' }, metadata: {} }
    ],
    streamMore: 'b\n'
  };
  await ex.apply({ tool: 'run_cell', cell_id: 'load' });
  await ex.apply({ tool: 'delete_cell', cell_id: 'plot' });
  await ex.apply({ tool: 'delete_cell', cell_id: 'intro' });
  await ex.apply({ tool: 'edit_cell', cell_id: 'broken', source: '2 / 0' });
  runner.next = { outputs: [], completed: false };
  await ex.apply({ tool: 'run_cell', cell_id: 'broken' });
  snapshot.recordBefore('notes');
  const notes = nb.cells.find(cell => cell.id === 'notes')!;
  notes.setMetadata('agent', { touched: true });
  notes.setSource('changed');
  if ('error' in first || first.tool !== 'insert_cell') {
    throw new Error('insert failed');
  }
  await ex.apply({ tool: 'run_cell', cell_id: first.cell_id });
}

describe('TurnSnapshot.restore', () => {
  it.each([
    ['per-cell undo', true],
    ['document-wide undo', false]
  ])('puts every touched cell back byte for byte (%s)', async (_, perCell) => {
    const nb = sharedNotebook(undefined, perCell);
    const before = cellsText(nb);
    const load = nb.cells.find(cell => cell.id === 'load');
    const snapshot = new TurnSnapshot(nb);
    expect(snapshot.isEmpty).toBe(true);
    await agentTurn(nb, snapshot);
    expect(cellsText(nb)).not.toBe(before);
    expect(snapshot.touched).toHaveLength(7);
    expect(snapshot.restore()).toEqual({
      rewritten: 3,
      reinserted: 2,
      removed: 2
    });
    expect(cellsText(nb)).toBe(before);
    // Cells changed in place stay the same Yjs cell (editors and history keep working).
    expect(nb.cells.find(cell => cell.id === 'load')).toBe(load);
  });

  it('is one update, and a collaborator sees the same cells', async () => {
    const nb = sharedNotebook();
    const peer = new YNotebook();
    Y.applyUpdate(peer.ydoc, Y.encodeStateAsUpdate(nb.ydoc));
    nb.ydoc.on('update', (update: Uint8Array) =>
      Y.applyUpdate(peer.ydoc, update)
    );
    const before = cellsText(nb);
    expect(cellsText(peer)).toBe(before);
    const snapshot = new TurnSnapshot(nb);
    await agentTurn(nb, snapshot);
    expect(cellsText(peer)).toBe(cellsText(nb));
    const updates: Uint8Array[] = [];
    const cellChanges: unknown[] = [];
    nb.ydoc.on('update', (update: Uint8Array) => updates.push(update));
    peer.changed.connect((_, change) => {
      if (change.cellsChange) {
        cellChanges.push(change.cellsChange);
      }
    });
    snapshot.restore();
    expect(updates).toHaveLength(1);
    expect(cellChanges).toHaveLength(1);
    expect(cellsText(peer)).toBe(before);
  });

  it('leaves per-cell undo working: Ctrl+Z steps back over the restore', async () => {
    const nb = sharedNotebook();
    const snapshot = new TurnSnapshot(nb);
    const runner = new FakeRunner(nb);
    const ex = new NotebookExecutor({ notebook: nb, runner, snapshot });
    await ex.apply({ tool: 'edit_cell', cell_id: 'load', source: 'df = None' });
    snapshot.restore();
    const load = nb.cells.find(cell => cell.id === 'load')!;
    const original = load.getSource();
    expect(load.undo()).toBe(true);
    expect(load.getSource()).toBe('df = None');
    expect(load.redo()).toBe(true);
    expect(load.getSource()).toBe(original);
    // And the user's own typing afterwards undoes as usual.
    load.setSource('typed');
    load.undo();
    expect(load.getSource()).toBe(original);
  });

  it('is one step of the notebook undo, with no duplicated cells', async () => {
    for (const perCell of [true, false]) {
      const nb = sharedNotebook(undefined, perCell);
      const before = cellsText(nb);
      const snapshot = new TurnSnapshot(nb);
      await agentTurn(nb, snapshot);
      const agentIds = ids(nb);
      snapshot.restore();
      expect(nb.undo()).toBe(true);
      expect(ids(nb)).toEqual(agentIds);
      expect(source(nb, 'load')).toBe('df = None');
      expect(nb.redo()).toBe(true);
      expect(cellsText(nb)).toBe(before);
    }
  });

  it('keeps cells a collaborator added during the turn', async () => {
    const nb = sharedNotebook();
    const snapshot = new TurnSnapshot(nb);
    nb.insertCell(2, { id: 'mine', cell_type: 'code', source: 'mine' });
    const ex = new NotebookExecutor({
      notebook: nb,
      runner: new FakeRunner(nb),
      snapshot
    });
    await ex.apply({ tool: 'delete_cell', cell_id: 'broken' });
    await ex.apply({ tool: 'delete_cell', cell_id: 'load' });
    snapshot.restore();
    expect(ids(nb)).toEqual([
      'intro',
      'load',
      'mine',
      'plot',
      'broken',
      'notes',
      'empty'
    ]);
  });

  it('restores once; an empty turn changes nothing', async () => {
    const nb = sharedNotebook();
    const updates: unknown[] = [];
    nb.ydoc.on('update', (u: Uint8Array) => updates.push(u));
    const empty = new TurnSnapshot(nb);
    expect(empty.restore()).toEqual({
      rewritten: 0,
      reinserted: 0,
      removed: 0
    });
    expect(updates).toHaveLength(0);

    const snapshot = new TurnSnapshot(nb);
    const ex = new NotebookExecutor({
      notebook: nb,
      runner: new FakeRunner(nb),
      snapshot
    });
    await ex.apply({ tool: 'edit_cell', cell_id: 'load', source: 'x' });
    snapshot.restore();
    expect(snapshot.restored).toBe(true);
    nb.cells[1].setSource('user typed');
    expect(snapshot.restore().rewritten).toBe(0);
    expect(source(nb, 'load')).toBe('user typed');
  });

  it('records a cell once, before its first change, and knows unknown ids', () => {
    const nb = sharedNotebook();
    const snapshot = new TurnSnapshot(nb);
    expect(snapshot.recordBefore('nope')).toBe(false);
    expect(snapshot.recordBefore('load')).toBe(true);
    nb.cells[1].setSource('first change');
    snapshot.recordBefore('load');
    expect(snapshot.records).toHaveLength(1);
    expect(snapshot.records[0]).toMatchObject({ id: 'load', index: 1 });
    expect(snapshot.records[0].cell.source).toContain('pandas');
    snapshot.recordCreated('new');
    snapshot.recordBefore('new');
    expect(snapshot.created).toEqual(['new']);
    expect(snapshot.records).toHaveLength(1);
  });
});
