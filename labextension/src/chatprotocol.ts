/**
 * The JSON messages the chat panel and the kernel's `kimi_jupyter.chat` comm target
 * exchange (mirrors `kimi_jupyter/panel.py`). Turn records are left as `unknown`: they
 * are parsed where they are shown (`turn.ts`).
 */

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

export type ChatRequest =
  IHelloRequest | IListTurnsRequest | IAskRequest | IStopRequest;

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
