import {
  appendDelta,
  applyToTurn,
  changeTool,
  endTool,
  IChatTool,
  IChatTurn,
  listedTurns,
  newTool,
  settled,
  TOOL_RUNNING,
  TOOL_WAITING,
  turnActivity
} from '../chatturn';

function turn(change: Partial<IChatTurn> = {}): IChatTurn {
  return {
    key: 1,
    prompt: 'Q',
    state: 'streaming',
    id: 'r1',
    reasoning: '',
    content: '',
    tools: [],
    ...change
  };
}

const CALL = { id: 'c1', name: 'f', arguments: '{}' };
const START = {
  type: 'tool_start',
  id: 'r1',
  call: CALL,
  step: 2,
  confirm: true
} as const;
const RESULT = {
  call_id: 'c1',
  name: 'f',
  arguments: '{}',
  status: 'ok',
  preview: '42',
  duration: 0.25,
  step: 2
};

describe('chat turns', () => {
  it('append deltas to a streaming turn only, ending a notice', () => {
    const t = turn({ notice: 'retrying' });
    const next = appendDelta(t, {
      type: 'delta',
      id: 'r1',
      kind: 'reasoning',
      text: 'hm'
    });
    expect(next).toMatchObject({ reasoning: 'hm', started: true });
    expect(next.notice).toBeUndefined();
    const done = turn({ state: 'done' });
    expect(
      appendDelta(done, { type: 'delta', id: 'r1', kind: 'content', text: 'x' })
    ).toBe(done);
  });

  it('start, settle and end tool calls', () => {
    const tool: IChatTool = newTool(START);
    expect(tool).toEqual({
      callId: 'c1',
      name: 'f',
      arguments: '{}',
      step: 2,
      status: TOOL_WAITING,
      confirm: true,
      asking: false
    });
    const asking = { ...tool, asking: true };
    expect(settled(asking, true)).toMatchObject({
      asking: false,
      status: TOOL_RUNNING
    });
    expect(settled(asking, false)).toMatchObject({
      asking: false,
      status: TOOL_WAITING
    });
    expect(settled(tool, false)).toBe(tool);

    const t = turn({ tools: [asking] });
    expect(changeTool(t, 'other', () => tool)).toBe(t);
    const ended = endTool(t, RESULT).tools[0];
    expect(ended).toMatchObject({
      status: 'ok',
      preview: '42',
      duration: 0.25,
      confirm: true,
      asking: false
    });
  });

  it('apply the messages about an answer', () => {
    let t = turn();
    t = applyToTurn(t, { type: 'start', id: 'r1', session: 's' });
    expect(turnActivity(t)).toBe('waiting');
    t = applyToTurn(t, { type: 'status', id: 'r1', text: 'retrying' });
    expect(t.notice).toBe('retrying');
    t = applyToTurn(t, START);
    expect(t.notice).toBeUndefined();
    t = applyToTurn(t, {
      type: 'confirm',
      id: 'r1',
      call_id: 'c1',
      timeout: 9
    });
    expect(t.tools[0]).toMatchObject({ asking: true, timeout: 9 });
    expect(turnActivity(t)).toBe('confirming');
    t = applyToTurn(t, {
      type: 'confirm_end',
      id: 'r1',
      call_id: 'c1',
      run: true,
      reason: 'user'
    });
    expect(turnActivity(t)).toBe('tool');
    t = applyToTurn(t, { type: 'tool_end', id: 'r1', result: RESULT });
    expect(t.tools[0].status).toBe('ok');
    const record = { answer: 'A' };
    expect(applyToTurn(t, { type: 'done', id: 'r1', record })).toMatchObject({
      state: 'done',
      record
    });
    expect(
      applyToTurn(t, { type: 'error', id: 'r1', message: 'boom', record: null })
    ).toMatchObject({ state: 'error', error: 'boom', record: undefined });
    expect(applyToTurn(t, { type: 'turns', session: 's', turns: [] })).toBe(t);
  });

  it("list a session's turns, keeping the unchanged ones", () => {
    let key = 10;
    const old = [turn({ key: 1, state: 'done' }), turn({ key: 2 })];
    const listed = listedTurns(
      old,
      [
        { prompt: 'Q', record: {} },
        { prompt: 'Q', record: {} },
        { prompt: 'new', record: { answer: 'x' } }
      ],
      () => key++
    );
    expect(listed[0]).toBe(old[0]);
    expect(listed.map(t => t.key)).toEqual([1, 10, 11]);
    expect(listed[2]).toMatchObject({
      prompt: 'new',
      state: 'done',
      record: { answer: 'x' }
    });
  });
});
