import {
  addInsertCodeButtons,
  askCellSource,
  findCodeBlocks,
  insertCode,
  locateOutput,
  NotebookActionsApi,
  outputMention,
  setCodeInserter
} from '../actions';
import { addCodeCopyButtons } from '../clipboard';

describe('outputMention and askCellSource', () => {
  it('names an execute_result by its execution count', () => {
    const output = { type: 'execute_result', executionCount: 3 };
    expect(outputMention(output)).toBe('@Out[3]');
    expect(askCellSource(output)).toBe('%%kimi\nWhat does @Out[3] show? ');
  });

  it('uses @last for display_data, streams and results without a count', () => {
    expect(outputMention({ type: 'display_data', executionCount: null })).toBe(
      '@last'
    );
    expect(outputMention({ type: 'stream' })).toBe('@last');
    expect(
      outputMention({ type: 'execute_result', executionCount: null })
    ).toBe('@last');
    expect(outputMention(null)).toBe('@last');
    expect(askCellSource({ type: 'display_data' })).toBe(
      '%%kimi\nWhat does @last show? '
    );
  });
});

function rendered(): HTMLElement {
  const host = document.createElement('div');
  host.innerHTML =
    '<p>Try</p><pre><code class="language-python">x = 1\nprint(x)\n</code></pre>' +
    '<p>or</p><pre><code>echo hi</code></pre>';
  return host;
}

describe('findCodeBlocks', () => {
  it('finds each <pre> of a rendered answer in order', () => {
    const blocks = findCodeBlocks(rendered());
    expect(blocks.map(pre => pre.textContent)).toEqual([
      'x = 1\nprint(x)\n',
      'echo hi'
    ]);
    expect(findCodeBlocks(document.createElement('div'))).toEqual([]);
  });
});

describe('addInsertCodeButtons', () => {
  afterEach(() => setCodeInserter(null));

  it('adds a button next to each copy button that inserts its code', () => {
    const host = rendered();
    addCodeCopyButtons(host);
    const insert = jest.fn();
    expect(addInsertCodeButtons(host, undefined, insert)).toBe(2);
    const blocks = host.querySelectorAll('.jp-KimiTurn-codeBlock');
    for (const block of Array.from(blocks)) {
      expect(block.children[1].classList).toContain('jp-KimiTurn-copyCode');
      const button = block.children[2] as HTMLButtonElement;
      expect(button.classList).toContain('jp-KimiTurn-insertCode');
      expect(button.getAttribute('aria-label')).toBe('Insert code below');
    }
    (blocks[0].children[2] as HTMLButtonElement).click();
    (blocks[1].children[2] as HTMLButtonElement).click();
    expect(insert.mock.calls).toEqual([['x = 1\nprint(x)'], ['echo hi']]);
    expect(addInsertCodeButtons(host, undefined, insert)).toBe(0);
  });

  it('inserts code without bidi controls and says so in its title', () => {
    const host = document.createElement('div');
    host.innerHTML = '<pre><code>x = "\u202eevil"\n</code></pre>';
    addCodeCopyButtons(host);
    const insert = jest.fn();
    addInsertCodeButtons(host, undefined, insert);
    const button = host.querySelector<HTMLButtonElement>(
      '.jp-KimiTurn-insertCode'
    )!;
    expect(button.title).toBe(
      'Insert code below (Removed 1 invisible direction-changing character)'
    );
    expect(button.getAttribute('aria-label')).toBe('Insert code below');
    button.click();
    expect(insert).toHaveBeenCalledWith('x = "evil"');
  });

  it('uses the inserter set by the plugin, and adds nothing without one', () => {
    const host = rendered();
    addCodeCopyButtons(host);
    expect(addInsertCodeButtons(host)).toBe(0);
    const insert = jest.fn();
    setCodeInserter(insert);
    expect(addInsertCodeButtons(host)).toBe(2);
    host.querySelector<HTMLButtonElement>('.jp-KimiTurn-insertCode')!.click();
    expect(insert).toHaveBeenCalledWith('x = 1\nprint(x)');
  });
});

type OutputStub = { type: string; executionCount: number | null };

/** A code cell with an output area, as far as the actions look. */
function fakeCell(list: OutputStub[]) {
  const node = document.createElement('div');
  const children = list.map(() => {
    const child = document.createElement('div');
    child.className = 'jp-OutputArea-child';
    child.appendChild(document.createElement('pre'));
    node.appendChild(child);
    return { node: child };
  });
  const source = { text: '', setSource: (t: string) => (source.text = t) };
  return {
    node,
    model: { type: 'code', sharedModel: source },
    outputArea: {
      widgets: children,
      model: { length: list.length, get: (i: number) => list[i] }
    }
  };
}

/** A notebook of such cells, and fake `NotebookActions`. */
function fakeNotebook(outputs: OutputStub[][]) {
  const cells = outputs.map(fakeCell);
  const notebook = {
    model: {},
    widgets: cells,
    activeCellIndex: 0,
    mode: 'command',
    get activeCell() {
      return this.widgets[this.activeCellIndex];
    }
  };
  const actions: NotebookActionsApi = {
    insertBelow: jest.fn((nb: typeof notebook) => {
      nb.widgets.splice(nb.activeCellIndex + 1, 0, fakeCell([]));
      nb.activeCellIndex += 1;
    }) as never,
    changeCellType: jest.fn() as never,
    run: jest.fn(() => Promise.resolve(true)) as never
  };
  return { notebook, actions };
}

describe('locateOutput and insertCode', () => {
  it('finds the clicked output and its cell', () => {
    const { notebook } = fakeNotebook([
      [],
      [
        { type: 'stream', executionCount: null },
        { type: 'execute_result', executionCount: 2 }
      ]
    ]);
    const target = notebook.widgets[1].outputArea.widgets[1].node.firstChild;
    expect(locateOutput(notebook as never, target as HTMLElement)).toEqual({
      cellIndex: 1,
      output: { type: 'execute_result', executionCount: 2 }
    });
    expect(
      locateOutput(notebook as never, document.createElement('div'))
    ).toBeNull();
  });

  it('inserts code in a new cell below the active one', () => {
    const { notebook, actions } = fakeNotebook([[], []]);
    const cell = insertCode(actions, notebook as never, 'print(1)');
    expect(notebook.activeCellIndex).toBe(1);
    expect(notebook.widgets).toHaveLength(3);
    expect(cell).toBe(notebook.widgets[1]);
    expect(notebook.widgets[1].model.sharedModel.text).toBe('print(1)');
  });
});
