/**
 * `ChatPanelModel`: what the chat panel shows, as plain data. It applies the kernel's
 * messages (`chatprotocol.ts`; what they do to one turn is in `chatturn.ts`), refuses a
 * kernel of another protocol version, and builds the requests to send; it knows nothing
 * of the DOM or the kernel, so it is tested on its own.
 */
import {
  ChatRequest,
  IAskRequest,
  IConfirmReplyRequest,
  IListTurnsRequest,
  ISessionsMessage,
  IStopRequest,
  KernelChatMessage,
  parseKernelMessage,
  PROTOCOL_VERSION,
  sessionsVersion
} from './chatprotocol';
import {
  applyToTurn,
  changeTool,
  IChatTurn,
  listedTurns,
  settled
} from './chatturn';
import { ITranslate, untranslated } from './turn';

export type ChatModelListener = (model: ChatPanelModel) => void;

let requestCounter = 0;

/** A request id unique in this page. */
export function newRequestId(): string {
  requestCounter += 1;
  return `kimi-panel-${Date.now().toString(36)}-${requestCounter}`;
}

export class ChatPanelModel {
  /** `trans` translates the model's own messages (the protocol mismatch). */
  constructor(private readonly _trans: ITranslate = untranslated) {}

  /** The kernel's session names (always including the selected one once known). */
  get sessions(): readonly string[] {
    return this._sessions;
  }

  /** The selected session, `''` until the kernel has said which is the default. */
  get session(): string {
    return this._session;
  }

  /** The kernel's default session (where `%%kimi` cells ask), `''` until it says. */
  get defaultSession(): string {
    return this._default;
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
    this._default = '';
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
    this._update(id, turn =>
      changeTool(turn, callId, tool => settled(tool, run))
    );
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
    const version = sessionsVersion(data);
    if (version !== null && version !== PROTOCOL_VERSION) {
      this._mismatch(version);
      return [];
    }
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
    if (message.type === 'sessions') {
      return this._applySessions(message);
    }
    if (message.type === 'turns') {
      if (message.session === this._session && this._pendingId === null) {
        this._turns = listedTurns(this._turns, message.turns, () =>
          this._newKey()
        );
      }
      return [];
    }
    const id = message.id;
    if (!id || !this._turns.some(turn => turn.id === id)) {
      if (message.type === 'error') {
        this._error = message.message;
      }
      return [];
    }
    this._update(id, turn => applyToTurn(turn, message));
    if (message.type === 'done' || message.type === 'error') {
      this._finish(id);
    }
    return [];
  }

  private _applySessions(message: ISessionsMessage): ChatRequest[] {
    this._default = message.default;
    if (!this._session) {
      this._session = message.default;
    }
    this._sessions = message.sessions.includes(this._session)
      ? message.sessions
      : [...message.sessions, this._session];
    return this._pendingId === null
      ? [{ type: 'list_turns', session: this._session }]
      : [];
  }

  /** The kernel speaks another protocol: show why, and offer nothing to ask in. */
  private _mismatch(version: number): void {
    this._sessions = [];
    this._session = '';
    this._turns = [];
    this._pendingId = null;
    this._error = this._trans.__(
      "The kernel's kimi-jupyter speaks protocol v%1, this page v%2: restart the kernel or reload the page.",
      version,
      PROTOCOL_VERSION
    );
    this._changed();
  }

  private _update(id: string, change: (turn: IChatTurn) => IChatTurn): void {
    this._turns = this._turns.map(turn =>
      turn.id === id ? change(turn) : turn
    );
  }

  private _newKey(): number {
    return this._nextKey++;
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
  private _default = '';
  private _turns: IChatTurn[] = [];
  private _pendingId: string | null = null;
  private _error = '';
  private _nextKey = 1;
  private _listeners = new Set<ChatModelListener>();
}
