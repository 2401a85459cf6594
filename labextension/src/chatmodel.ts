/**
 * `ChatPanelModel`: what the chat panel shows, as plain data. It applies the kernel's
 * messages (`chatprotocol.ts`) and builds the requests to send; it knows nothing of the
 * DOM or the kernel, so it is tested on its own.
 */
import {
  ChatRequest,
  IAskRequest,
  IConfirmReplyRequest,
  IListTurnsRequest,
  IStopRequest,
  IToolStartMessage,
  KernelChatMessage,
  parseKernelMessage
} from './chatprotocol';
import type { IToolResult } from './turn';

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

export type ChatModelListener = (model: ChatPanelModel) => void;

let requestCounter = 0;

/** A request id unique in this page. */
export function newRequestId(): string {
  requestCounter += 1;
  return `kimi-panel-${Date.now().toString(36)}-${requestCounter}`;
}

export class ChatPanelModel {
  /** The kernel's session names (always including the selected one once known). */
  get sessions(): readonly string[] {
    return this._sessions;
  }

  /** The selected session, `''` until the kernel has said which is the default. */
  get session(): string {
    return this._session;
  }

  get turns(): readonly IChatTurn[] {
    return this._turns;
  }

  /** The request id of the answer streaming now (what Stop stops), or `null`. */
  get pendingId(): string | null {
    return this._pendingId;
  }

  /** The last error not tied to an answer (e.g. an unknown request), or `''`. */
  get error(): string {
    return this._error;
  }

  /** Call `listener` after every change; returns a function that unsubscribes. */
  onChange(listener: ChatModelListener): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** Forget everything (another kernel). */
  reset(): void {
    this._sessions = [];
    this._session = '';
    this._turns = [];
    this._pendingId = null;
    this._error = '';
    this._changed();
  }

  /** Show a problem that is not about one answer (or clear it with `''`). */
  setError(message: string): void {
    this._error = message;
    this._changed();
  }

  /** Switch to `name`: the turns shown are cleared until the kernel lists its turns. */
  selectSession(name: string): IListTurnsRequest {
    this._session = name;
    if (!this._sessions.includes(name)) {
      this._sessions = [...this._sessions, name];
    }
    this._turns = [];
    // An answer still streaming in the old session goes on in the kernel, unseen.
    this._pendingId = null;
    this._changed();
    return { type: 'list_turns', session: name };
  }

  /** Start a turn for `prompt`; the request to send, or `null` when nothing can be asked. */
  ask(prompt: string, id: string = newRequestId()): IAskRequest | null {
    const text = prompt.trim();
    if (!text || this._pendingId !== null || !this._session) {
      return null;
    }
    this._pendingId = id;
    this._error = '';
    this._turns = [
      ...this._turns,
      {
        key: this._nextKey++,
        prompt: text,
        state: 'streaming',
        id,
        reasoning: '',
        content: '',
        tools: []
      }
    ];
    this._changed();
    return { type: 'ask', id, session: this._session, prompt: text };
  }

  /**
   * Answer the kernel's `confirm` for `callId` of the streaming answer: the request to
   * send, or `null` when that call is not waiting (answered already, or stopped).
   */
  confirmTool(callId: string, run: boolean): IConfirmReplyRequest | null {
    const id = this._pendingId;
    const turn = this._turns.find(t => t.id === id);
    if (
      id === null ||
      !turn?.tools.some(t => t.callId === callId && t.asking)
    ) {
      return null;
    }
    this._updateTool(id, callId, tool => ({
      ...tool,
      asking: false,
      status: run ? TOOL_RUNNING : tool.status
    }));
    this._changed();
    return { type: 'confirm_reply', id, call_id: callId, run };
  }

  /** The request that stops the streaming answer, or `null` when none streams. */
  stop(): IStopRequest | null {
    return this._pendingId === null
      ? null
      : { type: 'stop', id: this._pendingId };
  }

  /**
   * Apply one comm message's `data`. Returns the requests that should follow (the turns
   * of the session once the sessions are known). Malformed messages are logged and ignored.
   */
  apply(data: unknown): ChatRequest[] {
    const message = parseKernelMessage(data);
    if (!message) {
      console.warn('kimi-jupyter: ignoring an unknown chat message', data);
      return [];
    }
    const follow = this._apply(message);
    this._changed();
    return follow;
  }

  private _apply(message: KernelChatMessage): ChatRequest[] {
    switch (message.type) {
      case 'sessions': {
        if (!this._session) {
          this._session = message.default;
        }
        const names = message.sessions.includes(this._session)
          ? message.sessions
          : [...message.sessions, this._session];
        this._sessions = names;
        return this._pendingId === null
          ? [{ type: 'list_turns', session: this._session }]
          : [];
      }
      case 'turns':
        if (message.session === this._session && this._pendingId === null) {
          this._turns = message.turns.map((entry, index) => {
            const old = this._turns[index];
            return old &&
              old.state !== 'streaming' &&
              old.prompt === entry.prompt
              ? old // unchanged: keep the object so its view is not redrawn
              : {
                  key: this._nextKey++,
                  prompt: entry.prompt,
                  state: 'done',
                  reasoning: '',
                  content: '',
                  tools: [],
                  record: entry.record
                };
          });
        }
        return [];
      case 'start':
        this._update(message.id, turn => ({ ...turn, started: true }));
        return [];
      case 'delta':
        this._update(message.id, turn =>
          turn.state !== 'streaming'
            ? turn
            : message.kind === 'reasoning'
              ? {
                  ...turn,
                  started: true,
                  reasoning: turn.reasoning + message.text
                }
              : { ...turn, started: true, content: turn.content + message.text }
        );
        return [];
      case 'tool_start':
        this._update(message.id, turn => ({
          ...turn,
          started: true,
          tools: [...turn.tools, newTool(message)]
        }));
        return [];
      case 'confirm':
        this._updateTool(message.id, message.call_id, tool => ({
          ...tool,
          status: TOOL_WAITING,
          asking: true
        }));
        return [];
      case 'tool_end':
        this._update(message.id, turn => endTool(turn, message.result));
        return [];
      case 'done':
        this._update(message.id, turn => ({
          ...turn,
          state: 'done',
          record: message.record
        }));
        this._finish(message.id);
        return [];
      case 'error':
        if (message.id && this._turns.some(turn => turn.id === message.id)) {
          this._update(message.id, turn => ({
            ...turn,
            state: 'error',
            error: message.message,
            record: message.record ?? turn.record
          }));
          this._finish(message.id);
        } else {
          this._error = message.message;
        }
        return [];
    }
  }

  private _update(id: string, change: (turn: IChatTurn) => IChatTurn): void {
    this._turns = this._turns.map(turn =>
      turn.id === id ? change(turn) : turn
    );
  }

  private _updateTool(
    id: string,
    callId: string,
    change: (tool: IChatTool) => IChatTool
  ): void {
    this._update(id, turn => ({
      ...turn,
      tools: turn.tools.map(tool =>
        tool.callId === callId ? change(tool) : tool
      )
    }));
  }

  private _finish(id: string): void {
    if (this._pendingId === id) {
      this._pendingId = null;
    }
  }

  private _changed(): void {
    for (const listener of [...this._listeners]) {
      listener(this);
    }
  }

  private _sessions: string[] = [];
  private _session = '';
  private _turns: IChatTurn[] = [];
  private _pendingId: string | null = null;
  private _error = '';
  private _nextKey = 1;
  private _listeners = new Set<ChatModelListener>();
}

function newTool(message: IToolStartMessage): IChatTool {
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

/** The call's result in place of its running state (added, if its start went missing). */
function endTool(turn: IChatTurn, result: IToolResult): IChatTurn {
  const ended = (tool?: IChatTool): IChatTool => ({
    callId: result.callId,
    name: result.name,
    arguments: result.arguments,
    step: result.step ?? tool?.step ?? 1,
    status: result.status,
    preview: result.preview,
    duration: result.duration,
    confirm: tool?.confirm ?? false,
    asking: false
  });
  const known = turn.tools.some(tool => tool.callId === result.callId);
  const tools = known
    ? turn.tools.map(tool =>
        tool.callId === result.callId ? ended(tool) : tool
      )
    : [...turn.tools, ended()];
  return { ...turn, tools };
}
