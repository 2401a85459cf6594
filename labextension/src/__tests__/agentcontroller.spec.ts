import { AgentController } from '../agent/controller';
import {
  cellsText,
  FakeRunner,
  flush,
  hideYdocWarnings,
  INSERT,
  propose,
  results,
  setup,
  sharedNotebook
} from './agentfakes';

hideYdocWarnings();

const PNG_OUTPUT = {
  output_type: 'display_data',
  data: { 'image/png': 'iVBORw0KGgo=', 'text/plain': '<Figure>' },
  metadata: {}
};

const card = (root: HTMLElement) =>
  root.querySelector('.jp-KimiAgentCard:not(.jp-mod-decided)') as HTMLElement;
const click = (root: HTMLElement, kind: string) =>
  (
    root.querySelector(`.jp-KimiAgentCard-${kind}`) as HTMLButtonElement
  ).click();

describe('AgentController: asking', () => {
  it('sends agent_ask with the mode when the switch is on', () => {
    const { asked } = setup({ mode: 'ask_run_delete' });
    expect(asked).toEqual({
      type: 'agent_ask',
      id: 't1',
      session: 'default',
      prompt: 'Plot it',
      mode: 'ask_run_delete',
      cap: 20
    });
  });

  it('sends the step cap set for the notebook', () => {
    const { asked } = setup({ mode: 'ask', cap: 3 });
    expect(asked).toMatchObject({ type: 'agent_ask', mode: 'ask', cap: 3 });
  });

  it('sends a plain ask when the switch is off or no notebook is bound', () => {
    const controller = new AgentController({ send: () => true });
    const ask = { type: 'ask', id: 'a', session: 's', prompt: 'p' } as const;
    expect(controller.ask(ask)).toBe(ask);
    const notebook = sharedNotebook();
    controller.bind({
      key: notebook,
      notebook,
      runner: new FakeRunner(notebook)
    });
    expect(controller.settings).toMatchObject({
      enabled: false,
      mode: 'ask',
      cap: 20
    });
    expect(controller.ask(ask)).toBe(ask);
  });

  it('keeps the settings per notebook, Auto never carried to another', () => {
    const { controller } = setup({ mode: 'auto' });
    const other = sharedNotebook();
    controller.bind({
      key: other,
      notebook: other,
      runner: new FakeRunner(other)
    });
    expect(controller.settings).toMatchObject({
      enabled: false,
      mode: 'ask',
      cap: 20
    });
  });
});

describe('AgentController: approvals', () => {
  it('shows a card and sends nothing until the user decides', async () => {
    const { controller, sent, steps, notebook } = setup();
    const before = cellsText(notebook);
    controller.receive(propose(1, 'insert_cell', INSERT, true));
    await flush();
    expect(card(steps())).not.toBeNull();
    expect(sent).toHaveLength(0);
    expect(cellsText(notebook)).toBe(before);
  });

  it('applies an approved insert and answers done with the new cell id', async () => {
    const { controller, sent, steps, notebook, marked } = setup();
    controller.receive(propose(1, 'insert_cell', INSERT, true));
    await flush();
    click(card(steps()), 'approve');
    await controller.settled();
    const [result] = results(sent);
    const inserted = notebook.cells[1];
    expect(inserted.getSource()).toBe('df.plot()');
    expect(result).toEqual({
      type: 'agent_result',
      id: 't1',
      step: 1,
      status: 'done',
      cell_id: inserted.id,
      source: 'df.plot()'
    });
    expect([...marked]).toEqual([inserted.id]);
  });

  it('answers skipped for Skip and changes nothing', async () => {
    const { controller, sent, steps, notebook } = setup();
    const before = cellsText(notebook);
    controller.receive(propose(1, 'delete_cell', { cell_id: 'load' }, true));
    await flush();
    click(card(steps()), 'skip');
    await controller.settled();
    expect(results(sent)).toEqual([
      {
        type: 'agent_result',
        id: 't1',
        step: 1,
        status: 'skipped',
        cell_id: 'load'
      }
    ]);
    expect(cellsText(notebook)).toBe(before);
  });

  it('applies the edited source for Edit-then-approve', async () => {
    const { controller, sent, steps, notebook } = setup();
    controller.receive(
      propose(1, 'edit_cell', { cell_id: 'plot', source: 'df.plot(x=1)' })
    );
    await flush();
    const root = card(steps());
    click(root, 'edit');
    const editor = root.querySelector('textarea') as HTMLTextAreaElement;
    editor.value = 'df.plot(figsize=(8, 4))';
    click(root, 'approve');
    await controller.settled();
    expect(results(sent)[0]).toMatchObject({
      status: 'edited_and_done',
      cell_id: 'plot',
      source: 'df.plot(figsize=(8, 4))'
    });
    expect(notebook.cells[2].getSource()).toBe('df.plot(figsize=(8, 4))');
  });

  it('runs an approved cell and sends its outputs back', async () => {
    const { controller, sent, steps, runner } = setup();
    runner.next = { outputs: [PNG_OUTPUT] };
    controller.receive(propose(2, 'run_cell', { cell_id: 'plot' }));
    await flush();
    click(card(steps()), 'approve');
    await controller.settled();
    expect(runner.ran).toEqual(['plot']);
    expect(results(sent)[0]).toMatchObject({
      status: 'done',
      step: 2,
      cell_id: 'plot',
      outputs: [PNG_OUTPUT]
    });
  });

  it('asks even when the proposal claims to be approved', async () => {
    const { controller, sent, steps } = setup();
    const message = {
      ...propose(1, 'delete_cell', { cell_id: 'load', approved: true }),
      approved: true
    };
    controller.receive(message);
    await flush();
    expect(card(steps())).not.toBeNull();
    expect(sent).toHaveLength(0);
  });

  it('asks when the kernel asks, whatever the mode', async () => {
    const { controller, sent, steps } = setup({ mode: 'auto' });
    controller.receive(propose(1, 'insert_cell', INSERT, true));
    await flush();
    expect(card(steps())).not.toBeNull();
    expect(sent).toHaveLength(0);
  });

  it('refuses a step whose arguments do not fit, without a card', async () => {
    const { controller, sent, steps } = setup();
    controller.receive(
      propose(1, 'edit_cell', { cell_id: 'nope', source: 'x' })
    );
    await controller.settled();
    expect(card(steps())).toBeNull();
    expect(results(sent)[0]).toMatchObject({
      status: 'refused',
      message: expect.stringMatching(/no cell has the id "nope"/)
    });
  });
});

describe('AgentController: without a card', () => {
  it('reads without asking, in every mode', async () => {
    const { controller, sent, steps } = setup({ mode: 'ask' });
    controller.receive(propose(1, 'list_cells', {}));
    controller.receive(propose(2, 'read_cell', { cell_id: 'broken' }));
    await controller.settled();
    expect(card(steps())).toBeNull();
    const [list, read] = results(sent);
    expect(list.status).toBe('done');
    expect(list.cells?.map(cell => cell.id)).toHaveLength(6);
    expect(read).toMatchObject({
      status: 'done',
      cell_id: 'broken',
      source: '1 / 0',
      outputs: [expect.objectContaining({ ename: 'ZeroDivisionError' })]
    });
  });

  it('applies changes at once in auto mode', async () => {
    const { controller, sent, steps, notebook } = setup({ mode: 'auto' });
    controller.receive(propose(1, 'insert_cell', INSERT));
    await controller.settled();
    expect(card(steps())).toBeNull();
    expect(results(sent)[0]).toMatchObject({
      status: 'done',
      cell_id: notebook.cells[1].id
    });
  });

  it('asks only before runs and deletes in ask_run_delete', async () => {
    const { controller, sent, steps } = setup({ mode: 'ask_run_delete' });
    controller.receive(propose(1, 'insert_cell', INSERT));
    await controller.settled();
    expect(results(sent)).toHaveLength(1);
    controller.receive(propose(2, 'run_cell', { cell_id: 'plot' }));
    await flush();
    expect(card(steps())).not.toBeNull();
    expect(results(sent)).toHaveLength(1);
  });
});

describe('AgentController: stop, end and undo', () => {
  it('Stop closes the pending card and sends nothing more', async () => {
    const { controller, sent, steps, notebook } = setup();
    const before = cellsText(notebook);
    controller.receive(propose(1, 'insert_cell', INSERT, true));
    await flush();
    const root = card(steps());
    controller.stop('t1');
    await controller.settled();
    expect(root.classList.contains('jp-mod-decided')).toBe(true);
    const approve = root.querySelector(
      '.jp-KimiAgentCard-approve'
    ) as HTMLButtonElement;
    expect(approve.disabled).toBe(true);
    approve.click();
    controller.receive(propose(2, 'insert_cell', INSERT));
    await controller.settled();
    expect(sent).toHaveLength(0);
    expect(cellsText(notebook)).toBe(before);
  });

  it('unmarks the cells at the end and Undo restores the notebook byte for byte', async () => {
    const { controller, steps, notebook, runner, marked } = setup({
      mode: 'auto'
    });
    const before = cellsText(notebook);
    runner.next = { outputs: [PNG_OUTPUT] };
    controller.receive(propose(1, 'insert_cell', INSERT));
    await controller.settled();
    const inserted = notebook.cells[1].id;
    controller.receive(propose(2, 'run_cell', { cell_id: inserted }));
    controller.receive(
      propose(3, 'edit_cell', { cell_id: 'load', source: 'df = None' })
    );
    controller.receive(propose(4, 'delete_cell', { cell_id: 'broken' }));
    await controller.settled();
    expect(marked.size).toBeGreaterThan(0);
    expect(steps().querySelector('.jp-KimiAgent-undo')).toBeNull();
    controller.sync(null);
    expect(marked.size).toBe(0);
    const undo = steps().querySelector(
      '.jp-KimiAgent-undo'
    ) as HTMLButtonElement;
    expect(cellsText(notebook)).not.toBe(before);
    undo.click();
    expect(cellsText(notebook)).toBe(before);
    expect(undo.disabled).toBe(true);
  });

  it('offers no Undo for a turn that changed nothing', async () => {
    const { controller, steps } = setup();
    controller.receive(propose(1, 'list_cells', {}));
    await controller.settled();
    controller.sync(null);
    expect(steps().querySelector('.jp-KimiAgent-undo')).toBeNull();
  });

  it('shows model text as text only', async () => {
    const { controller, steps } = setup();
    const hostile = '<img src=x onerror=alert(1)>';
    controller.receive(
      propose(1, 'insert_cell', { ...INSERT, source: hostile }, true)
    );
    await flush();
    expect(steps().querySelector('img')).toBeNull();
    expect(steps().textContent).toContain(hostile);
  });
});
