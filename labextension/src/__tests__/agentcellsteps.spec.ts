import { PanelLayout } from '@lumino/widgets';

import { setStepsInserter } from '../actions';
import {
  agentCellSteps,
  agentStepsNode,
  insertStepsBelow,
  IStepsNotebook,
  MAX_STEP_CHARS,
  parseStepOutputs,
  stepCode,
  stepNodes
} from '../agentcellsteps';
import { STEPS_MIME_TYPE } from '../renderer';
import { renderTurn } from '../view';

const HOSTILE = '<img src=x onerror="window.__kimiSteps=1">print(1)';

function record(steps: unknown[], surface = 'cell'): Record<string, unknown> {
  return {
    version: 1,
    answer: 'Done.',
    meta: { agent: { mode: 'ask', surface, steps } }
  };
}

/** What the registry would give a turn renderer, sanitizer off (the record is all text). */
const options = {
  mimeType: 'application/vnd.kimi.turn+json',
  sanitizer: { sanitize: (html: string) => html },
  resolver: null,
  linkHandler: null,
  latexTypesetter: null
} as never;

const step = (code: unknown, status = 'done', tool = 'run_code') => ({
  step: 1,
  tool,
  args: { code },
  status,
  cell_id: null,
  message: ''
});

describe('agentCellSteps', () => {
  it('keeps the code of the steps that ran, in order', () => {
    const data = record([
      step('a = 1'),
      step('b = 2', 'skipped'),
      step('c = 3', 'edited_and_done'),
      step('d = 4', 'failed'),
      step('e = 5', 'stopped'),
      step('f = 6', 'done', 'insert_cell')
    ]);
    expect(agentCellSteps(data)).toEqual(['a = 1', 'c = 3']);
    expect(agentCellSteps(JSON.stringify(data))).toEqual(['a = 1', 'c = 3']);
  });

  it('offers nothing for panel turns, other turns and malformed records', () => {
    expect(agentCellSteps(record([step('a = 1')], 'panel'))).toEqual([]);
    expect(agentCellSteps({ answer: 'x' })).toEqual([]);
    expect(agentCellSteps('{not json')).toEqual([]);
    expect(agentCellSteps(null)).toEqual([]);
    expect(agentCellSteps(record([null, 3, step(7), step('   ')]))).toEqual([]);
    expect(
      agentCellSteps({ meta: { agent: { surface: 'cell', steps: {} } } })
    ).toEqual([]);
    const huge = 'x'.repeat(MAX_STEP_CHARS + 1);
    expect(agentCellSteps(record([step(huge), step('ok')]))).toEqual(['ok']);
  });
});

describe('agentStepsNode', () => {
  it('shows the code as nothing but a count, and inserts once per click', async () => {
    const calls: string[][] = [];
    const node = agentStepsNode(
      [HOSTILE, 'b = 2'],
      undefined,
      async sources => {
        calls.push(sources);
        return sources.length;
      }
    )!;
    expect(node.querySelector('img')).toBeNull();
    expect(node.textContent).toContain('Kimi ran 2 steps in the kernel.');
    const button = node.querySelector('button')!;
    expect(button.textContent).toBe('Insert the 2 steps as cells below');
    button.click();
    await Promise.resolve();
    await Promise.resolve();
    expect(calls).toEqual([[HOSTILE, 'b = 2']]);
    expect(button.disabled).toBe(true);
    expect(button.textContent).toBe('Inserted 2 cells below');
    expect(
      (window as unknown as { __kimiSteps?: number }).__kimiSteps
    ).toBeUndefined();
  });

  it('stays clickable when nothing was inserted', async () => {
    const node = agentStepsNode(['a = 1'], undefined, async () => 0)!;
    const button = node.querySelector('button')!;
    expect(button.textContent).toBe('Insert the step as a cell below');
    button.click();
    await Promise.resolve();
    await Promise.resolve();
    expect(button.disabled).toBe(false);
  });

  it('is absent without steps or without a notebook to insert into', () => {
    expect(agentStepsNode([], undefined, async () => 1)).toBeNull();
    expect(agentStepsNode(['a = 1'], undefined, null)).toBeNull();
  });
});

describe('insertStepsBelow', () => {
  function notebook(cells: number): {
    panel: IStepsNotebook;
    inserted: [number, unknown[]][];
  } {
    const node = document.createElement('div');
    const widgets = Array.from({ length: cells }, () => {
      const cell = document.createElement('div');
      node.appendChild(cell);
      return { node: cell };
    });
    const inserted: [number, unknown[]][] = [];
    const panel = {
      node,
      content: {
        widgets,
        model: {
          sharedModel: {
            insertCells: (index: number, list: unknown[]) => {
              inserted.push([index, list]);
              return [];
            }
          }
        }
      }
    } as unknown as IStepsNotebook;
    return { panel, inserted };
  }

  it('inserts code cells right below the cell that holds the button', () => {
    const other = notebook(2);
    const mine = notebook(3);
    const button = document.createElement('button');
    mine.panel.content.widgets[1].node.appendChild(button);
    expect(
      insertStepsBelow([other.panel, mine.panel], ['a = 1', 'b = 2'], button)
    ).toBe(2);
    expect(other.inserted).toEqual([]);
    expect(mine.inserted).toEqual([
      [
        2,
        [
          { cell_type: 'code', source: 'a = 1', metadata: {} },
          { cell_type: 'code', source: 'b = 2', metadata: {} }
        ]
      ]
    ]);
  });

  it('inserts nothing when no notebook cell holds the button', () => {
    const mine = notebook(1);
    const stray = document.createElement('button');
    expect(insertStepsBelow([mine.panel], ['a = 1'], stray)).toBe(0);
    mine.panel.node.appendChild(stray); // in the notebook, but in no cell
    expect(insertStepsBelow([mine.panel], ['a = 1'], stray)).toBe(0);
    expect(mine.inserted).toEqual([]);
  });
});

describe('a saved cell agent turn', () => {
  afterEach(() => setStepsInserter(null));

  it('offers its steps under the footer where a notebook can take them', async () => {
    const layout = new PanelLayout();
    const data = record([step('a = 1'), step('b = 2', 'skipped')]);
    await renderTurn(layout, data, { options });
    const has = (l: PanelLayout) =>
      l.widgets.some(w => w.node.classList.contains('jp-KimiTurn-agentSteps'));
    expect(has(layout)).toBe(false); // no notebook to insert into: no offer

    setStepsInserter(async sources => sources.length);
    const again = new PanelLayout();
    await renderTurn(again, data, { options });
    const bar = again.widgets
      .map(w => w.node)
      .find(n => n.classList.contains('jp-KimiTurn-agentSteps'))!;
    expect(bar.textContent).toContain('Kimi ran 1 step in the kernel.');
    const last = again.widgets[again.widgets.length - 1].node;
    expect(last).toBe(bar); // under the footer
  });
});

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe("a step's outputs", () => {
  it('keeps text and base64 PNG figures, nothing else', () => {
    const parsed = parseStepOutputs({
      version: 1,
      outputs: {
        a: [
          { kind: 'text', label: 'stdout', text: '<b>hi</b>' },
          { kind: 'image/png', data: PNG },
          { kind: 'image/png', data: 'PHN2Zz48L3N2Zz4=' }, // an SVG, named a PNG
          { kind: 'image/png', data: `${PNG}" onerror="x` },
          { kind: 'text/html', text: '<script>x()</script>' },
          null
        ],
        b: 'not a list'
      }
    });
    expect([...parsed.keys()]).toEqual(['a']);
    expect(parsed.get('a')).toEqual([
      { kind: 'text', label: 'stdout', text: '<b>hi</b>' },
      { kind: 'image/png', data: PNG }
    ]);
    expect(parseStepOutputs(undefined).size).toBe(0);
    expect(parseStepOutputs('nope').size).toBe(0);
  });

  it('reads the code of run_code calls only', () => {
    expect(stepCode('run_code', '{"code": "x = 1"}')).toBe('x = 1');
    expect(stepCode('run_code', '{"code": 3}')).toBeNull();
    expect(stepCode('run_code', '{oops')).toBeNull();
    expect(stepCode('lookup', '{"code": "x = 1"}')).toBeNull();
  });

  it('shows code and text as text, figures from their own bytes', () => {
    const nodes = stepNodes('<img src=x onerror=alert(1)>', [
      { kind: 'text', label: 'stdout', text: '<script>alert(2)</script>' },
      { kind: 'image/png', data: PNG }
    ]);
    const host = document.createElement('div');
    host.append(...nodes);
    expect(host.querySelector('script')).toBeNull();
    const images = host.querySelectorAll('img');
    expect(images).toHaveLength(1);
    expect(images[0].getAttribute('src')).toBe(`data:image/png;base64,${PNG}`);
    expect(host.querySelector('.jp-KimiTool-code')!.textContent).toBe(
      '<img src=x onerror=alert(1)>'
    );
  });
});

describe('a saved cell agent turn with its steps payload', () => {
  it('opens each run_code panel on its code, outputs and figure', async () => {
    const layout = new PanelLayout();
    const data = {
      ...record([step('plot()')]),
      tool_results: [
        {
          call_id: 'c1',
          name: 'run_code',
          arguments: '{"code": "plot()"}',
          status: 'ok',
          preview: 'done'
        },
        {
          call_id: 'c2',
          name: 'lookup',
          arguments: '{"city": "Paris"}',
          status: 'ok',
          preview: '42'
        }
      ]
    };
    const steps = {
      version: 1,
      outputs: { c1: [{ kind: 'image/png', data: PNG }] }
    };
    expect(STEPS_MIME_TYPE).toBe('application/vnd.kimi.steps+json');
    await renderTurn(layout, data, { options, steps });
    const panels = layout.widgets
      .map(w => w.node)
      .flatMap(n => Array.from(n.querySelectorAll('details.jp-KimiTool')));
    expect(panels).toHaveLength(2);
    const [ran, other] = panels as HTMLDetailsElement[];
    expect(ran.open).toBe(true);
    expect(ran.querySelector('.jp-KimiTool-code')!.textContent).toBe('plot()');
    expect(ran.querySelector('img.jp-KimiTool-figure')).not.toBeNull();
    expect(other.open).toBe(false);
    expect(other.querySelector('.jp-KimiTool-arguments')).not.toBeNull();
  });
});
