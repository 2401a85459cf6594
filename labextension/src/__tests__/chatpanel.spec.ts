import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { starterPrompts } from '../chatempty';
import { KimiChatPanel } from '../chatpanel';
import { untranslated } from '../turn';
import { plainRendermime } from './chatfakes';
import { FakeSessionContext, SESSIONS, settle } from './fakekernel';

function panel(): {
  panel: KimiChatPanel;
  q: <E extends HTMLElement = HTMLElement>(selector: string) => E;
} {
  const p = new KimiChatPanel({ rendermime: plainRendermime });
  return { panel: p, q: selector => p.node.querySelector(selector)! };
}

/** A shown panel bound to a fresh kernel that has listed its sessions. */
async function ready() {
  const parts = panel();
  Widget.attach(parts.panel, document.body);
  const context = new FakeSessionContext();
  parts.panel.bind(context.asContext, 'Untitled.ipynb');
  await settle();
  const comm = context.kernel.comm;
  comm.receive({ ...SESSIONS, sessions: ['default', 'eda'] });
  comm.receive({ type: 'turns', session: 'default', turns: [] });
  return { ...parts, context, comm };
}

afterEach(() => {
  document.body.replaceChildren();
});

describe('KimiChatPanel', () => {
  it('starts with no notebook, and connects nothing while hidden', async () => {
    const { panel: p, q } = panel();
    expect(p.hasClass('jp-KimiChat')).toBe(true);
    expect(q('.jp-KimiChat-notebook').textContent).toBe('No notebook');
    expect(q('.jp-KimiChat-status').textContent).toBe(
      'Open a notebook to chat with Kimi about it.'
    );
    expect(q<HTMLButtonElement>('.jp-KimiChat-ask').disabled).toBe(true);
    expect(q<HTMLButtonElement>('.jp-KimiChat-stop').disabled).toBe(true);
    expect(q<HTMLSelectElement>('.jp-KimiChat-session').disabled).toBe(true);

    Widget.attach(p, document.body);
    p.hide(); // a closed sidebar tab
    const context = new FakeSessionContext();
    p.bind(context.asContext, 'A.ipynb');
    await settle();
    expect(q('.jp-KimiChat-notebook').textContent).toBe('A.ipynb');
    expect(context.kernel.executed).toEqual([]);
    expect(q('.jp-KimiChat-status').textContent).toBe(
      'Not connected to a kernel.'
    );
    p.show(); // the tab opens: connects
    expect(q('.jp-KimiChat-status').textContent).toBe(
      'Connecting to the kernel…'
    );
    await settle();
    expect(context.kernel.comm.sent).toEqual([{ type: 'hello', version: 1 }]);
    p.dispose();
    expect(context.kernel.comm.closed).toBe(true);
  });

  it('lists the sessions and asks with Enter, then stops', async () => {
    const { panel: p, q, comm } = await ready();
    const select = q<HTMLSelectElement>('.jp-KimiChat-session');
    expect([...select.options].map(o => o.value)).toEqual(['default', 'eda']);
    expect(select.disabled).toBe(false);
    expect(q('.jp-KimiChat-status').textContent).toBe('');
    const input = q<HTMLTextAreaElement>('.jp-KimiChat-input');
    input.value = 'Why?';
    input.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Enter', shiftKey: true })
    );
    expect(comm.types).toEqual(['hello', 'list_turns']);
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    const ask = comm.sent[2] as { type: string; id: string };
    expect(ask).toMatchObject({
      type: 'ask',
      session: 'default',
      prompt: 'Why?'
    });
    expect(input.value).toBe('');
    expect(p.node.querySelectorAll('.jp-KimiChat-turn')).toHaveLength(1);
    expect(q('.jp-KimiChat-status').textContent).toBe('Sending…');
    expect(q<HTMLButtonElement>('.jp-KimiChat-ask').disabled).toBe(true);

    comm.receive({ type: 'start', id: ask.id, session: 'default' });
    comm.receive({ type: 'status', id: ask.id, text: 'retrying in 2.0 s' });
    expect(q('.jp-KimiChat-status').textContent).toBe('retrying in 2.0 s');
    comm.receive({ type: 'delta', id: ask.id, kind: 'content', text: 'Be' });
    expect(q('.jp-KimiChat-status').textContent).toBe('Answering…');
    q('.jp-KimiChat-stop').click();
    expect(comm.sent[3]).toEqual({ type: 'stop', id: ask.id });
    p.dispose();
  });

  it('switches sessions', async () => {
    const { panel: p, q, comm } = await ready();
    const select = q<HTMLSelectElement>('.jp-KimiChat-session');
    select.value = 'eda';
    select.dispatchEvent(new Event('change'));
    expect(comm.sent[2]).toEqual({ type: 'list_turns', session: 'eda' });
    p.dispose();
  });

  it('answers Run / Skip, and hides them when the kernel settles', async () => {
    const { panel: p, comm } = await ready();
    p.ask(); // nothing typed: nothing asked
    expect(comm.types).toEqual(['hello', 'list_turns']);
    const input = p.node.querySelector('textarea')!;
    input.value = 'Send it';
    p.ask();
    const id = (comm.sent[2] as { id: string }).id;
    const call = { id: 'c1', name: 'send', arguments: '{}' };
    comm.receive({ type: 'tool_start', id, call, step: 1, confirm: true });
    comm.receive({ type: 'confirm', id, call_id: 'c1', timeout: 30 });
    const run = p.node.querySelector<HTMLButtonElement>('.jp-KimiTool-run')!;
    expect(p.node.querySelector('.jp-KimiChat-status')?.textContent).toBe(
      'Waiting for you: run send?'
    );
    run.click();
    expect(comm.sent[3]).toEqual({
      type: 'confirm_reply',
      id,
      call_id: 'c1',
      run: true
    });
    comm.receive({ type: 'confirm', id, call_id: 'c1', timeout: 30 });
    expect(p.node.querySelector('.jp-KimiTool-run')).not.toBeNull();
    const end = { id, call_id: 'c1', run: false, reason: 'timeout' };
    comm.receive({ type: 'confirm_end', ...end });
    expect(p.node.querySelector('.jp-KimiTool-run')).toBeNull();
    p.dispose();
  });

  it('shows one error line when the kernel speaks another protocol', async () => {
    const { panel: p, q, comm } = await ready();
    comm.receive({ ...SESSIONS, version: 2 });
    const status = q('.jp-KimiChat-status');
    expect(status.textContent).toBe(
      "The kernel's kimi-jupyter speaks protocol v2, this page v1: restart the kernel or reload the page."
    );
    expect(status.classList.contains('jp-mod-error')).toBe(true);
    expect(q<HTMLSelectElement>('.jp-KimiChat-session').disabled).toBe(true);
    expect(q<HTMLButtonElement>('.jp-KimiChat-ask').disabled).toBe(true);
    p.dispose();
  });

  it('says what it can do until the first turn: starters and the kernel', async () => {
    const { panel: p, q } = panel();
    Widget.attach(p, document.body);
    const empty = q('.jp-KimiChat-empty');
    expect(empty.classList.contains('lm-mod-hidden')).toBe(false);
    expect(q('.jp-KimiChat-turns').classList.contains('lm-mod-hidden')).toBe(
      true
    );
    expect(q('.jp-KimiChat-intro').textContent).toContain('Ask Kimi');
    expect(q('.jp-KimiChat-kernel').textContent).toBe(
      'No notebook in focus: open one to chat about it.'
    );
    p.dispose();

    const ready_ = await ready();
    const starters = [
      ...ready_.panel.node.querySelectorAll<HTMLButtonElement>(
        '.jp-KimiChat-starter'
      )
    ];
    expect(starters.map(b => b.textContent)).toEqual(
      starterPrompts(untranslated)
    );
    expect(ready_.q('.jp-KimiChat-kernel').textContent).toBe(
      'Kernel: Python 3 (ipykernel)'
    );
    starters[2].click();
    expect(ready_.comm.sent[2]).toMatchObject({
      type: 'ask',
      prompt: 'Suggest a next step for this notebook.'
    });
    expect(ready_.q<HTMLTextAreaElement>('.jp-KimiChat-input').value).toBe('');
    expect(
      ready_.q('.jp-KimiChat-empty').classList.contains('lm-mod-hidden')
    ).toBe(true);
    expect(
      ready_.panel.node.querySelectorAll('.jp-KimiChat-turn')
    ).toHaveLength(1);
    ready_.panel.dispose();
  });

  it('leaves a starter in the box while it cannot be asked', () => {
    const { panel: p, q } = panel();
    Widget.attach(p, document.body);
    q<HTMLButtonElement>('.jp-KimiChat-starter').click();
    const input = q<HTMLTextAreaElement>('.jp-KimiChat-input');
    expect(input.value).toBe(starterPrompts(untranslated)[0]);
    expect(document.activeElement).toBe(input);
    p.dispose();
  });

  it('offers "Jump to latest" while the reader is further up', async () => {
    const { panel: p, q } = await ready();
    const jump = q<HTMLButtonElement>('.jp-KimiChat-jump');
    const turns = q('.jp-KimiChat-turns');
    Object.defineProperty(turns, 'scrollHeight', { get: () => 1000 });
    Object.defineProperty(turns, 'clientHeight', { get: () => 200 });
    expect(jump.hidden).toBe(true);
    turns.scrollTop = 800;
    turns.dispatchEvent(new Event('scroll'));
    turns.scrollTop = 300; // the reader scrolls up
    turns.dispatchEvent(new Event('scroll'));
    expect(jump.hidden).toBe(false);
    expect(jump.textContent).toBe('Jump to latest');
    jump.click();
    expect(turns.scrollTop).toBe(1000);
    expect(jump.hidden).toBe(true);
    p.dispose();
  });

  it('shows the latest turn of the default session, leaving the focus alone', async () => {
    const { panel: p, q, comm } = await ready();
    const select = q<HTMLSelectElement>('.jp-KimiChat-session');
    select.value = 'eda';
    select.dispatchEvent(new Event('change'));
    const input = q<HTMLTextAreaElement>('.jp-KimiChat-input');
    const other = document.body.appendChild(document.createElement('button'));
    other.focus();
    p.showLatest({ focus: false });
    expect(comm.sent.slice(2)).toEqual([
      { type: 'list_turns', session: 'eda' },
      { type: 'list_turns', session: 'default' }
    ]);
    expect(p.model.session).toBe('default');
    MessageLoop.sendMessage(p, Widget.Msg.ActivateRequest);
    expect(document.activeElement).toBe(other); // quiet, once
    MessageLoop.sendMessage(p, Widget.Msg.ActivateRequest);
    expect(document.activeElement).toBe(input);
    p.dispose();
  });

  it('says when sending fails', async () => {
    const { panel: p, q, comm } = await ready();
    comm.closeFromKernel();
    expect(q('.jp-KimiChat-status').textContent).toBe(
      'The kernel closed the chat; it reconnects when the kernel is idle.'
    );
    p.dispose();
    expect(p.isDisposed).toBe(true);
    p.dispose();
  });
});
