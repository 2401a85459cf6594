import { NotebookExecutor, StepResult } from '../agent/executor';
import { AgentStep } from '../agent/steps';
import { TurnSnapshot } from '../agent/undo';
import {
  FakeRunner,
  hideYdocWarnings,
  sampleCells,
  sharedNotebook
} from './agentfakes';

hideYdocWarnings();

function setup() {
  const notebook = sharedNotebook();
  const runner = new FakeRunner(notebook);
  const snapshot = new TurnSnapshot(notebook);
  const executor = new NotebookExecutor({ notebook, runner, snapshot });
  return { notebook, runner, snapshot, executor };
}

const ids = (setupResult: ReturnType<typeof setup>) =>
  setupResult.notebook.cells.map(cell => cell.id);

function expectError(result: StepResult, pattern: RegExp): void {
  expect(result.status).toBe('error');
  expect('error' in result && result.error).toMatch(pattern);
}

describe('NotebookExecutor: reading', () => {
  it('lists every cell briefly', () => {
    const { executor } = setup();
    const result = executor.listCells();
    expect(result.status).toBe('ok');
    const cells =
      result.status === 'ok' && 'cells' in result ? result.cells : [];
    expect(cells.map(cell => cell.id)).toEqual([
      'intro',
      'load',
      'plot',
      'broken',
      'notes',
      'empty'
    ]);
    expect(cells[1]).toEqual({
      index: 1,
      id: 'load',
      cell_type: 'code',
      first_lines: 'import pandas as pd\ndf = pd.read_csv("d.csv")\ndf.head()',
      execution_count: 1,
      output_kinds: ['stdout', 'text/plain', 'text/html'],
      error_name: null
    });
    expect(cells[2].output_kinds).toEqual(['image/png', 'text/plain']);
    expect(cells[3]).toMatchObject({
      output_kinds: ['error'],
      error_name: 'ZeroDivisionError'
    });
    expect(cells[0]).toMatchObject({
      cell_type: 'markdown',
      execution_count: null,
      output_kinds: []
    });
  });

  it('shows the first three lines, each bounded', () => {
    const long = 'x'.repeat(500);
    const notebook = sharedNotebook([
      {
        cell_type: 'code',
        source: `a\nb\n${long}\nd`,
        metadata: {},
        outputs: []
      }
    ]);
    const executor = new NotebookExecutor({
      notebook,
      runner: new FakeRunner(notebook)
    });
    const result = executor.listCells();
    const first = 'cells' in result ? result.cells[0].first_lines : '';
    expect(first).toBe(`a\nb\n${'x'.repeat(200)}…`);
  });

  it('reads a cell: source and nbformat outputs', () => {
    const { executor } = setup();
    const result = executor.readCell('load');
    const sample = sampleCells()[1];
    expect(result).toEqual({
      status: 'ok',
      tool: 'read_cell',
      cell: {
        id: 'load',
        index: 1,
        cell_type: 'code',
        source: sample.source,
        execution_count: 1,
        outputs: sample.outputs
      }
    });
    expectError(executor.readCell('nope'), /^no cell has the id "nope"/);
  });
});

describe('NotebookExecutor: changing', () => {
  it('inserts a cell at an index and gives its id', async () => {
    const s = setup();
    const result = await s.executor.apply({
      tool: 'insert_cell',
      index: 2,
      source: '## Notes',
      cell_type: 'markdown'
    });
    expect(result).toMatchObject({ status: 'ok', tool: 'insert_cell' });
    const id = 'cell_id' in result ? result.cell_id : '';
    const cell = s.notebook.cells[2];
    expect(cell.id).toBe(id);
    expect(cell.cell_type).toBe('markdown');
    expect(cell.getSource()).toBe('## Notes');
    expect(s.snapshot.created).toEqual([id]);
    s.executor.insertCell(s.notebook.cells.length, 'last');
    expect(s.notebook.cells[s.notebook.cells.length - 1].getSource()).toBe(
      'last'
    );
  });

  it('refuses an index out of range, with the range', () => {
    const { executor, notebook } = setup();
    for (const index of [-1, 7, 1.5, NaN]) {
      expectError(
        executor.insertCell(index, 'x'),
        /^index .* is out of range: a new cell goes at 0 to 6$/
      );
    }
    expect(notebook.cells).toHaveLength(6);
  });

  it('edits and deletes cells, recording them first', async () => {
    const s = setup();
    expect(
      await s.executor.apply({
        tool: 'edit_cell',
        cell_id: 'load',
        source: 'y'
      })
    ).toEqual({
      status: 'ok',
      tool: 'edit_cell',
      cell_id: 'load'
    });
    expect(s.notebook.cells[1].getSource()).toBe('y');
    expect(
      await s.executor.apply({ tool: 'delete_cell', cell_id: 'plot' })
    ).toEqual({
      status: 'ok',
      tool: 'delete_cell',
      cell_id: 'plot'
    });
    expect(ids(s)).not.toContain('plot');
    expect(s.snapshot.records.map(r => r.id)).toEqual(['load', 'plot']);
    expect(s.snapshot.records[0].cell.source).toContain('pandas');
  });

  it('gives one error for unknown ids, and changes nothing', async () => {
    const s = setup();
    const before = JSON.stringify(s.notebook.toJSON());
    const steps: AgentStep[] = [
      { tool: 'edit_cell', cell_id: 'gone', source: 'x' },
      { tool: 'delete_cell', cell_id: 'gone' },
      { tool: 'run_cell', cell_id: 'gone' },
      { tool: 'read_cell', cell_id: 'gone' },
      { tool: 'edit_cell', cell_id: 42 as never, source: 'x' }
    ];
    for (const step of steps) {
      const result = await s.executor.apply(step);
      expect(result).toMatchObject({ status: 'error', tool: step.tool });
      expectError(
        result,
        /^no cell has the id .* \(list_cells gives the ids\)$/
      );
    }
    expect(JSON.stringify(s.notebook.toJSON())).toBe(before);
    expect(s.runner.ran).toEqual([]);
    expect(s.snapshot.isEmpty).toBe(true);
  });

  it('quotes a long hostile id cut short', () => {
    const { executor } = setup();
    const result = executor.readCell('<b>' + 'a'.repeat(1000));
    expect('error' in result && result.error.length).toBeLessThan(160);
  });
});

describe('NotebookExecutor: running', () => {
  it('runs a cell through the runner and gives its new outputs', async () => {
    const s = setup();
    s.runner.next = {
      outputs: [
        { output_type: 'stream', name: 'stdout', text: 'hi\n' },
        {
          output_type: 'display_data',
          data: { 'image/png': 'AAAA', 'text/plain': '<Figure>' },
          metadata: {}
        }
      ],
      streamMore: 'there\n'
    };
    const result = await s.executor.apply({
      tool: 'run_cell',
      cell_id: 'plot'
    });
    expect(s.runner.ran).toEqual(['plot']);
    expect(result).toEqual({
      status: 'ok',
      tool: 'run_cell',
      cell_id: 'plot',
      execution_count: 11,
      outputs: [
        { output_type: 'stream', name: 'stdout', text: 'hi\nthere\n' },
        {
          output_type: 'display_data',
          data: { 'image/png': 'AAAA', 'text/plain': '<Figure>' },
          metadata: {}
        }
      ],
      error_name: null
    });
    expect(s.snapshot.records.map(r => r.id)).toEqual(['plot']);
    expect(s.snapshot.records[0].cell.execution_count).toBe(2);
  });

  it('reports a cell that raised as run, with the error name', async () => {
    const s = setup();
    s.runner.next = {
      outputs: [
        {
          output_type: 'error',
          ename: 'KeyError',
          evalue: "'x'",
          traceback: ['KeyError']
        }
      ]
    };
    const result = await s.executor.runCell('load');
    expect(result).toMatchObject({ status: 'ok', error_name: 'KeyError' });
  });

  it('says when a cell did not finish or could not run', async () => {
    const s = setup();
    s.runner.next = { completed: false };
    expectError(await s.executor.runCell('load'), /did not finish/);
    s.runner.next = { throws: new Error('no kernel') };
    expectError(
      await s.executor.runCell('load'),
      /could not run: Error: no kernel$/
    );
  });

  it('runs only code cells', async () => {
    const s = setup();
    expectError(
      await s.executor.runCell('intro'),
      /^cell "intro" is a markdown cell: only code cells run$/
    );
    expect(s.runner.ran).toEqual([]);
  });

  it('notices a cell deleted while it ran', async () => {
    const notebook = sharedNotebook();
    const executor = new NotebookExecutor({
      notebook,
      runner: {
        run: async () => {
          notebook.deleteCell(1);
          return true;
        }
      }
    });
    expectError(await executor.runCell('load'), /was deleted while it ran/);
  });
});
