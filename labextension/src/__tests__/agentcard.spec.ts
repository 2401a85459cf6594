import {
  createApprovalCard,
  DECIDED_CLASS,
  IStepView,
  stepLabel,
  stepView
} from '../agent/card';
import { ChangeStep } from '../agent/steps';
import { hideYdocWarnings, sharedNotebook } from './agentfakes';

hideYdocWarnings();

const HOSTILE = '<img src=x onerror=alert(1)>\n<script>alert(1)</script>';

/** The card's view of `step` in the sample notebook, as step 3 of at most 20. */
function viewOf(step: ChangeStep): IStepView {
  const view = stepView(sharedNotebook(), step, 3, 20);
  if ('error' in view) {
    throw new Error(view.error);
  }
  return view;
}

const q = <T extends Element = HTMLElement>(root: Element, selector: string) =>
  root.querySelector(selector) as T;
const click = (root: Element, kind: string) =>
  q<HTMLButtonElement>(root, `.jp-KimiAgentCard-${kind}`).click();

describe('stepView and stepLabel', () => {
  it('reads the target cell from the notebook, not from the proposal', () => {
    const view = viewOf({ tool: 'run_cell', cell_id: 'broken' });
    expect(view).toMatchObject({
      cellIndex: 3,
      cellType: 'code',
      currentSource: '1 / 0'
    });
    expect(stepLabel(view)).toBe('Step 3 of at most 20: run cell 4');
  });

  it('labels each kind of step', () => {
    const labels = [
      { tool: 'insert_cell', index: 0, source: '', cell_type: 'markdown' },
      { tool: 'edit_cell', cell_id: 'load', source: 'x' },
      { tool: 'delete_cell', cell_id: 'empty' }
    ].map(step => stepLabel(viewOf(step as ChangeStep)));
    expect(labels).toEqual([
      'Step 3 of at most 20: insert a markdown cell as cell 1',
      'Step 3 of at most 20: edit cell 2',
      'Step 3 of at most 20: delete cell 6'
    ]);
  });

  it('refuses steps the notebook cannot take', () => {
    const nb = sharedNotebook();
    expect(stepView(nb, { tool: 'delete_cell', cell_id: 'x' }, 1, 20)).toEqual({
      error: 'no cell has the id "x" (list_cells gives the ids)'
    });
    const insert = {
      tool: 'insert_cell',
      index: 9,
      source: '',
      cell_type: 'code'
    };
    expect(stepView(nb, insert as ChangeStep, 1, 20)).toEqual({
      error: 'index 9 is out of range: a new cell goes at 0 to 6'
    });
  });
});

describe('createApprovalCard', () => {
  it('shows a new cell as code, as text only', () => {
    const onDecision = jest.fn();
    const card = createApprovalCard(
      viewOf({
        tool: 'insert_cell',
        index: 1,
        source: HOSTILE,
        cell_type: 'code'
      }),
      onDecision
    );
    const code = q(card, 'pre.jp-KimiAgentCard-code > code.language-python');
    expect(code.textContent).toBe(HOSTILE);
    expect(card.querySelector('img, script')).toBeNull();
    expect(q(card, '.jp-KimiAgentCard-label').textContent).toBe(
      'Step 3 of at most 20: insert a code cell as cell 2'
    );
    expect(card.getAttribute('aria-label')).toBe(
      'Step 3 of at most 20: insert a code cell as cell 2'
    );
  });

  it('shows an edit as a diff against the cell as it is', () => {
    const card = createApprovalCard(
      viewOf({ tool: 'edit_cell', cell_id: 'broken', source: HOSTILE }),
      jest.fn()
    );
    expect(q(card, '.jp-KimiDiff-removed .jp-KimiDiff-text').textContent).toBe(
      '1 / 0'
    );
    const added = card.querySelectorAll('.jp-KimiDiff-added .jp-KimiDiff-text');
    expect(Array.from(added).map(node => node.textContent)).toEqual(
      HOSTILE.split('\n')
    );
    expect(card.querySelector('img, script')).toBeNull();
  });

  it('shows the cell to run, and the cell to lose without an Edit button', () => {
    const run = createApprovalCard(
      viewOf({ tool: 'run_cell', cell_id: 'plot' }),
      jest.fn()
    );
    expect(q(run, 'pre code').textContent).toBe('df.plot()');
    expect(q(run, '.jp-KimiAgentCard-edit')).not.toBeNull();
    const del = createApprovalCard(
      viewOf({ tool: 'delete_cell', cell_id: 'load' }),
      jest.fn()
    );
    expect(q(del, 'pre.jp-mod-delete code').textContent).toContain(
      'import pandas'
    );
    expect(q(del, '.jp-KimiAgentCard-edit')).toBeNull();
    expect(del.dataset.tool).toBe('delete_cell');
  });

  it('reports Approve once, then disables its buttons', () => {
    const onDecision = jest.fn();
    const card = createApprovalCard(
      viewOf({ tool: 'run_cell', cell_id: 'plot' }),
      onDecision
    );
    click(card, 'approve');
    click(card, 'approve');
    click(card, 'skip');
    expect(onDecision.mock.calls).toEqual([[{ decision: 'approve' }]]);
    expect(card.classList).toContain(DECIDED_CLASS);
    expect(card.dataset.decision).toBe('approve');
    card
      .querySelectorAll('button')
      .forEach(node => expect(node.disabled).toBe(true));
  });

  it('reports Skip', () => {
    const onDecision = jest.fn();
    const card = createApprovalCard(
      viewOf({ tool: 'delete_cell', cell_id: 'load' }),
      onDecision
    );
    click(card, 'skip');
    expect(onDecision.mock.calls).toEqual([[{ decision: 'skip' }]]);
  });

  it('approves the edited text after Edit', () => {
    const onDecision = jest.fn();
    const card = createApprovalCard(
      viewOf({
        tool: 'insert_cell',
        index: 0,
        source: 'x = 1',
        cell_type: 'code'
      }),
      onDecision
    );
    click(card, 'edit');
    const editor = q<HTMLTextAreaElement>(
      card,
      'textarea.jp-KimiAgentCard-editor'
    );
    expect(editor.value).toBe('x = 1');
    expect(q(card, '.jp-KimiAgentCard-edit')).toBeNull();
    expect(q(card, '.jp-KimiAgentCard-approve').textContent).toBe(
      'Approve edited'
    );
    editor.value = 'x = 2';
    click(card, 'approve');
    expect(onDecision.mock.calls).toEqual([
      [{ decision: 'edit', source: 'x = 2' }]
    ]);
    expect(editor.readOnly).toBe(true);
  });

  it('starts editing a run from the cell source', () => {
    const onDecision = jest.fn();
    const card = createApprovalCard(
      viewOf({ tool: 'run_cell', cell_id: 'broken' }),
      onDecision
    );
    click(card, 'edit');
    const editor = q<HTMLTextAreaElement>(card, 'textarea');
    expect(editor.value).toBe('1 / 0');
    editor.value = '1 / 1';
    click(card, 'approve');
    expect(onDecision).toHaveBeenCalledWith({
      decision: 'edit',
      source: '1 / 1'
    });
  });

  it('approves nothing by itself, whatever the proposal says', async () => {
    const onDecision = jest.fn();
    const step = {
      tool: 'run_cell',
      cell_id: 'plot',
      approved: true,
      decision: 'approve'
    } as ChangeStep;
    const view = {
      ...viewOf(step),
      approved: true,
      autoApprove: true
    } as IStepView;
    const card = createApprovalCard(view, onDecision);
    document.body.appendChild(card);
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(onDecision).not.toHaveBeenCalled();
    expect(card.classList).not.toContain(DECIDED_CLASS);
    expect(card.dataset.decision).toBeUndefined();
    card.remove();
  });

  it('warns about invisible direction-changing characters and marks them', () => {
    const card = createApprovalCard(
      viewOf({
        tool: 'insert_cell',
        index: 0,
        source: 'ok = "\u202e\u2066"',
        cell_type: 'code'
      }),
      jest.fn()
    );
    expect(q(card, '.jp-KimiAgentCard-notice').textContent).toContain(
      '2 invisible direction-changing characters'
    );
    expect(card.querySelectorAll('.jp-KimiTurn-bidi')).toHaveLength(2);
  });
});
