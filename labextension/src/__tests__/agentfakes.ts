/**
 * Real JupyterLab shared notebooks (`YNotebook`, what `NotebookModel.sharedModel` is) for
 * the agent tests, and a runner that writes outputs into them the way a kernel run does.
 */
import { YCodeCell, YNotebook } from '@jupyter/ydoc';
import type * as nbformat from '@jupyterlab/nbformat';

import type { ICellRunner } from '../agent/executor';

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** Cells with every part undo must keep: metadata, each output type, attachments. */
export function sampleCells(): nbformat.ICell[] {
  return [
    {
      id: 'intro',
      cell_type: 'markdown',
      source: '# Data\n\nSee ![x](attachment:x.png)',
      metadata: { tags: ['intro'] },
      attachments: { 'x.png': { 'image/png': PNG } }
    },
    {
      id: 'load',
      cell_type: 'code',
      source: 'import pandas as pd\ndf = pd.read_csv("d.csv")\ndf.head()',
      metadata: { tags: ['setup'], scrolled: true, custom: { a: [1, 2] } },
      execution_count: 1,
      outputs: [
        { output_type: 'stream', name: 'stdout', text: 'loading\nloaded\n' },
        {
          output_type: 'execute_result',
          execution_count: 1,
          data: { 'text/plain': '   a\n0  1', 'text/html': '<table></table>' },
          metadata: {}
        }
      ]
    },
    {
      id: 'plot',
      cell_type: 'code',
      source: 'df.plot()',
      metadata: { collapsed: true, jupyter: { outputs_hidden: true } },
      execution_count: 2,
      outputs: [
        {
          output_type: 'display_data',
          data: { 'image/png': PNG, 'text/plain': '<Figure>' },
          metadata: { 'image/png': { width: 1, height: 1 } }
        }
      ]
    },
    {
      id: 'broken',
      cell_type: 'code',
      source: '1 / 0',
      metadata: {},
      execution_count: 3,
      outputs: [
        {
          output_type: 'error',
          ename: 'ZeroDivisionError',
          evalue: 'division by zero',
          traceback: ['Traceback', 'ZeroDivisionError: division by zero']
        }
      ]
    },
    { id: 'notes', cell_type: 'raw', source: 'raw text', metadata: {} },
    {
      id: 'empty',
      cell_type: 'code',
      source: '',
      metadata: {},
      execution_count: null,
      outputs: []
    }
  ];
}

/** A shared notebook holding `cells`, with per-cell undo (JupyterLab's default) or not. */
export function sharedNotebook(
  cells: nbformat.ICell[] = sampleCells(),
  perCellUndo = true
): YNotebook {
  return YNotebook.create({
    data: { cells, metadata: {}, nbformat: 4, nbformat_minor: 5 },
    disableDocumentWideUndoRedo: perCellUndo
  });
}

/** The cells as nbformat JSON text, for byte-for-byte comparisons. */
export function cellsText(notebook: YNotebook): string {
  return JSON.stringify(notebook.cells.map(cell => cell.toJSON()));
}

/** What the fake kernel does when a cell runs. */
export interface IFakeRun {
  outputs?: nbformat.IOutput[];
  /** Append this to a stream output, as a kernel's later stdout would. */
  streamMore?: string;
  completed?: boolean;
  throws?: unknown;
}

/**
 * Runs a cell like the output area does during a kernel run: clears the outputs, adds
 * the new ones (appending to a stream) and sets the execution count, each through the
 * shared model; resolves after a tick.
 */
export class FakeRunner implements ICellRunner {
  readonly ran: string[] = [];
  next: IFakeRun = {};
  private _count = 10;

  constructor(private readonly _notebook: YNotebook) {}

  async run(cellId: string): Promise<boolean> {
    this.ran.push(cellId);
    const { outputs = [], streamMore, completed = true, throws } = this.next;
    if (throws !== undefined) {
      throw throws;
    }
    const cell = this._notebook.cells.find(c => c.id === cellId) as YCodeCell;
    cell.clearOutputs();
    await Promise.resolve();
    cell.updateOutputs(0, 0, outputs);
    if (streamMore !== undefined) {
      cell.appendStreamOutput(0, streamMore);
    }
    if (completed) {
      cell.execution_count = ++this._count;
    }
    await Promise.resolve();
    return completed && !outputs.some(o => o.output_type === 'error');
  }
}

/**
 * `@jupyter/ydoc` builds each cell before adding it to the document, which Yjs warns
 * about every time (in JupyterLab too); keep those two warnings out of the test output.
 */
export function hideYdocWarnings(): void {
  const warn = console.warn.bind(console);
  beforeEach(() => {
    jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      const text = args.map(String).join(' ');
      if (
        !/Invalid access: Add Yjs type|\[yjs#509\] Not same Y\.Doc/.test(text)
      ) {
        warn(...args);
      }
    });
  });
  afterEach(() => jest.restoreAllMocks());
}
