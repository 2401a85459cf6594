import { TOOL_WAITING } from '../chatturn';
import { LiveTurn } from '../liveturn';
import { untranslated } from '../turn';
import { plainContext, streaming, until } from './chatfakes';

function live(onConfirm?: (callId: string, run: boolean) => void) {
  const view = new LiveTurn(untranslated, plainContext, onConfirm, 0);
  const q = (selector: string) =>
    view.node.querySelector(selector) as HTMLElement;
  return { view, q };
}

const TOOL = {
  callId: 'c1',
  name: 'lookup',
  arguments: '{"city": "Paris"}',
  step: 1,
  status: TOOL_WAITING,
  confirm: true,
  asking: true,
  timeout: 300
};

describe('LiveTurn', () => {
  it('opens thinking while the model thinks and folds it for the answer', async () => {
    const { view, q } = live();
    const thinking = q('.jp-KimiChat-thinking') as HTMLDetailsElement;
    view.setTurn(streaming());
    expect(thinking.hidden).toBe(true);
    expect(q('.jp-KimiChat-turnStatus').textContent).toBe(
      'Waiting for the first token…'
    );
    view.setTurn(streaming({ reasoning: '<b>hm</b>' }));
    expect(thinking.hidden).toBe(false);
    expect(thinking.open).toBe(true);
    expect(q('.jp-KimiChat-reasoning').textContent).toBe('<b>hm</b>');
    expect(q('.jp-KimiChat-reasoning b')).toBeNull();
    expect(q('.jp-KimiChat-thinkingSummary').textContent).toBe('Thinking…');

    view.setTurn(streaming({ reasoning: 'hm', content: '**Be**cause' }));
    expect(thinking.open).toBe(false);
    expect(q('.jp-KimiChat-thinkingSummary').textContent).toBe('Thinking');
    expect(q('.jp-KimiChat-turnStatus').textContent).toBe('Answering…');
    await until(() => !!q('.jp-KimiChat-liveMarkdown'));
    expect(q('.jp-KimiChat-liveAnswer').textContent).toBe('**Be**cause');
    view.dispose();
  });

  it('shows an answer over the Markdown budget in the plain view while it streams', async () => {
    const { view, q } = live();
    view.setTurn(streaming({ content: `a ${'`'.repeat(8000)}` }));
    await until(() => !!q('.jp-KimiTurn-plainNotice'));
    expect(q('.jp-KimiTurn-plainText').textContent).toBe(
      `a ${'`'.repeat(8000)}`
    );
    view.dispose();
  });

  it('keeps the reader toggle of thinking', () => {
    const { view, q } = live();
    view.setTurn(streaming({ reasoning: 'hm' }));
    q('.jp-KimiChat-thinkingSummary').click();
    const thinking = q('.jp-KimiChat-thinking') as HTMLDetailsElement;
    thinking.open = false;
    view.setTurn(streaming({ reasoning: 'hmm' }));
    expect(thinking.open).toBe(false);
    view.dispose();
  });

  it('shows the calls with Run / Skip, and drops them when settled', () => {
    const answers: [string, boolean][] = [];
    const { view, q } = live((id, run) => answers.push([id, run]));
    view.setTurn(streaming({ tools: [TOOL] }));
    expect(q('.jp-KimiChat-turnStatus').textContent).toBe(
      'Waiting for you: run lookup?'
    );
    expect(q('.jp-KimiTool-confirm').title).toBe(
      'Without an answer in 300 s, the call is skipped.'
    );
    q('.jp-KimiTool-skip').click();
    expect(answers).toEqual([['c1', false]]);
    view.setTurn(streaming({ tools: [{ ...TOOL, asking: false }] }));
    expect(q('.jp-KimiTool-confirm')).toBeNull();
    view.dispose();
  });

  it("shows the kernel's notice, then why it failed", () => {
    const { view, q } = live();
    const state = q('.jp-KimiChat-turnStatus');
    view.setTurn(streaming({ notice: 'retrying in 2.0 s: busy' }));
    expect(state.textContent).toBe('retrying in 2.0 s: busy');
    view.setTurn(streaming({ state: 'error', error: 'connection lost' }));
    expect(state.textContent).toBe('Failed: connection lost');
    expect(state.classList.contains('jp-mod-failed')).toBe(true);
    view.dispose();
  });

  it('renders nothing once disposed', async () => {
    const { view } = live();
    view.setTurn(streaming({ content: 'late' }));
    view.dispose();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(view.node.querySelector('.jp-KimiChat-liveMarkdown')).toBeNull();
  });
});
