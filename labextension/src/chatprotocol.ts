/**
 * The JSON messages the chat panel and the kernel's `kimi_jupyter.chat` comm target
 * exchange (mirrors `kimi_jupyter/panel.py`). Turn records are left as `unknown`: they
 * are parsed where they are shown (`turn.ts`).
 *
 * Tool calls: the kernel offers every `@tool` function of the kernel. For each call the
 * model makes it sends `tool_start`, then (when the call needs confirming) `confirm`,
 * which waits for a `confirm_reply`, then `tool_end`; the next step's deltas follow.
 * Arguments and previews are the model's and the tool's text: shown as text only.
 */
import { IToolResult, parseToolResult } from './turn';

/** The comm target `%load_ext kimi_jupyter` registers in the kernel. */
export const CHAT_COMM_TARGET = 'kimi_jupyter.chat';

/** Frontend → kernel: the session names and the default one, please. */
export interface IHelloRequest {
  type: 'hello';
}

/** Frontend → kernel: the turns of `session` so far. */
export interface IListTurnsRequest {
  type: 'list_turns';
  session: string;
}

/** Frontend → kernel: ask `prompt` in `session`; `id` names the answer for `stop`. */
export interface IAskRequest {
  type: 'ask';
  id: string;
  session: string;
  prompt: string;
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

export type ChatRequest =
  | IHelloRequest
  | IListTurnsRequest
  | IAskRequest
  | IStopRequest
  | IConfirmReplyRequest;

/** Kernel → frontend: reply to `hello`. */
export interface ISessionsMessage {
  type: 'sessions';
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

/** Kernel → frontend: the call `call_id` waits for a `confirm_reply`. */
export interface IConfirmMessage {
  type: 'confirm';
  id: string;
  call_id: string;
}

/** Kernel → frontend: the call ended (whatever its status). */
export interface IToolEndMessage {
  type: 'tool_end';
  id: string;
  result: IToolResult;
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
  id?: string;
  message: string;
  record?: unknown;
}

export type KernelChatMessage =
  | ISessionsMessage
  | ITurnsMessage
  | IStartMessage
  | IDeltaMessage
  | IToolStartMessage
  | IConfirmMessage
  | IToolEndMessage
  | IDoneMessage
  | IErrorMessage;

type Json = Record<string, unknown>;

/** `data` as a kernel message when it has the right shape, else `null`. */
export function parseKernelMessage(data: unknown): KernelChatMessage | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return null;
  }
  const m = data as Json;
  const str = (v: unknown): v is string => typeof v === 'string';
  switch (m.type) {
    case 'sessions':
      return Array.isArray(m.sessions) && m.sessions.every(str)
        ? {
            type: 'sessions',
            sessions: m.sessions,
            default: str(m.default) ? m.default : (m.sessions[0] ?? 'default')
          }
        : null;
    case 'turns':
      return str(m.session) && Array.isArray(m.turns)
        ? {
            type: 'turns',
            session: m.session,
            turns: m.turns
              .filter(t => typeof t === 'object' && t !== null)
              .map(t => ({
                prompt: str((t as Json).prompt)
                  ? String((t as Json).prompt)
                  : '',
                record: (t as Json).record
              }))
          }
        : null;
    case 'start':
      return str(m.id) && str(m.session)
        ? { type: 'start', id: m.id, session: m.session }
        : null;
    case 'delta':
      return str(m.id) &&
        str(m.text) &&
        (m.kind === 'reasoning' || m.kind === 'content')
        ? { type: 'delta', id: m.id, kind: m.kind, text: m.text }
        : null;
    case 'tool_start':
      return str(m.id) ? parseToolStart(m.id, m) : null;
    case 'confirm':
      return str(m.id) && str(m.call_id)
        ? { type: 'confirm', id: m.id, call_id: m.call_id }
        : null;
    case 'tool_end': {
      const result = parseToolResult(m.result);
      return str(m.id) && result
        ? { type: 'tool_end', id: m.id, result }
        : null;
    }
    case 'done':
      return str(m.id) ? { type: 'done', id: m.id, record: m.record } : null;
    case 'error':
      return {
        type: 'error',
        id: str(m.id) ? m.id : undefined,
        message: str(m.message) ? m.message : 'unknown error',
        record: m.record ?? undefined
      };
    default:
      return null;
  }
}

function parseToolStart(id: string, m: Json): IToolStartMessage | null {
  const call = m.call as Json | null | undefined;
  if (
    typeof call !== 'object' ||
    call === null ||
    typeof call.id !== 'string' ||
    typeof call.name !== 'string'
  ) {
    return null;
  }
  return {
    type: 'tool_start',
    id,
    call: {
      id: call.id,
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : ''
    },
    step: typeof m.step === 'number' ? m.step : 1,
    confirm: m.confirm === true
  };
}
