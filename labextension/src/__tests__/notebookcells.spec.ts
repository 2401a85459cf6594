/**
 * The page's side of `@notebook` / `@cell:N`: which questions carry the notebook, the
 * cells as the kernel reads them, and the output budget (nearest the asking cell first).
 */
import {
  announceLiveView,
  LIVE_METADATA_KEY,
  liveLine
} from '../cellliveplugin';
import { parseChatRequest } from '../chatprotocol';
import {
  cellIndex,
  mentionsNotebook,
  notebookData,
  withNotebook
} from '../notebookcells';
import { hideYdocWarnings, sampleCells, sharedNotebook } from './agentfakes';

hideYdocWarnings();

describe('mentionsNotebook', () => {
  it('finds the mentions the kernel finds, and nothing else', () => {
    for (const text of [
      'summarise @notebook',
      'what does @cell:3 do?',
      'is @cell:a1-b2 right',
      'see @notebook.',
      '(@notebook)'
    ]) {
      expect(mentionsNotebook(text)).toBe(true);
    }
    for (const text of [
      'mail ana@notebook.org',
      'what is @notebooks',
      '@notebook.cells is a variable',
      '@notebook[0]',
      '@cell is a name',
      '@@notebook',
      'no mention'
    ]) {
      expect(mentionsNotebook(text)).toBe(false);
    }
  });
});

describe('notebookData', () => {
  it('sends every cell as nbformat JSON without metadata or attachments', () => {
    const data = notebookData(sharedNotebook(), 2, 'nb.ipynb');
    expect(data.current).toBe(2);
    expect(data.name).toBe('nb.ipynb');
    expect(data.cells.map(c => c.id)).toEqual([
      'intro',
      'load',
      'plot',
      'broken',
      'notes',
      'empty'
    ]);
    expect(data.cells[0]).toEqual({
      id: 'intro',
      cell_type: 'markdown',
      source: '# Data\n\nSee ![x](attachment:x.png)'
    });
    expect(data.cells[1]).toMatchObject({
      cell_type: 'code',
      execution_count: 1,
      outputs: sampleCells()[1].outputs
    });
  });

  it('keeps the outputs nearest the asking cell within the budget, and says so', () => {
    const notebook = sharedNotebook();
    const plot = JSON.stringify(
      (sampleCells()[2].outputs as unknown[])[0]
    ).length;
    const data = notebookData(notebook, 2, '', plot + 10);
    expect(data.cells[2].outputs).toHaveLength(1); // the asking cell's own first
    expect(data.cells[1].outputs).toEqual([]);
    expect(data.cells[1].outputs_left_out).toBe(2);
    expect(data.cells[3].outputs_left_out).toBe(1);
    expect(data.cells[2].outputs_left_out).toBeUndefined();
  });

  it('finds the asking cell by id', () => {
    const notebook = sharedNotebook();
    expect(cellIndex(notebook, 'broken')).toBe(3);
    expect(cellIndex(notebook, 'gone')).toBeNull();
    expect(cellIndex(notebook, undefined)).toBeNull();
  });
});

describe('the panel question', () => {
  const ask = {
    type: 'ask' as const,
    id: 'q',
    session: 'default',
    prompt: 'what does @cell:2 load?'
  };

  it('carries the notebook only when it mentions it, and fits the protocol', () => {
    const notebook = sharedNotebook();
    const request = withNotebook(ask, notebook, 'nb.ipynb');
    expect(request.notebook?.cells).toHaveLength(6);
    expect(request.notebook?.current).toBeNull();
    expect(parseChatRequest(JSON.parse(JSON.stringify(request)))).toEqual(
      JSON.parse(JSON.stringify(request))
    );
    const plain = { ...ask, prompt: 'what is @df?' };
    expect(withNotebook(plain, notebook)).toBe(plain);
    expect(withNotebook(ask, null)).toBe(ask);
  });
});

describe('the execute request', () => {
  it('adds the cells to a request whose code mentions the notebook', () => {
    const calls: unknown[][] = [];
    const kernel = {
      requestExecute: (...args: unknown[]) => {
        calls.push(args);
        return 'future';
      }
    };
    const notebook = sharedNotebook();
    announceLiveView(kernel as any, { notebook, name: () => 'nb.ipynb' });
    kernel.requestExecute({ code: '%%kimi\nwhy does @cell:4 fail?' }, false, {
      cellId: 'empty'
    });
    kernel.requestExecute({ code: 'x = 1' }, false, { cellId: 'load' });
    const line = (calls[0][2] as Record<string, any>)[LIVE_METADATA_KEY];
    expect(line.live).toBe(1);
    expect(line.notebook.current).toBe(5);
    expect(line.notebook.name).toBe('nb.ipynb');
    expect(line.notebook.cells[3].outputs[0].ename).toBe('ZeroDivisionError');
    expect(calls[1][2]).toEqual({
      cellId: 'load',
      [LIVE_METADATA_KEY]: { live: 1 }
    });
  });

  it('sends only the live line without a notebook to read', () => {
    expect(liveLine('@notebook', 'c', null)).toEqual({ live: 1 });
  });
});
