/**
 * A turn of the chat panel as plain immutable data (`IChatTurn`, its `IChatTool` calls),
 * the pure changes the kernel's messages make to it, and what it is doing now.
 */
import type {
  IDeltaMessage,
  IToolResultData,
  IToolStartMessage,
  ITurnEntry,
  KernelChatMessage
} from './chatprotocol';

/** A tool call's status before it ends (then: ok, error, refused, skipped, echoed, not run). */
export const TOOL_RUNNING = 'running';
export const TOOL_WAITING = 'waiting for you';

/** One tool call of a streaming answer; replaced, never changed, like the turns. */
export interface IChatTool {
  readonly callId: string;
  readonly name: string;
  readonly arguments: string;
  readonly step: number;
  readonly status: string;
  readonly preview?: string;
  readonly duration?: number;
  /** It needs confirming (`@tool(confirm=True)`). */
  readonly confirm: boolean;
  /** The kernel waits for Run or Skip (`confirmTool`). */
  readonly asking: boolean;
  /** Seconds the kernel waits for Run or Skip before it skips the call itself. */
  readonly timeout?: number;
}

/** `streaming` until `done` (complete or stopped) or `error` (failed). */
export type ChatTurnState = 'streaming' | 'done' | 'error';

/**
 * One exchange. Turns are immutable: any change replaces the object, so a view redraws
 * a turn only when its object is new.
 */
export interface IChatTurn {
  /** Unique within the model, stable for the turn's life (a view key). */
  readonly key: number;
  readonly prompt: string;
  readonly state: ChatTurnState;
  /** The request id of an answer asked from the panel. */
  readonly id?: string;
  /** Whether the kernel has acknowledged the request (`start`). */
  readonly started?: boolean;
  /** Text streamed so far (while streaming, or kept when an error has no record). */
  readonly reasoning: string;
  readonly content: string;
  /** The tool calls so far, in the order they started. */
  readonly tools: readonly IChatTool[];
  /** The turn record, once the kernel sent one. */
  readonly record?: unknown;
  /** Why it failed. */
  readonly error?: string;
  /** The kernel's latest notice about the answer (a retry, a timeout) until it goes on. */
  readonly notice?: string;
}

/** What is happening to the current answer, for the status line. */
export function turnActivity(turn: IChatTurn): string {
  if (turn.state !== 'streaming') {
    return turn.state;
  }
  if (!turn.started) {
    return 'sending';
  }
  const tool = turn.tools[turn.tools.length - 1];
  if (tool?.asking) {
    return 'confirming';
  }
  if (tool?.status === TOOL_RUNNING) {
    return 'tool';
  }
  return turn.content ? 'answering' : turn.reasoning ? 'thinking' : 'waiting';
}

/** `turn` after a kernel message about its answer (unchanged by any other message). */
export function applyToTurn(
  turn: IChatTurn,
  message: KernelChatMessage
): IChatTurn {
  switch (message.type) {
    case 'start':
      return { ...turn, started: true };
    case 'delta':
      return appendDelta(turn, message);
    case 'status':
      return turn.state === 'streaming'
        ? { ...turn, notice: message.text }
        : turn;
    case 'tool_start': {
      const tools = [...turn.tools, newTool(message)];
      return { ...turn, started: true, notice: undefined, tools };
    }
    case 'confirm':
      return changeTool(turn, message.call_id, tool => ({
        ...tool,
        status: TOOL_WAITING,
        asking: true,
        timeout: message.timeout
      }));
    case 'confirm_end':
      // Whoever settled it (a reply, the kernel's timeout, a stop), Run / Skip go.
      return changeTool(turn, message.call_id, tool =>
        settled(tool, message.run)
      );
    case 'tool_end':
      return endTool(turn, message.result);
    case 'done':
      return { ...turn, state: 'done', record: message.record };
    case 'error': {
      const record = message.record ?? turn.record;
      return { ...turn, state: 'error', error: message.message, record };
    }
    default:
      return turn;
  }
}

/**
 * The turns of a listing, reusing each old finished turn whose prompt is unchanged (so
 * its view is not redrawn); `newKey` gives the others their keys.
 */
export function listedTurns(
  old: readonly IChatTurn[],
  entries: readonly ITurnEntry[],
  newKey: () => number
): IChatTurn[] {
  return entries.map((entry, index) => {
    const kept = old[index];
    return kept && kept.state !== 'streaming' && kept.prompt === entry.prompt
      ? kept
      : {
          key: newKey(),
          prompt: entry.prompt,
          state: 'done',
          reasoning: '',
          content: '',
          tools: [],
          record: entry.record
        };
  });
}

/** `turn` with the call `callId` changed by `change`. */
export function changeTool(
  turn: IChatTurn,
  callId: string,
  change: (tool: IChatTool) => IChatTool
): IChatTurn {
  const tools = turn.tools.map(tool =>
    tool.callId === callId ? change(tool) : tool
  );
  return tools.every((tool, index) => tool === turn.tools[index])
    ? turn
    : { ...turn, tools };
}

/** `turn` with the new text of `delta`; a notice is over once the answer goes on. */
export function appendDelta(turn: IChatTurn, delta: IDeltaMessage): IChatTurn {
  if (turn.state !== 'streaming') {
    return turn;
  }
  return delta.kind === 'reasoning'
    ? {
        ...turn,
        started: true,
        notice: undefined,
        reasoning: turn.reasoning + delta.text
      }
    : {
        ...turn,
        started: true,
        notice: undefined,
        content: turn.content + delta.text
      };
}

/** A call that has just started (waiting for a question when it needs confirming). */
export function newTool(message: IToolStartMessage): IChatTool {
  return {
    callId: message.call.id,
    name: message.call.name,
    arguments: message.call.arguments,
    step: message.step,
    status: message.confirm ? TOOL_WAITING : TOOL_RUNNING,
    confirm: message.confirm,
    asking: false
  };
}

/** `tool` once its question is answered: no Run / Skip; running if it runs. */
export function settled(tool: IChatTool, run: boolean): IChatTool {
  const status = run ? TOOL_RUNNING : tool.status;
  return tool.asking || tool.status !== status
    ? { ...tool, asking: false, status }
    : tool;
}

/** The call's result in place of its running state (added, if its start went missing). */
export function endTool(turn: IChatTurn, result: IToolResultData): IChatTurn {
  const ended = (tool?: IChatTool): IChatTool => ({
    callId: result.call_id,
    name: result.name,
    arguments: result.arguments,
    step: result.step,
    status: result.status,
    preview: result.preview,
    duration: result.duration,
    confirm: tool?.confirm ?? false,
    asking: false
  });
  const known = turn.tools.some(tool => tool.callId === result.call_id);
  const tools = known
    ? turn.tools.map(tool =>
        tool.callId === result.call_id ? ended(tool) : tool
      )
    : [...turn.tools, ended()];
  return { ...turn, tools };
}
