import {
  ChatPanelModel,
  TOOL_RUNNING,
  TOOL_WAITING,
  turnActivity
} from '../chatmodel';
import { parseKernelMessage } from '../chatprotocol';

function connected(): ChatPanelModel {
  const model = new ChatPanelModel();
  model.apply({ type: 'sessions', sessions: ['default'], default: 'default' });
  return model;
}

describe('ChatPanelModel', () => {
  it('takes the default session and asks for its turns', () => {
    const model = new ChatPanelModel();
    const follow = model.apply({
      type: 'sessions',
      sessions: ['default', 'shared'],
      default: 'shared'
    });
    expect(model.session).toBe('shared');
    expect(model.sessions).toEqual(['default', 'shared']);
    expect(follow).toEqual([{ type: 'list_turns', session: 'shared' }]);
  });

  it('shows the turns the kernel lists for the session', () => {
    const model = connected();
    model.apply({
      type: 'turns',
      session: 'default',
      turns: [{ prompt: 'hi', record: { answer: 'hello' } }]
    });
    expect(model.turns).toHaveLength(1);
    expect(model.turns[0]).toMatchObject({
      prompt: 'hi',
      state: 'done',
      record: { answer: 'hello' }
    });
    const first = model.turns[0];
    model.apply({
      type: 'turns',
      session: 'default',
      turns: [{ prompt: 'hi', record: { answer: 'hello' } }]
    });
    expect(model.turns[0]).toBe(first); // unchanged turns keep their object
    model.apply({ type: 'turns', session: 'other', turns: [] });
    expect(model.turns).toHaveLength(1);
  });

  it('applies deltas, then done replaces the streaming turn with the record', () => {
    const model = connected();
    const changes: number[] = [];
    model.onChange(m => changes.push(m.turns.length));
    const request = model.ask('  Why?  ', 'r1');
    expect(request).toEqual({
      type: 'ask',
      id: 'r1',
      session: 'default',
      prompt: 'Why?'
    });
    expect(model.pendingId).toBe('r1');
    expect(model.ask('again')).toBeNull(); // one answer at a time
    expect(turnActivity(model.turns[0])).toBe('sending');
    model.apply({ type: 'start', id: 'r1', session: 'default' });
    expect(turnActivity(model.turns[0])).toBe('waiting');
    model.apply({ type: 'delta', id: 'r1', kind: 'reasoning', text: 'Hm' });
    model.apply({ type: 'delta', id: 'r1', kind: 'reasoning', text: 'm.' });
    expect(turnActivity(model.turns[0])).toBe('thinking');
    model.apply({ type: 'delta', id: 'r1', kind: 'content', text: 'Be' });
    model.apply({ type: 'delta', id: 'r1', kind: 'content', text: 'cause' });
    model.apply({ type: 'delta', id: 'other', kind: 'content', text: 'X' });
    expect(model.turns[0]).toMatchObject({
      reasoning: 'Hmm.',
      content: 'Because',
      state: 'streaming'
    });
    expect(turnActivity(model.turns[0])).toBe('answering');
    expect(model.stop()).toEqual({ type: 'stop', id: 'r1' });
    const key = model.turns[0].key;
    const follow = model.apply({
      type: 'done',
      id: 'r1',
      record: { answer: 'Because', status: 'complete' }
    });
    expect(follow).toEqual([]);
    expect(model.turns).toHaveLength(1);
    expect(model.turns[0]).toMatchObject({
      key,
      state: 'done',
      record: { answer: 'Because', status: 'complete' }
    });
    expect(model.pendingId).toBeNull();
    expect(model.stop()).toBeNull();
    expect(changes.length).toBeGreaterThan(5);
  });

  it('keeps the partial answer when an error has no record', () => {
    const model = connected();
    model.ask('Q', 'r2');
    model.apply({ type: 'delta', id: 'r2', kind: 'content', text: 'part' });
    model.apply({ type: 'error', id: 'r2', message: 'connection lost' });
    expect(model.turns[0]).toMatchObject({
      state: 'error',
      content: 'part',
      error: 'connection lost'
    });
    expect(model.turns[0].record).toBeUndefined();
    expect(model.pendingId).toBeNull();
    expect(turnActivity(model.turns[0])).toBe('error');
  });

  it('keeps the record an error carries', () => {
    const model = connected();
    model.ask('Q', 'r3');
    model.apply({
      type: 'error',
      id: 'r3',
      message: 'boom',
      record: { answer: 'pa', status: 'failed' }
    });
    expect(model.turns[0].record).toEqual({ answer: 'pa', status: 'failed' });
  });

  it('shows errors not tied to an answer, and ignores unknown messages', () => {
    const model = connected();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    expect(model.apply({ type: 'bogus' })).toEqual([]);
    expect(model.apply('not json')).toEqual([]);
    expect(
      model.apply({ type: 'delta', id: 'x', kind: 'weird', text: '' })
    ).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(3);
    warn.mockRestore();
    expect(model.error).toBe('');
    model.apply({ type: 'error', message: "unknown message type 'x'" });
    expect(model.error).toBe("unknown message type 'x'");
    model.ask('Q', 'r4');
    expect(model.error).toBe('');
  });

  it('clears the turns when the session changes', () => {
    const model = connected();
    model.ask('Q', 'r5');
    expect(model.selectSession('shared')).toEqual({
      type: 'list_turns',
      session: 'shared'
    });
    expect(model.turns).toEqual([]);
    expect(model.pendingId).toBeNull();
    expect(model.sessions).toEqual(['default', 'shared']);
    model.apply({ type: 'delta', id: 'r5', kind: 'content', text: 'late' });
    expect(model.turns).toEqual([]);
    expect(model.ask('Q2', 'r6')?.session).toBe('shared');
  });

  it('does not replace a streaming answer with a listing, and resets', () => {
    const model = connected();
    model.ask('Q', 'r7');
    expect(
      model.apply({
        type: 'sessions',
        sessions: ['default'],
        default: 'default'
      })
    ).toEqual([]);
    model.apply({ type: 'turns', session: 'default', turns: [] });
    expect(model.turns).toHaveLength(1);
    model.reset();
    expect(model.turns).toEqual([]);
    expect(model.session).toBe('');
    expect(model.ask('Q')).toBeNull(); // no session known yet
  });
});

describe('parseKernelMessage', () => {
  it('checks shapes', () => {
    expect(parseKernelMessage(null)).toBeNull();
    expect(parseKernelMessage([])).toBeNull();
    expect(parseKernelMessage({ type: 'sessions', sessions: [1] })).toBeNull();
    expect(parseKernelMessage({ type: 'sessions', sessions: ['a'] })).toEqual({
      type: 'sessions',
      sessions: ['a'],
      default: 'a'
    });
    expect(
      parseKernelMessage({
        type: 'turns',
        session: 's',
        turns: [null, { record: 1 }]
      })
    ).toEqual({
      type: 'turns',
      session: 's',
      turns: [{ prompt: '', record: 1 }]
    });
    expect(parseKernelMessage({ type: 'start', id: 1 })).toBeNull();
    expect(parseKernelMessage({ type: 'done' })).toBeNull();
    expect(parseKernelMessage({ type: 'error' })).toEqual({
      type: 'error',
      id: undefined,
      message: 'unknown error',
      record: undefined
    });
  });
});

describe('tool calls in the chat model', () => {
  const CALL = { id: 'c1', name: 'lookup', arguments: '{"city":"Paris"}' };
  const RESULT = {
    call_id: 'c1',
    name: 'lookup',
    arguments: CALL.arguments,
    status: 'ok',
    preview: '2148000',
    duration: 0.5,
    step: 1
  };

  function asking(confirm: boolean): ChatPanelModel {
    const model = connected();
    model.ask('How many?', 'r1');
    model.apply({ type: 'start', id: 'r1', session: 'default' });
    model.apply({ type: 'delta', id: 'r1', kind: 'reasoning', text: 'hm' });
    model.apply({ type: 'tool_start', id: 'r1', call: CALL, step: 1, confirm });
    return model;
  }

  it('adds a running call, then its result, then the answer goes on', () => {
    const model = asking(false);
    expect(model.turns[0].tools).toEqual([
      {
        callId: 'c1',
        name: 'lookup',
        arguments: CALL.arguments,
        step: 1,
        status: TOOL_RUNNING,
        confirm: false,
        asking: false
      }
    ]);
    expect(turnActivity(model.turns[0])).toBe('tool');
    const before = model.turns[0].tools[0];
    model.apply({ type: 'tool_end', id: 'r1', result: RESULT });
    const tool = model.turns[0].tools[0];
    expect(tool).not.toBe(before); // replaced, so its view redraws
    expect(tool).toMatchObject({
      status: 'ok',
      preview: '2148000',
      duration: 0.5
    });
    expect(turnActivity(model.turns[0])).toBe('thinking');
    model.apply({
      type: 'delta',
      id: 'r1',
      kind: 'content',
      text: 'About 2M.'
    });
    model.apply({ type: 'done', id: 'r1', record: { answer: 'About 2M.' } });
    expect(model.turns[0].state).toBe('done');
    expect(model.pendingId).toBeNull();
  });

  it('asks for Run / Skip on confirm and answers once', () => {
    const model = asking(true);
    expect(model.turns[0].tools[0].status).toBe(TOOL_WAITING);
    expect(model.confirmTool('c1', true)).toBeNull(); // not asked yet
    model.apply({ type: 'confirm', id: 'r1', call_id: 'c1' });
    expect(model.turns[0].tools[0].asking).toBe(true);
    expect(turnActivity(model.turns[0])).toBe('confirming');
    expect(model.confirmTool('other', true)).toBeNull();
    expect(model.confirmTool('c1', true)).toEqual({
      type: 'confirm_reply',
      id: 'r1',
      call_id: 'c1',
      run: true
    });
    expect(model.turns[0].tools[0]).toMatchObject({
      asking: false,
      status: TOOL_RUNNING
    });
    expect(model.confirmTool('c1', false)).toBeNull(); // answered already
  });

  it('sends Skip, and the kernel says how it ended', () => {
    const model = asking(true);
    model.apply({ type: 'confirm', id: 'r1', call_id: 'c1' });
    expect(model.confirmTool('c1', false)).toMatchObject({ run: false });
    expect(model.turns[0].tools[0].status).toBe(TOOL_WAITING);
    model.apply({
      type: 'tool_end',
      id: 'r1',
      result: { ...RESULT, status: 'skipped', duration: 0 }
    });
    expect(model.turns[0].tools[0].status).toBe('skipped');
  });

  it('adds a result whose start went missing, and checks shapes', () => {
    const model = connected();
    model.ask('q', 'r1');
    model.apply({ type: 'tool_end', id: 'r1', result: RESULT });
    expect(model.turns[0].tools.map(t => t.status)).toEqual(['ok']);
    expect(parseKernelMessage({ type: 'tool_start', id: 'r1' })).toBeNull();
    expect(
      parseKernelMessage({ type: 'tool_start', id: 'r1', call: { id: 'x' } })
    ).toBeNull();
    expect(
      parseKernelMessage({ type: 'tool_end', id: 'r1', result: {} })
    ).toBeNull();
    expect(parseKernelMessage({ type: 'confirm', id: 'r1' })).toBeNull();
    expect(
      parseKernelMessage({
        type: 'tool_start',
        id: 'r1',
        call: { id: 'x', name: 'f', arguments: 7 },
        confirm: 'yes'
      })
    ).toEqual({
      type: 'tool_start',
      id: 'r1',
      call: { id: 'x', name: 'f', arguments: '' },
      step: 1,
      confirm: false
    });
  });
});
