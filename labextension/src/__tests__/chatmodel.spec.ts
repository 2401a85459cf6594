import { ChatPanelModel } from '../chatmodel';
import { TOOL_RUNNING, TOOL_WAITING, turnActivity } from '../chatturn';

const SESSIONS = {
  type: 'sessions',
  version: 1,
  sessions: ['default'],
  default: 'default'
};

function connected(): ChatPanelModel {
  const model = new ChatPanelModel();
  model.apply(SESSIONS);
  return model;
}

describe('ChatPanelModel', () => {
  it('takes the default session and asks for its turns', () => {
    const model = new ChatPanelModel();
    const follow = model.apply({
      type: 'sessions',
      version: 1,
      sessions: ['default', 'shared'],
      default: 'shared'
    });
    expect(model.session).toBe('shared');
    expect(model.defaultSession).toBe('shared');
    expect(model.sessions).toEqual(['default', 'shared']);
    expect(follow).toEqual([{ type: 'list_turns', session: 'shared' }]);
    model.selectSession('default');
    expect(model.defaultSession).toBe('shared'); // the kernel's, not the one shown
    model.reset();
    expect(model.defaultSession).toBe('');
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
    expect(model.apply(SESSIONS)).toEqual([]);
    model.apply({ type: 'turns', session: 'default', turns: [] });
    expect(model.turns).toHaveLength(1);
    model.reset();
    expect(model.turns).toEqual([]);
    expect(model.session).toBe('');
    expect(model.ask('Q')).toBeNull(); // no session known yet
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
    model.apply({ type: 'confirm', id: 'r1', call_id: 'c1', timeout: 300 });
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
    model.apply({ type: 'confirm', id: 'r1', call_id: 'c1', timeout: 300 });
    expect(model.confirmTool('c1', false)).toMatchObject({ run: false });
    expect(model.turns[0].tools[0].status).toBe(TOOL_WAITING);
    model.apply({
      type: 'tool_end',
      id: 'r1',
      result: { ...RESULT, status: 'skipped', duration: 0 }
    });
    expect(model.turns[0].tools[0].status).toBe('skipped');
  });

  it('adds a result whose start went missing', () => {
    const model = connected();
    model.ask('q', 'r1');
    model.apply({ type: 'tool_end', id: 'r1', result: RESULT });
    expect(model.turns[0].tools.map(t => t.status)).toEqual(['ok']);
  });

  it('keeps the timeout of a question, and drops Run / Skip on confirm_end', () => {
    for (const reason of ['user', 'timeout', 'stopped']) {
      const model = asking(true);
      model.apply({ type: 'confirm', id: 'r1', call_id: 'c1', timeout: 2.5 });
      expect(model.turns[0].tools[0]).toMatchObject({
        asking: true,
        timeout: 2.5
      });
      model.apply({
        type: 'confirm_end',
        id: 'r1',
        call_id: 'c1',
        run: false,
        reason
      });
      expect(model.turns[0].tools[0]).toMatchObject({
        asking: false,
        status: TOOL_WAITING
      });
      expect(turnActivity(model.turns[0])).toBe('thinking');
      expect(model.confirmTool('c1', true)).toBeNull(); // settled already
    }
  });

  it('runs the call when confirm_end says so, and keeps an answered call', () => {
    const model = asking(true);
    model.apply({ type: 'confirm', id: 'r1', call_id: 'c1', timeout: 300 });
    const end = {
      type: 'confirm_end',
      id: 'r1',
      call_id: 'c1',
      run: true,
      reason: 'user'
    };
    model.apply(end);
    const tool = model.turns[0].tools[0];
    expect(tool).toMatchObject({ asking: false, status: TOOL_RUNNING });
    expect(turnActivity(model.turns[0])).toBe('tool');
    model.apply(end); // once more: nothing changes
    expect(model.turns[0].tools[0]).toBe(tool);
  });
});

describe('the kernel notices and the protocol version', () => {
  const RETRY = 'retrying in 2.0 s: Kimi API error 429';

  it('keeps a status notice until the answer goes on', () => {
    const model = connected();
    model.ask('Q', 'r1');
    model.apply({ type: 'start', id: 'r1', session: 'default' });
    model.apply({ type: 'status', id: 'r1', text: RETRY });
    expect(model.turns[0].notice).toBe(RETRY);
    model.apply({ type: 'status', id: 'other', text: 'not ours' });
    expect(model.turns[0].notice).toBe(RETRY);
    model.apply({ type: 'delta', id: 'r1', kind: 'content', text: 'Hi' });
    expect(model.turns[0].notice).toBeUndefined();
    model.apply({ type: 'status', id: 'r1', text: 'no answer in 300 s' });
    model.apply({
      type: 'tool_start',
      id: 'r1',
      call: { id: 'c1', name: 'f', arguments: '{}' },
      step: 1,
      confirm: false
    });
    expect(model.turns[0].notice).toBeUndefined();
    model.apply({ type: 'done', id: 'r1', record: { answer: 'Hi' } });
    model.apply({ type: 'status', id: 'r1', text: 'late' });
    expect(model.turns[0].notice).toBeUndefined();
  });

  it('shows one error and offers no session when the versions differ', () => {
    const model = new ChatPanelModel();
    const follow = model.apply({ ...SESSIONS, version: 2 });
    expect(follow).toEqual([]);
    expect(model.error).toBe(
      "The kernel's kimi-jupyter speaks protocol v2, this page v1: restart the kernel or reload the page."
    );
    expect(model.sessions).toEqual([]);
    expect(model.session).toBe('');
    expect(model.ask('Q')).toBeNull();
  });

  it('takes a sessions reply without a version for protocol v0', () => {
    const model = connected();
    model.ask('Q', 'r1');
    const { version, ...old } = SESSIONS;
    expect(version).toBe(1);
    expect(model.apply(old)).toEqual([]);
    expect(model.error).toContain('speaks protocol v0, this page v1');
    expect(model.turns).toEqual([]);
    expect(model.pendingId).toBeNull();
  });

  it('translates the mismatch', () => {
    const model = new ChatPanelModel({ __: (id, ...args) => `T:${args}` });
    model.apply({ ...SESSIONS, version: 7 });
    expect(model.error).toBe('T:7,1');
  });
});
