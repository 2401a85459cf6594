import { notebookRunner } from '../agent/runner';
import {
  approvedSteps,
  ChangeStep,
  editableSource,
  needsApproval,
  parseStep
} from '../agent/steps';

describe('parseStep', () => {
  it('keeps the checked fields of each tool, and nothing else', () => {
    expect(parseStep('list_cells', undefined)).toEqual({ tool: 'list_cells' });
    expect(
      parseStep('run_cell', {
        cell_id: 'a',
        approved: true,
        decision: 'approve'
      })
    ).toEqual({ tool: 'run_cell', cell_id: 'a' });
    expect(
      parseStep('edit_cell', { cell_id: 'a', source: 'x', mode: 'auto' })
    ).toEqual({
      tool: 'edit_cell',
      cell_id: 'a',
      source: 'x'
    });
    expect(parseStep('insert_cell', { index: 0, source: '' })).toEqual({
      tool: 'insert_cell',
      index: 0,
      source: '',
      cell_type: 'code'
    });
    expect(
      parseStep('insert_cell', {
        index: 2,
        source: '# t',
        cell_type: 'markdown'
      })
    ).toMatchObject({ cell_type: 'markdown' });
  });

  it('says what is wrong in one line', () => {
    const cases: [unknown, unknown, RegExp][] = [
      ['rm_rf', {}, /^unknown tool "rm_rf"$/],
      [undefined, {}, /^unknown tool "undefined"$/],
      ['__proto__', {}, /^unknown tool/],
      ['read_cell', 'cell 1', /must be a JSON object/],
      ['read_cell', {}, /^read_cell: cell_id must be a cell's id/],
      ['delete_cell', { cell_id: '' }, /cell_id/],
      ['edit_cell', { cell_id: 'a' }, /^edit_cell: source must be a string$/],
      ['insert_cell', { index: -1, source: '' }, /index must be an integer/],
      ['insert_cell', { index: '1', source: '' }, /index must be an integer/],
      ['insert_cell', { index: 1 }, /source must be a string/],
      ['insert_cell', { index: 1, source: '', cell_type: 'raw' }, /cell_type/]
    ];
    for (const [tool, args, pattern] of cases) {
      const result = parseStep(tool, args);
      expect('error' in result && result.error).toMatch(pattern);
    }
  });
});

describe('approval', () => {
  const run: ChangeStep = { tool: 'run_cell', cell_id: 'a' };
  const del: ChangeStep = { tool: 'delete_cell', cell_id: 'a' };
  const edit: ChangeStep = { tool: 'edit_cell', cell_id: 'a', source: 'new' };
  const insert: ChangeStep = {
    tool: 'insert_cell',
    index: 1,
    source: 'x = 1',
    cell_type: 'code'
  };

  it('asks per mode; reading never asks', () => {
    const read = { tool: 'read_cell', cell_id: 'a' } as const;
    expect(
      [run, del, edit, insert, read].map(s => needsApproval(s, 'ask'))
    ).toEqual([true, true, true, true, false]);
    expect(
      [run, del, edit, insert, read].map(s =>
        needsApproval(s, 'ask_run_delete')
      )
    ).toEqual([true, true, false, false, false]);
    expect([run, del, edit, insert].some(s => needsApproval(s, 'auto'))).toBe(
      false
    );
  });

  it('carries out nothing on Skip, and the edited text on Edit', () => {
    for (const step of [run, del, edit, insert]) {
      expect(approvedSteps(step, { decision: 'skip' })).toEqual([]);
      expect(approvedSteps(step, { decision: 'approve' })).toEqual([step]);
    }
    expect(
      approvedSteps(insert, { decision: 'edit', source: 'x = 2' })
    ).toEqual([{ ...insert, source: 'x = 2' }]);
    expect(approvedSteps(edit, { decision: 'edit', source: 'mine' })).toEqual([
      { ...edit, source: 'mine' }
    ]);
    expect(
      approvedSteps(run, { decision: 'edit', source: 'fixed' }, 'old')
    ).toEqual([{ tool: 'edit_cell', cell_id: 'a', source: 'fixed' }, run]);
    expect(
      approvedSteps(run, { decision: 'edit', source: 'old' }, 'old')
    ).toEqual([run]);
  });

  it('builds fresh steps: extra fields of a proposal go nowhere', () => {
    const sneaky = { ...run, approved: true, auto: true } as ChangeStep;
    const [step] = approvedSteps(sneaky, { decision: 'approve' });
    expect(step).toEqual({ tool: 'run_cell', cell_id: 'a' });
    expect(Object.keys(step)).toEqual(['tool', 'cell_id']);
  });

  it('starts editing from the proposal, or the cell for a run; deletes have no text', () => {
    expect(editableSource(insert, '')).toBe('x = 1');
    expect(editableSource(edit, 'old')).toBe('new');
    expect(editableSource(run, 'old')).toBe('old');
    expect(editableSource(del, 'old')).toBeNull();
  });
});

describe('notebookRunner', () => {
  function fakeNotebook() {
    const cells = [{ model: { id: 'a' } }, { model: { id: 'b' } }];
    return { widgets: cells, mode: 'edit', isDisposed: false };
  }

  it('runs the one cell with NotebookActions.runCells, keeping edit mode', async () => {
    const notebook = fakeNotebook();
    const session = {};
    const runCells = jest.fn(async () => true);
    const actions = {
      runCells: jest.fn((...args: unknown[]) => {
        notebook.mode = 'command';
        return runCells(...(args as []));
      })
    };
    const runner = notebookRunner(
      notebook as never,
      session as never,
      actions as never
    );
    expect(await runner.run('b')).toBe(true);
    expect(actions.runCells).toHaveBeenCalledWith(
      notebook,
      [notebook.widgets[1]],
      session
    );
    expect(notebook.mode).toBe('edit');
  });

  it('gives false for a cell the notebook does not show', async () => {
    const notebook = fakeNotebook();
    const actions = { runCells: jest.fn(async () => true) };
    const runner = notebookRunner(
      notebook as never,
      {} as never,
      actions as never
    );
    expect(await runner.run('zzz')).toBe(false);
    expect(actions.runCells).not.toHaveBeenCalled();
  });
});
