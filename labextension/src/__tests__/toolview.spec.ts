import { IToolView, ToolPanelList, toolPanelNode } from '../toolview';

const TOOL: IToolView = {
  callId: 'c1',
  name: 'send_report',
  arguments: '{"to":"<b>boss</b>"}',
  status: 'waiting for you'
};

describe('tool panels', () => {
  it('show the arguments as text and no buttons without a question', () => {
    const panel = toolPanelNode(TOOL);
    expect(panel.open).toBe(false);
    expect(panel.dataset.status).toBe('waiting for you');
    expect(panel.querySelector('summary')?.textContent).toBe(
      '🔧 send_report · waiting for you'
    );
    expect(panel.querySelector('.jp-KimiTool-arguments')?.textContent).toBe(
      '{\n  "to": "<b>boss</b>"\n}'
    );
    expect(panel.querySelector('b, button')).toBeNull();
  });

  it('open to ask Run or Skip, answer once, and keep the reader toggle', () => {
    const answers: [string, boolean][] = [];
    const list = new ToolPanelList(undefined, (id, run) =>
      answers.push([id, run])
    );
    expect(list.node.hidden).toBe(true);
    list.update([TOOL]);
    const panel = list.node.querySelector('details') as HTMLDetailsElement;
    expect(list.node.hidden).toBe(false);
    expect(panel.querySelector('button')).toBeNull();

    const asking = { ...TOOL, asking: true };
    list.update([asking]);
    expect(list.node.querySelectorAll('details')).toHaveLength(1);
    expect(panel.open).toBe(true);
    const run = panel.querySelector('.jp-KimiTool-run') as HTMLButtonElement;
    const skip = panel.querySelector('.jp-KimiTool-skip') as HTMLButtonElement;
    expect([run.textContent, skip.textContent]).toEqual(['Run', 'Skip']);
    run.click();
    skip.click(); // disabled by the first answer
    expect(answers).toEqual([['c1', true]]);

    panel.open = false; // the reader folds it; an unchanged object is not redrawn
    list.update([asking]);
    expect(panel.open).toBe(false);
    const ended = {
      ...TOOL,
      status: 'ok',
      preview: '<i>sent</i>',
      duration: 1
    };
    list.update([ended]);
    expect(panel.querySelector('summary')?.textContent).toBe(
      '🔧 send_report · ok · 1.00 s'
    );
    expect(panel.querySelector('.jp-KimiTool-preview')?.textContent).toBe(
      '<i>sent</i>'
    );
    expect(panel.querySelector('button, i')).toBeNull();
  });

  it('say in a tooltip when the kernel skips an unanswered call', () => {
    const ask = { ...TOOL, asking: true };
    const bar = (tool: IToolView) =>
      toolPanelNode(tool, undefined, () => undefined).querySelector(
        '.jp-KimiTool-confirm'
      ) as HTMLElement;
    expect(bar(ask).title).toBe('');
    expect(bar({ ...ask, timeout: 300 }).title).toBe(
      'Without an answer in 300 s, the call is skipped.'
    );
    expect(bar({ ...ask, timeout: 2.5 }).title).toBe(
      'Without an answer in 2.5 s, the call is skipped.'
    );
  });
});
