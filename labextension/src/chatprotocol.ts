/**
 * The JSON messages the chat panel and the kernel's `kimi_jupyter.chat` comm target
 * exchange (mirrors `kimi_jupyter/panel.py`; both sides are checked against the shared
 * fixtures in `tests/fixtures/protocol/`). Turn records are left as `unknown` objects:
 * they are parsed where they are shown (`turn.ts`).
 *
 * The frontend opens with `hello` {version}; the kernel replies `sessions` {version, …},
 * and the panel goes no further when the versions differ. Tool calls: for each call the
 * model makes the kernel sends `tool_start`, then (when the call needs confirming)
 * `confirm`, which waits for a `confirm_reply` until `timeout`; `confirm_end` says how the
 * question was settled, then `tool_end`; the next step's deltas follow. Arguments and
 * previews are the model's and the tool's text: shown as text only.
 *
 * Agent mode: `agent_ask` {id, session, prompt, mode, cap?} starts agent turn `id`, which
 * streams as an `ask` does; `auto` is only ever sent when the user chose it for the request.
 * For each notebook action of an agent turn the kernel sends `agent_propose`
 * {id, step, tool, args, preview, needs_approval}; the frontend shows the approval card
 * when asked (the approval is its decision alone), carries the action out or not, and
 * answers `agent_result` for exactly that id and step. The kernel refuses any other.
 */

import {
  absentOr,
  arrayOf,
  Check,
  isBoolean,
  isInteger,
  isNumber,
  isObject,
  isString,
  oneOf,
  optional,
  pickChecked,
  shape
} from './jsonshape';

/** The comm target `%load_ext kimi_jupyter` registers in the kernel. */
export const CHAT_COMM_TARGET = 'kimi_jupyter.chat';

/** The protocol this page speaks; `hello` and `sessions` carry theirs. */
export const PROTOCOL_VERSION = 1;

/** Frontend → kernel: the session names and the default one, please. */
export interface IHelloRequest {
  type: 'hello';
  version: number;
}

/** Frontend → kernel: the turns of `session` so far. */
export interface IListTurnsRequest {
  type: 'list_turns';
  session: string;
}

/**
 * The notebook a question's `@notebook` / `@cell:N` read (`notebookcells.ts`): its cells as
 * nbformat JSON (outputs cut down to a budget), the active cell's index, and its name.
 */
export interface INotebookData {
  cells: Record<string, unknown>[];
  current?: number | null;
  name?: string;
}

/**
 * Frontend → kernel: ask `prompt` in `session`; `id` names the answer for `stop`;
 * `notebook` goes along when the prompt mentions `@notebook` or `@cell:N`.
 */
export interface IAskRequest {
  type: 'ask';
  id: string;
  session: string;
  prompt: string;
  notebook?: INotebookData;
}

/** Frontend → kernel: end the answer `id` where it is. */
export interface IStopRequest {
  type: 'stop';
  id: string;
}

/**
 * Frontend → kernel: the answer to `confirm` for the call `call_id` of the answer `id`:
 * run it, or skip it (the model is told). A reply nobody waits for is ignored.
 */
export interface IConfirmReplyRequest {
  type: 'confirm_reply';
  id: string;
  call_id: string;
  run: boolean;
}

/** How much the agent may do unasked: every change, only runs and deletes, or nothing. */
export type AgentMode = 'ask' | 'ask_run_delete' | 'auto';

/** Every `AgentMode`, the default (`ask`) first. */
export const AGENT_MODES: readonly AgentMode[] = [
  'ask',
  'ask_run_delete',
  'auto'
];

/**
 * Frontend → kernel: answer `prompt` in `session` as agent turn `id` (the id `stop` and
 * every `agent_propose` of the turn carry), approving as `mode` asks, at most `cap`
 * notebook actions (1 to 100; the kernel's default, 20, when absent).
 */
export interface IAgentAskRequest {
  type: 'agent_ask';
  id: string;
  session: string;
  prompt: string;
  mode: AgentMode;
  cap?: number;
}

/** How the frontend settled an agent step. */
export type AgentStatus =
  'done' | 'skipped' | 'edited_and_done' | 'failed' | 'stopped' | 'refused';

/** Every `AgentStatus`. */
export const AGENT_STATUSES: readonly AgentStatus[] = [
  'done',
  'skipped',
  'edited_and_done',
  'failed',
  'stopped',
  'refused'
];

/**
 * Frontend → kernel: how step `step` of agent turn `id` was settled. `cell_id`: the cell
 * inserted or acted on; `source`: the source actually used (edited before approval) or
 * read; `outputs`: nbformat output objects (run, read); `cells`: the `list_cells`
 * summaries; `message`: one line on why it failed or was refused.
 */
export interface IAgentResultRequest {
  type: 'agent_result';
  id: string;
  step: number;
  status: AgentStatus;
  cell_id?: string;
  source?: string;
  outputs?: Record<string, unknown>[];
  cells?: Record<string, unknown>[];
  message?: string;
}

export type ChatRequest =
  | IHelloRequest
  | IListTurnsRequest
  | IAskRequest
  | IStopRequest
  | IConfirmReplyRequest
  | IAgentAskRequest
  | IAgentResultRequest;

/** Kernel → frontend: reply to `hello`. */
export interface ISessionsMessage {
  type: 'sessions';
  version: number;
  sessions: string[];
  default: string;
}

/** One exchange of a session: the prompt text and the turn record. */
export interface ITurnEntry {
  prompt: string;
  record: unknown;
}

/** Kernel → frontend: reply to `list_turns`. */
export interface ITurnsMessage {
  type: 'turns';
  session: string;
  turns: ITurnEntry[];
}

/** Kernel → frontend: the answer `id` has started. */
export interface IStartMessage {
  type: 'start';
  id: string;
  session: string;
}

/** Kernel → frontend: new text (only what is new) of the answer `id`. */
export interface IDeltaMessage {
  type: 'delta';
  id: string;
  kind: 'reasoning' | 'content';
  text: string;
}

/** Kernel → frontend: a one-off notice about the answer `id` (a retry, a timeout). */
export interface IStatusMessage {
  type: 'status';
  id: string;
  text: string;
}

/** A tool call the model made: its id, the function name and the JSON arguments text. */
export interface IToolCallData {
  id: string;
  name: string;
  arguments: string;
}

/** Kernel → frontend: the call is complete and about to run (`confirm`: the user is asked). */
export interface IToolStartMessage {
  type: 'tool_start';
  id: string;
  call: IToolCallData;
  step: number;
  confirm: boolean;
}

/** Kernel → frontend: the call `call_id` waits for a `confirm_reply`, `timeout` s at most. */
export interface IConfirmMessage {
  type: 'confirm';
  id: string;
  call_id: string;
  timeout: number;
}

/** Who settled a `confirm`: the user's reply, the kernel's timeout, or a stop. */
export type ConfirmEndReason = 'user' | 'timeout' | 'stopped';

/** Kernel → frontend: the `confirm` for `call_id` is settled (`tool_end` follows). */
export interface IConfirmEndMessage {
  type: 'confirm_end';
  id: string;
  call_id: string;
  run: boolean;
  reason: ConfirmEndReason;
}

/** What running one tool call gave, as Python's `ToolResult.to_json()` writes it. */
export interface IToolResultData {
  call_id: string;
  name: string;
  arguments: string;
  status: string;
  preview: string;
  duration: number;
  step: number;
}

/** Kernel → frontend: the call ended (whatever its status). */
export interface IToolEndMessage {
  type: 'tool_end';
  id: string;
  result: IToolResultData;
}

/** Kernel → frontend: the answer `id` is complete (or stopped); `record` is its turn. */
export interface IDoneMessage {
  type: 'done';
  id: string;
  record: unknown;
}

/** Kernel → frontend: something failed; with an `id` when it concerns one answer. */
export interface IErrorMessage {
  type: 'error';
  id?: string | null;
  message: string;
  record?: unknown;
}

/** The notebook actions the frontend carries out for the agent (`inspect` stays in the kernel). */
export type AgentTool =
  | 'list_cells'
  | 'read_cell'
  | 'insert_cell'
  | 'edit_cell'
  | 'delete_cell'
  | 'run_cell';

/** Every `AgentTool`. */
export const AGENT_TOOLS: readonly AgentTool[] = [
  'list_cells',
  'read_cell',
  'insert_cell',
  'edit_cell',
  'delete_cell',
  'run_cell'
];

/**
 * What the approval card shows, as far as the kernel knows it: an insert's code, an
 * edit's old (as the agent last read it) and new source, a run's or a delete's source as
 * last read. Where the document's own source differs, the document is the truth.
 */
export interface IAgentPreview {
  cell_id?: string;
  index?: number;
  cell_type?: 'code' | 'markdown';
  source?: string;
  old_source?: string;
  new_source?: string;
}

/**
 * Kernel → frontend: step `step` of agent turn `id` wants `tool(args)`. With
 * `needs_approval` the user approves, skips or edits it first; answer `agent_result`.
 */
export interface IAgentProposeMessage {
  type: 'agent_propose';
  id: string;
  step: number;
  tool: AgentTool;
  args: Record<string, unknown>;
  preview: IAgentPreview;
  needs_approval: boolean;
}

export type KernelChatMessage =
  | ISessionsMessage
  | ITurnsMessage
  | IStartMessage
  | IDeltaMessage
  | IStatusMessage
  | IToolStartMessage
  | IConfirmMessage
  | IConfirmEndMessage
  | IToolEndMessage
  | IDoneMessage
  | IErrorMessage
  | IAgentProposeMessage;

/** A request for the kernel's sessions in this page's protocol. */
export function helloRequest(): IHelloRequest {
  return { type: 'hello', version: PROTOCOL_VERSION };
}

/** One check per field of each kind: the table must name exactly the interface's fields. */
type Shapes<M extends { type: string }> = {
  [K in M['type']]: {
    [F in Exclude<keyof Extract<M, { type: K }>, 'type'>]-?: Check;
  };
};

const TOOL_RESULT = shape({
  call_id: isString,
  name: isString,
  arguments: isString,
  status: isString,
  preview: isString,
  duration: isNumber,
  step: isInteger
});

const NOTEBOOK_DATA = shape({
  cells: arrayOf(isObject),
  current: optional(isInteger),
  name: absentOr(isString)
});

const AGENT_PREVIEW = shape({
  cell_id: absentOr(isString),
  index: absentOr(isInteger),
  cell_type: absentOr(oneOf('code', 'markdown')),
  source: absentOr(isString),
  old_source: absentOr(isString),
  new_source: absentOr(isString)
});

const KERNEL_SHAPES: Shapes<KernelChatMessage> = {
  sessions: {
    version: isInteger,
    sessions: arrayOf(isString),
    default: isString
  },
  turns: {
    session: isString,
    turns: arrayOf(shape({ prompt: isString, record: isObject }))
  },
  start: { id: isString, session: isString },
  delta: { id: isString, kind: oneOf('reasoning', 'content'), text: isString },
  status: { id: isString, text: isString },
  tool_start: {
    id: isString,
    call: shape({ id: isString, name: isString, arguments: isString }),
    step: isInteger,
    confirm: isBoolean
  },
  confirm: { id: isString, call_id: isString, timeout: isNumber },
  confirm_end: {
    id: isString,
    call_id: isString,
    run: isBoolean,
    reason: oneOf('user', 'timeout', 'stopped')
  },
  tool_end: { id: isString, result: TOOL_RESULT },
  done: { id: isString, record: isObject },
  error: {
    id: optional(isString),
    message: isString,
    record: optional(isObject)
  },
  agent_propose: {
    id: isString,
    step: isInteger,
    tool: oneOf(...AGENT_TOOLS),
    args: isObject,
    preview: AGENT_PREVIEW,
    needs_approval: isBoolean
  }
};

const REQUEST_SHAPES: Shapes<ChatRequest> = {
  hello: { version: isInteger },
  list_turns: { session: isString },
  ask: {
    id: isString,
    session: isString,
    prompt: isString,
    notebook: absentOr(NOTEBOOK_DATA)
  },
  stop: { id: isString },
  confirm_reply: { id: isString, call_id: isString, run: isBoolean },
  agent_ask: {
    id: isString,
    session: isString,
    prompt: isString,
    mode: oneOf(...AGENT_MODES),
    cap: absentOr(isInteger)
  },
  agent_result: {
    id: isString,
    step: isInteger,
    status: oneOf(...AGENT_STATUSES),
    cell_id: absentOr(isString),
    source: absentOr(isString),
    outputs: absentOr(arrayOf(isObject)),
    cells: absentOr(arrayOf(isObject)),
    message: absentOr(isString)
  }
};

/** Every kind the kernel sends (`KernelChatMessage['type']`). */
export const KERNEL_MESSAGE_KINDS = Object.keys(
  KERNEL_SHAPES
) as readonly KernelChatMessage['type'][];

/** Every kind the frontend sends (`ChatRequest['type']`). */
export const CHAT_REQUEST_KINDS = Object.keys(
  REQUEST_SHAPES
) as readonly ChatRequest['type'][];

/** `data` as a kernel message when it has the right shape, else `null`. */
export function parseKernelMessage(data: unknown): KernelChatMessage | null {
  return pickChecked(KERNEL_SHAPES, data) as KernelChatMessage | null;
}

/** `data` as a frontend request when it has the right shape, else `null`. */
export function parseChatRequest(data: unknown): ChatRequest | null {
  return pickChecked(REQUEST_SHAPES, data) as ChatRequest | null;
}

/**
 * The protocol version a `sessions` reply claims (0 when it has none: a kernel older
 * than the versioned protocol), or `null` when `data` is no `sessions` reply.
 */
export function sessionsVersion(data: unknown): number | null {
  if (!isObject(data) || data.type !== 'sessions') {
    return null;
  }
  return isInteger(data.version) ? (data.version as number) : 0;
}
