import { ChatTurnView } from '../chatturnview';
import { untranslated } from '../turn';
import { plainRendermime, streaming } from './chatfakes';

const RECORD = {
  model: 'kimi-k2.6',
  answer: 'Because.',
  reasoning: '',
  status: 'done',
  usage: { total_tokens: 12 },
  timings: { total: 0.5 }
};

function view() {
  const v = new ChatTurnView(plainRendermime, untranslated);
  const q = (selector: string) => v.node.querySelector(selector);
  return { v, q };
}

describe('ChatTurnView', () => {
  it('shows the prompt as text, then the live answer', () => {
    const { v, q } = view();
    expect(v.hasClass('jp-KimiChat-turn')).toBe(true);
    v.setTurn(streaming({ prompt: '<img src=x>' }));
    expect(q('.jp-KimiChat-prompt')?.textContent).toBe('<img src=x>');
    expect(q('img')).toBeNull();
    expect(v.node.dataset.state).toBe('streaming');
    expect(q('.jp-KimiChat-live')).not.toBeNull();
    const live = q('.jp-KimiChat-live');
    v.setTurn(streaming({ content: 'Be' }));
    expect(q('.jp-KimiChat-live')).toBe(live);
  });

  it('replaces the live answer with the record once done', async () => {
    const { v, q } = view();
    v.setTurn(streaming());
    v.setTurn(streaming({ state: 'done', record: RECORD }));
    expect(q('.jp-KimiChat-live')).toBeNull();
    await v.rendered;
    expect(q('.jp-KimiChat-record.jp-KimiTurn')).not.toBeNull();
    expect(q('.jp-KimiTurn-answer')?.textContent).toBe('Because.');
    expect(q('.jp-KimiTurn-footer')?.textContent).toContain('kimi-k2.6');
    expect(v.node.dataset.state).toBe('done');
  });

  it('says why it failed when the record does not', async () => {
    const { v, q } = view();
    const turn = streaming({ state: 'error', error: 'boom', record: RECORD });
    v.setTurn(turn);
    await v.rendered;
    expect(q('.jp-KimiTurn-notice.jp-mod-failed')?.textContent).toBe(
      'Failed: boom'
    );
    v.setTurn(turn); // the same object: nothing redrawn
    expect(q('.jp-KimiChat-record')).not.toBeNull();
  });

  it('keeps the live view of a failed turn without a record', () => {
    const { v, q } = view();
    v.setTurn(streaming({ state: 'error', error: 'lost', content: 'part' }));
    expect(q('.jp-KimiChat-turnStatus')?.textContent).toBe('Failed: lost');
  });

  it('renders nothing into a disposed record view', async () => {
    const { v, q } = view();
    v.setTurn(streaming({ state: 'done', record: RECORD }));
    const record = q('.jp-KimiChat-record');
    v.setTurn(streaming({ state: 'done', record: { ...RECORD, answer: 'B' } }));
    await v.rendered;
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(v.node.contains(record)).toBe(false);
    expect(v.node.querySelectorAll('.jp-KimiChat-record')).toHaveLength(1);
    expect(v.node.querySelectorAll('.jp-KimiTurn-answer')).toHaveLength(1);
    expect(q('.jp-KimiTurn-answer')?.textContent).toBe('B');
  });
});
