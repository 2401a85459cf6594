import {
  activityText,
  IPanelStatus,
  panelStatusText,
  streamingText,
  turnStatusText
} from '../chatstatus';
import { IChatTurn, TOOL_RUNNING } from '../chatturn';
import { untranslated } from '../turn';

const T = untranslated;

function turn(change: Partial<IChatTurn> = {}): IChatTurn {
  return {
    key: 1,
    prompt: 'Q',
    state: 'streaming',
    id: 'r1',
    started: true,
    reasoning: '',
    content: '',
    tools: [],
    ...change
  };
}

const TOOL = {
  callId: 'c1',
  name: 'lookup',
  arguments: '{}',
  step: 1,
  status: TOOL_RUNNING,
  confirm: false,
  asking: false
};

describe('status texts', () => {
  it('say what a streaming turn does', () => {
    expect(activityText(turn({ started: false }), T)).toBe('Sending…');
    expect(activityText(turn(), T)).toBe('Waiting for the first token…');
    expect(activityText(turn({ reasoning: 'hm' }), T)).toBe('Thinking…');
    expect(activityText(turn({ content: 'A' }), T)).toBe('Answering…');
    expect(activityText(turn({ tools: [TOOL] }), T)).toBe('Running lookup…');
    expect(activityText(turn({ tools: [{ ...TOOL, asking: true }] }), T)).toBe(
      'Waiting for you: run lookup?'
    );
    expect(activityText(turn({ state: 'done' }), T)).toBe('');
  });

  it("show the kernel's notice while the turn streams", () => {
    const notice = 'retrying in 2.0 s: busy';
    expect(streamingText(turn({ notice }), T)).toBe(notice);
    expect(streamingText(turn({ notice, state: 'done' }), T)).toBe('');
    expect(turnStatusText(turn({ notice }), T)).toBe(notice);
  });

  it('say why a live turn failed', () => {
    expect(turnStatusText(turn({ state: 'error', error: 'boom' }), T)).toBe(
      'Failed: boom'
    );
    expect(turnStatusText(turn({ state: 'error' }), T)).toBe('Failed: ');
  });

  it("put the panel's error first, then the answer, then the connection", () => {
    const base: IPanelStatus = {
      error: '',
      bound: true,
      connecting: false,
      connected: true
    };
    const text = (change: Partial<IPanelStatus>) =>
      panelStatusText({ ...base, ...change }, T);
    expect(text({})).toBe('');
    expect(text({ error: 'bad', pending: turn() })).toBe('bad');
    expect(text({ pending: turn({ content: 'A' }), connecting: true })).toBe(
      'Answering…'
    );
    expect(text({ connecting: true, bound: false })).toBe(
      'Connecting to the kernel…'
    );
    expect(text({ bound: false, connected: false })).toBe(
      'Open a notebook to chat with Kimi about it.'
    );
    expect(text({ connected: false })).toBe('Not connected to a kernel.');
  });
});
