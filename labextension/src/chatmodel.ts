/**
 * `ChatPanelModel`: what the chat panel shows, as plain data. It applies the kernel's
 * messages (`chatprotocol.ts`) and builds the requests to send; it knows nothing of the
 * DOM or the kernel, so it is tested on its own.
 */
import {
  ChatRequest,
  IAskRequest,
  IListTurnsRequest,
  IStopRequest,
  KernelChatMessage,
  parseKernelMessage
} from './chatprotocol';

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
        content: ''
      }
    ];
    this._changed();
    return { type: 'ask', id, session: this._session, prompt: text };
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
