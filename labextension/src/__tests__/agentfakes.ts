/**
 * Real JupyterLab shared notebooks (`YNotebook`, what `NotebookModel.sharedModel` is) for
 * the agent tests, and a runner that writes outputs into them the way a kernel run does.
 */
import { YCodeCell, YNotebook } from '@jupyter/ydoc';
import type * as nbformat from '@jupyterlab/nbformat';

import { AgentController, AgentRequest } from '../agent/controller';
import type { ICellRunner } from '../agent/executor';
import type { ApprovalMode } from '../agent/steps';
import type { IAgentResultRequest } from '../chatprotocol';

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

type Listener = () => void;

/** What `setup` starts from. */
export interface ISetupOptions {
  notebook?: YNotebook;
  mode?: ApprovalMode;
  cap?: number;
}

/**
 * A controller on `notebook` (the sample one) with the switch on, and agent turn `t1`
 * asked: what it sends is collected, the cells it marks are kept, and the notebook's
 * interrupts and restarts are fired by hand (`fire(hooks.interrupt)`).
 */
export function setup({
  notebook = sharedNotebook(),
  mode = 'ask',
  cap = 20
}: ISetupOptions = {}) {
  const runner = new FakeRunner(notebook);
  const sent: AgentRequest[] = [];
  const marked = new Set<string>();
  const hooks = { interrupt: new Set<Listener>(), lost: new Set<Listener>() };
  const controller = new AgentController({
    send: request => {
      sent.push(request);
      return true;
    }
  });
  const subscribe = (set: Set<Listener>) => (listener: Listener) => {
    set.add(listener);
    return () => set.delete(listener);
  };
  controller.bind({
    key: notebook,
    notebook,
    runner,
    mark: (ids, on) =>
      ids.forEach(id => (on ? marked.add(id) : marked.delete(id))),
    onInterrupt: subscribe(hooks.interrupt),
    onKernelLost: subscribe(hooks.lost)
  });
  controller.setSettings({ enabled: true, mode, cap });
  const asked = controller.ask({
    type: 'ask',
    id: 't1',
    session: 'default',
    prompt: 'Plot it'
  });
  const fire = (set: Set<Listener>) => [...set].forEach(listener => listener());
  const steps = () => controller.viewOf('t1') as HTMLElement;
  const history = () => controller.settings.record as HTMLElement;
  return {
    notebook,
    runner,
    sent,
    marked,
    hooks,
    controller,
    asked,
    fire,
    steps,
    history
  };
}

/** The kernel's `agent_propose` of step `step` of turn `id`. */
export function propose(
  step: number,
  tool: string,
  args: Record<string, unknown>,
  needsApproval = false,
  id = 't1'
) {
  return {
    type: 'agent_propose',
    id,
    step,
    tool,
    args,
    preview: {},
    needs_approval: needsApproval
  };
}

export const INSERT = { index: 1, source: 'df.plot()', cell_type: 'code' };

/** Let pending promises run (a card waits: `settled()` would wait for it). */
export const flush = () => new Promise(resolve => setTimeout(resolve, 0));

/** The `agent_result`s among `sent`. */
export const results = (sent: AgentRequest[]) =>
  sent.filter((r): r is IAgentResultRequest => r.type === 'agent_result');
