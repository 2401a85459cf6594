import { AgentController } from '../agent/controller';
import { AgentSwitch, IAgentSettings, parseCap } from '../agent/panelview';
import {
  MAX_RECORDS,
  METADATA_KEY,
  readRecords,
  recordView,
  RECORDS_FIELD,
  writeRecord
} from '../agent/records';
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

const INTERRUPTED = {
  output_type: 'error' as const,
  ename: 'KeyboardInterrupt',
  evalue: '',
  traceback: ['KeyboardInterrupt: ']
};

describe('AgentController: the kernel interrupted', () => {
  it('a run that ends in KeyboardInterrupt stops the turn', async () => {
    const { controller, runner, sent, notebook } = setup({ mode: 'auto' });
    runner.next = { outputs: [INTERRUPTED] };
    controller.receive(propose(1, 'run_cell', { cell_id: 'load' }));
    await controller.settled();
    const [result] = results(sent);
    expect(result).toMatchObject({
      step: 1,
      status: 'stopped',
      message: 'the kernel was interrupted'
    });
    expect(sent[sent.length - 1]).toEqual({ type: 'stop', id: 't1' });
    const before = cellsText(notebook);
    controller.receive(propose(2, 'delete_cell', { cell_id: 'load' }));
    await controller.settled();
    expect(cellsText(notebook)).toBe(before); // nothing after the interrupt
    expect(results(sent)).toHaveLength(1);
  });

  it('an interrupt while a card waits closes it and sends Stop', async () => {
    const { controller, sent, hooks, fire, notebook } = setup({ mode: 'auto' });
    const before = cellsText(notebook);
    controller.receive(propose(1, 'insert_cell', INSERT, true));
    await flush();
    fire(hooks.interrupt);
    await controller.settled();
    const steps = controller.viewOf('t1') as HTMLElement;
    const card = steps.querySelector('.jp-KimiAgentCard') as HTMLElement;
    expect(card.dataset.decision).toBe('stopped');
    const entry = steps.querySelector(
      '.jp-KimiAgent-steps-step'
    ) as HTMLElement;
    expect(entry.dataset.status).toBe('stopped');
    expect(sent).toEqual([{ type: 'stop', id: 't1' }]);
    expect(cellsText(notebook)).toBe(before);
  });

  it('an interrupt after the turn ended does nothing', async () => {
    const { controller, sent, hooks, fire } = setup({ mode: 'auto' });
    controller.sync(null);
    fire(hooks.interrupt);
    expect(sent).toEqual([]);
    expect(hooks.interrupt.size).toBe(0);
  });
});

describe('AgentController: a kernel restart mid-turn', () => {
  it('keeps the turn, its steps and a working Undo in the record', async () => {
    const { controller, notebook, hooks, fire, history } = setup({
      mode: 'auto'
    });
    const before = cellsText(notebook);
    controller.receive(propose(1, 'insert_cell', INSERT));
    await controller.settled();
    controller.receive(propose(2, 'run_cell', { cell_id: 'load' }, true));
    await flush();
    const steps = controller.viewOf('t1') as HTMLElement;
    document.body.appendChild(steps); // the conversation shows it…
    fire(hooks.lost);
    steps.remove(); // …until the restart wipes the conversation
    controller.sync(null);
    await flush();
    const entry = history().querySelector('.jp-mod-live') as HTMLElement;
    expect(entry.dataset.status).toBe('restarted');
    expect(entry.textContent).toContain('the kernel restarted');
    expect(entry.textContent).toContain('Plot it');
    const statuses = [
      ...entry.querySelectorAll('.jp-KimiAgent-steps-step')
    ].map(node => (node as HTMLElement).dataset.status);
    expect(statuses).toEqual(['done', 'stopped']);
    expect(readRecords(notebook)[0]).toMatchObject({
      id: 't1',
      status: 'restarted',
      steps: [
        { step: 1, tool: 'insert_cell', status: 'done' },
        { step: 2, tool: 'run_cell', status: 'stopped', cell_id: 'load' }
      ]
    });
    (entry.querySelector('.jp-KimiAgent-undo') as HTMLButtonElement).click();
    expect(cellsText(notebook)).toBe(before);
  });
});

describe('the notebook record of agent turns', () => {
  it('keeps each ended turn with its answer, and shows it after a reopen', async () => {
    const { controller, notebook, sent } = setup({ mode: 'auto' });
    controller.receive(propose(1, 'insert_cell', INSERT));
    await controller.settled();
    controller.receive({
      type: 'done',
      id: 't1',
      record: {
        status: 'done',
        answer: 'Plotted. <img src=x onerror=alert(1)>'
      }
    });
    controller.sync(null);
    const [record] = readRecords(notebook);
    const cellId = results(sent)[0].cell_id;
    expect(record).toMatchObject({
      id: 't1',
      prompt: 'Plot it',
      mode: 'auto',
      cap: 20,
      status: 'done',
      answer: 'Plotted. <img src=x onerror=alert(1)>',
      steps: [{ step: 1, tool: 'insert_cell', status: 'done', cell_id: cellId }]
    });
    expect(JSON.stringify(notebook.getMetadata(METADATA_KEY))).not.toContain(
      'outputs'
    );

    // Another page opens the notebook: the record shows, read-only, without Undo.
    const reopened = new AgentController({ send: () => true });
    reopened.bind({ key: {}, notebook, runner: new FakeRunner(notebook) });
    await flush();
    const shown = reopened.settings.record as HTMLElement;
    expect(shown.hidden).toBe(false);
    const entry = shown.querySelector('.jp-KimiAgent-record') as HTMLElement;
    expect(entry.dataset.turn).toBe('t1');
    expect(entry.textContent).toContain('Saved in the notebook');
    expect(entry.textContent).toContain(`Step 1: insert_cell (${cellId})`);
    expect(entry.querySelector('img')).toBeNull();
    expect(entry.querySelector('.jp-KimiAgent-undo')).toBeNull();
  });

  it('is bounded, masks keys and leaves other metadata alone', () => {
    const notebook = sharedNotebook();
    notebook.setMetadata(METADATA_KEY, { other: 1 });
    for (let i = 0; i < MAX_RECORDS + 5; i++) {
      writeRecord(notebook, {
        id: `t${i}`,
        prompt: 'use sk-abcdefghijklmnopqrstuvwxyz please',
        mode: 'ask',
        cap: 20,
        status: 'done',
        steps: [],
        answer: 'x'.repeat(10_000),
        ended: ''
      });
    }
    const records = readRecords(notebook);
    expect(records).toHaveLength(MAX_RECORDS);
    expect(records[0].id).toBe('t5');
    expect(records[0].prompt).toBe('use [key removed] please');
    expect(records[0].answer.length).toBeLessThanOrEqual(4001);
    expect(notebook.getMetadata(METADATA_KEY)).toMatchObject({ other: 1 });
  });

  it('reads hostile metadata field by field and shows it as text', () => {
    const notebook = sharedNotebook();
    const hostile = '<script>alert(1)</script>\u202e[x](javascript:alert(1))';
    notebook.setMetadata(METADATA_KEY, {
      [RECORDS_FIELD]: [
        'junk',
        { id: 1, prompt: 'no', status: 'done', steps: [] },
        {
          id: 'ok',
          prompt: hostile,
          status: hostile,
          answer: `![x](https://evil.example/p.png) ${hostile}`,
          steps: [
            { step: 1, tool: hostile, status: 'done', cell_id: hostile },
            7
          ]
        }
      ]
    });
    const records = readRecords(notebook);
    expect(records.map(r => r.id)).toEqual(['ok']);
    const view = recordView(records[0]);
    expect(view.querySelectorAll('script, img, a, iframe')).toHaveLength(0);
    expect(view.textContent).toContain(hostile);
  });
});

describe('the step cap in the switch', () => {
  it('accepts whole numbers from 1 to 100', () => {
    expect(parseCap('3')).toBe(3);
    expect(parseCap(' 100 ')).toBe(100);
    for (const bad of ['0', '101', '2.5', '', 'x', '-1', '1e3']) {
      expect(parseCap(bad)).toBeNull();
    }
  });

  it('reports the cap typed, and keeps the last good one for a bad one', () => {
    const seen: IAgentSettings[] = [];
    const view = new AgentSwitch(settings => seen.push(settings));
    view.show({ enabled: true, mode: 'ask', cap: 20 }, true);
    const input = view.node.querySelector(
      '.jp-KimiAgent-cap'
    ) as HTMLInputElement;
    expect(input.value).toBe('20');
    expect(input.disabled).toBe(false);
    input.value = '5';
    input.dispatchEvent(new Event('input'));
    expect(seen[seen.length - 1]).toEqual({
      enabled: true,
      mode: 'ask',
      cap: 5
    });
    view.show({ enabled: true, mode: 'ask', cap: 5 }, true);
    input.value = '500';
    input.dispatchEvent(new Event('input'));
    expect(seen[seen.length - 1].cap).toBe(5);
    expect(input.classList.contains('jp-mod-invalid')).toBe(true);
    input.dispatchEvent(new Event('change'));
    expect(input.value).toBe('5');
    view.show({ enabled: false, mode: 'ask', cap: 5 }, true);
    expect(input.disabled).toBe(true);
  });

  it('shows the cap on the cards', async () => {
    const { controller } = setup({ mode: 'auto', cap: 7 });
    controller.receive(propose(1, 'insert_cell', INSERT, true));
    await flush();
    const card = (controller.viewOf('t1') as HTMLElement).querySelector(
      '.jp-KimiAgentCard'
    ) as HTMLElement;
    expect(card.textContent).toContain('7');
  });
});
