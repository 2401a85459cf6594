/**
 * The "Kimi" chat panel for the right sidebar, bound to one notebook's kernel at a time.
 *
 * Why not `@jupyter/chat`: it brings React, MUI 7 and Emotion into an extension that has
 * none, and its model is a chat document of user messages (collaborative chats, message
 * editing, attachments). Here the conversation lives in the kernel (the `%%kimi` sessions)
 * and what is needed is a live view of one streaming answer with a thinking toggle, Stop,
 * and the turn view the notebook outputs already use (Markdown as untrusted content, raw
 * HTML kept as text). A small Lumino widget over `ChatPanelModel` does that directly.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Message } from '@lumino/messaging';
import { Panel, PanelLayout, Widget } from '@lumino/widgets';

import { KernelChatClient } from './chatclient';
import { ChatPanelModel, IChatTurn, turnActivity } from './chatmodel';
import { TURN_MIME_TYPE } from './renderer';
import { LatestThrottle } from './throttle';
import { ConfirmHandler, ToolPanelList } from './toolview';
import { ITranslate, parseTurn, untranslated } from './turn';
import type { ITurnContext } from './view';

/** What the panel needs from JupyterLab. */
export interface IChatPanelOptions {
  rendermime: IRenderMimeRegistry;
  /** Translates the panel's labels (`kimi_jupyter` domain); untranslated without it. */
  trans?: ITranslate;
}

/** What the status line says about a streaming turn's `turnActivity`. */
function activityText(turn: IChatTurn, trans: ITranslate): string {
  const tool = turn.tools[turn.tools.length - 1]?.name ?? '';
  switch (turnActivity(turn)) {
    case 'confirming':
      return trans.__('Waiting for you: run %1?', tool);
    case 'tool':
      return trans.__('Running %1…', tool);
    case 'sending':
      return trans.__('Sending…');
    case 'waiting':
      return trans.__('Waiting for the first token…');
    case 'thinking':
      return trans.__('Thinking…');
    case 'answering':
      return trans.__('Answering…');
    default:
      return '';
  }
}

export class KimiChatPanel extends Panel {
  readonly model = new ChatPanelModel();

  constructor(private readonly _options: IChatPanelOptions) {
    super();
    const trans = (this._trans = _options.trans ?? untranslated);
    this.addClass('jp-KimiChat');
    this.title.caption = trans.__('Kimi');

    const header = document.createElement('div');
    header.className = 'jp-KimiChat-header';
    this._notebookLabel.className = 'jp-KimiChat-notebook';
    this._sessionSelect.className = 'jp-KimiChat-session';
    this._sessionSelect.title = trans.__('Session');
    this._sessionSelect.addEventListener('change', () => {
      this._send(this.model.selectSession(this._sessionSelect.value));
    });
    header.append(this._notebookLabel, this._sessionSelect);
    this.addWidget(new Widget({ node: header }));

    this._turnsPanel.addClass('jp-KimiChat-turns');
    this.addWidget(this._turnsPanel);

    const footer = document.createElement('div');
    footer.className = 'jp-KimiChat-footer';
    this._status.className = 'jp-KimiChat-status';
    this._status.setAttribute('role', 'status');
    this._input.className = 'jp-KimiChat-input';
    this._input.rows = 3;
    this._input.placeholder = trans.__(
      'Ask Kimi about this notebook (Enter to send)'
    );
    this._input.addEventListener('keydown', event => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.ask();
      }
    });
    this._askButton.className = 'jp-KimiChat-ask jp-mod-styled jp-mod-accept';
    this._askButton.textContent = trans.__('Ask');
    this._askButton.addEventListener('click', () => this.ask());
    this._stopButton.className = 'jp-KimiChat-stop jp-mod-styled jp-mod-warn';
    this._stopButton.textContent = trans.__('Stop');
    this._stopButton.addEventListener('click', () => this.stop());
    const buttons = document.createElement('div');
    buttons.className = 'jp-KimiChat-buttons';
    buttons.append(this._stopButton, this._askButton);
    footer.append(this._status, this._input, buttons);
    this.addWidget(new Widget({ node: footer }));

    this.model.onChange(() => this._render());
    this._render();
  }

  /** Follow the notebook whose session context is `context` (`null`: none). */
  bind(context: ISessionContext | null, label = ''): void {
    if (context === this._context) {
      return;
    }
    this._context?.kernelChanged.disconnect(this._onKernelChanged, this);
    this._disconnect();
    this._context = context;
    this._label = label;
    context?.kernelChanged.connect(this._onKernelChanged, this);
    this._render();
    void this._connect();
  }

  /** Ask what is in the input box. */
  ask(): void {
    const request = this.model.ask(this._input.value);
    if (request && this._send(request)) {
      this._input.value = '';
    }
  }

  /** Answer a tool call's Run / Skip question. */
  confirmTool(callId: string, run: boolean): void {
    this._send(this.model.confirmTool(callId, run));
  }

  /** Stop the answer that is streaming. */
  stop(): void {
    const request = this.model.stop();
    if (request) {
      this._send(request);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.bind(null);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this._connect();
  }

  protected onActivateRequest(msg: Message): void {
    this._input.focus();
  }

  /** Connect when shown and bound: a hidden panel loads nothing into any kernel. */
  private async _connect(): Promise<void> {
    const context = this._context;
    if (!context || this._client || !this.isVisible) {
      return;
    }
    this._connecting = true;
    this._render();
    try {
      await context.ready;
      const kernel = context.session?.kernel;
      if (context !== this._context || this._client || !kernel) {
        return;
      }
      const client = new KernelChatClient(kernel, {
        message: data => this._onMessage(client, data),
        closed: () => this._onClosed(client)
      });
      this._client = client;
      kernel.iopubMessage.connect(this._onIopub, this);
      kernel.statusChanged.connect(this._onKernelStatus, this);
      try {
        await client.connect();
      } catch (reason) {
        if (this._client === client) {
          this._disconnect();
          this.model.setError(
            reason instanceof Error ? reason.message : String(reason)
          );
        }
        return;
      }
      client.send({ type: 'hello' });
    } finally {
      this._connecting = false;
      this._render();
    }
  }

  private _disconnect(): void {
    const client = this._client;
    this._client = null;
    if (client) {
      client.kernel.iopubMessage.disconnect(this._onIopub, this);
      client.kernel.statusChanged.disconnect(this._onKernelStatus, this);
      client.dispose();
    }
    this.model.reset();
  }

  private _send(
    request: Parameters<KernelChatClient['send']>[0] | null
  ): boolean {
    if (!request) {
      return false;
    }
    if (this._client?.send(request)) {
      return true;
    }
    this.model.setError(this._trans.__('Not connected to a kernel.'));
    return false;
  }

  private _onMessage(client: KernelChatClient, data: unknown): void {
    if (client !== this._client) {
      return;
    }
    for (const request of this.model.apply(data)) {
      client.send(request);
    }
  }

  private _onClosed(client: KernelChatClient): void {
    if (client === this._client) {
      this._disconnect();
      this.model.setError(
        this._trans.__(
          'The kernel closed the chat; it reconnects when the kernel is idle.'
        )
      );
    }
  }

  private _onKernelChanged(): void {
    this._disconnect();
    void this._connect();
  }

  /** A restart drops the kernel's comms: reconnect once the kernel is idle again. */
  private _onKernelStatus(
    kernel: Kernel.IKernelConnection,
    status: Kernel.Status
  ): void {
    if (
      status === 'restarting' ||
      status === 'autorestarting' ||
      status === 'dead'
    ) {
      this._disconnect();
      const reconnect = (k: Kernel.IKernelConnection, s: Kernel.Status) => {
        if (s === 'idle') {
          kernel.statusChanged.disconnect(reconnect);
          void this._connect();
        }
      };
      kernel.statusChanged.connect(reconnect);
    }
  }

  /** After a cell runs (e.g. `%%kimi -s other`), refresh the sessions and turns. */
  private _onIopub(
    kernel: Kernel.IKernelConnection,
    msg: KernelMessage.IIOPubMessage
  ): void {
    if (
      msg.header.msg_type === 'status' &&
      (msg.content as KernelMessage.IStatusMsg['content']).execution_state ===
        'idle' &&
      (msg.parent_header as Partial<KernelMessage.IHeader>).msg_type ===
        'execute_request' &&
      this.model.pendingId === null
    ) {
      this._client?.send({ type: 'hello' });
    }
  }

  private _render(): void {
    const model = this.model;
    this._notebookLabel.textContent =
      this._label || this._trans.__('No notebook');
    this._notebookLabel.title = this._label;

    const names = model.sessions;
    const shown = [...this._sessionSelect.options].map(o => o.value);
    if (shown.join('\n') !== names.join('\n')) {
      this._sessionSelect.replaceChildren(
        ...names.map(name => new Option(name, name))
      );
    }
    this._sessionSelect.value = model.session;
    this._sessionSelect.disabled = !this._client || names.length === 0;

    this._renderTurns(model.turns);

    const pending = model.turns.find(turn => turn.id === model.pendingId);
    let status = '';
    if (model.error) {
      status = model.error;
    } else if (pending) {
      status = activityText(pending, this._trans);
    } else if (this._connecting) {
      status = this._trans.__('Connecting to the kernel…');
    } else if (!this._context) {
      status = this._trans.__('Open a notebook to chat with Kimi about it.');
    } else if (!this._client) {
      status = this._trans.__('Not connected to a kernel.');
    }
    this._status.textContent = status;
    this._status.classList.toggle('jp-mod-error', !!model.error);
    this._askButton.disabled =
      !this._client || model.pendingId !== null || !model.session;
    this._stopButton.disabled = model.pendingId === null;
  }

  private _renderTurns(turns: readonly IChatTurn[]): void {
    const host = this._turnsPanel.node;
    const atBottom =
      host.scrollHeight - host.scrollTop - host.clientHeight < 40;
    const keep = new Set(turns.map(turn => turn.key));
    for (const [key, view] of this._views) {
      if (!keep.has(key)) {
        view.dispose();
        this._views.delete(key);
      }
    }
    turns.forEach((turn, index) => {
      const view = this._views.get(turn.key) ?? this._newView(turn.key);
      if (this._turnsPanel.widgets[index] !== view) {
        this._turnsPanel.insertWidget(index, view);
      }
      view.setTurn(turn);
    });
    if (atBottom) {
      host.scrollTop = host.scrollHeight;
    }
  }

  /** A view for the turn `key`, owned by `_views` (disposed when the turn goes). */
  private _newView(key: number): ChatTurnView {
    const view = new ChatTurnView(
      this._options.rendermime,
      this._trans,
      (callId, run) => this.confirmTool(callId, run)
    );
    this._views.set(key, view);
    return view;
  }

  private readonly _trans: ITranslate;
  private _context: ISessionContext | null = null;
  private _label = '';
  private _client: KernelChatClient | null = null;
  private _connecting = false;
  private _views = new Map<number, ChatTurnView>();
  private _turnsPanel = new Panel();
  private _notebookLabel = document.createElement('span');
  private _sessionSelect = document.createElement('select');
  private _status = document.createElement('div');
  private _input = document.createElement('textarea');
  private _askButton = document.createElement('button');
  private _stopButton = document.createElement('button');
}

/** One exchange: the prompt, then the live stream or the rendered turn record. */
export class ChatTurnView extends Widget {
  constructor(
    private readonly _rendermime: IRenderMimeRegistry,
    private readonly _trans: ITranslate,
    private readonly _onConfirm?: ConfirmHandler
  ) {
    super();
    this.addClass('jp-KimiChat-turn');
    this.layout = new PanelLayout();
    this._prompt.className = 'jp-KimiChat-prompt';
    (this.layout as PanelLayout).addWidget(new Widget({ node: this._prompt }));
  }

  setTurn(turn: IChatTurn): void {
    if (turn === this._turn) {
      return;
    }
    this._turn = turn;
    this._prompt.textContent = turn.prompt;
    this.node.dataset.state = turn.state;
    if (turn.record !== undefined && turn.state !== 'streaming') {
      this._showRecord(turn);
    } else {
      this._showLive(turn);
    }
  }

  /** The streaming answer, as untrusted Markdown re-rendered at most every 250 ms. */
  private _showLive(turn: IChatTurn): void {
    if (!this._live) {
      this._live = new LiveTurn(
        this._trans,
        this._turnContext(),
        this._onConfirm
      );
      (this.layout as PanelLayout).addWidget(this._live);
    }
    this._live.setTurn(turn);
  }

  private _showRecord(turn: IChatTurn): void {
    this._live?.dispose();
    this._live = null;
    this._recordView?.dispose();
    const view = new Widget();
    view.addClass('jp-KimiTurn');
    view.addClass('jp-KimiChat-record');
    const layout = new PanelLayout();
    view.layout = layout;
    this._recordView = view;
    (this.layout as PanelLayout).addWidget(view);
    const context = this._turnContext();
    const record = turn.record;
    const failedWithoutNotice =
      turn.state === 'error' && parseTurn(record)?.status !== 'failed';
    void import('./view').then(({ renderTurn }) => {
      if (view.isDisposed) {
        return;
      }
      void renderTurn(layout, record, context).then(() => {
        if (failedWithoutNotice && !view.isDisposed) {
          const node = document.createElement('div');
          node.className = 'jp-KimiTurn-notice jp-mod-failed';
          node.textContent = this._trans.__('Failed: %1', turn.error ?? '');
          layout.addWidget(new Widget({ node }));
        }
      });
    });
  }

  /** What the turn view renders Markdown with: the registry's, as for notebook outputs. */
  private _turnContext(): ITurnContext {
    const rm = this._rendermime;
    const options: IRenderMime.IRendererOptions = {
      mimeType: TURN_MIME_TYPE,
      sanitizer: rm.sanitizer,
      resolver: rm.resolver,
      linkHandler: rm.linkHandler,
      latexTypesetter: rm.latexTypesetter,
      markdownParser: rm.markdownParser
    };
    return { options, markdownFactory: rm.getFactory('text/markdown') };
  }

  private _turn: IChatTurn | null = null;
  private _prompt = document.createElement('div');
  private _live: LiveTurn | null = null;
  private _recordView: Widget | null = null;
}

/**
 * Thinking (a `<details>` that opens while the model thinks and folds when the answer
 * starts, unless the reader toggled it), the tool calls (folded; one asking for Run /
 * Skip opens), the answer so far, and what is happening.
 *
 * The answer so far renders as untrusted Markdown through the same path as the finished
 * turn (`view.ts`: raw HTML as text, guarded sanitizer), throttled by `LatestThrottle`.
 */
class LiveTurn extends Widget {
  constructor(
    private readonly _trans: ITranslate,
    private readonly _context: ITurnContext,
    onConfirm?: ConfirmHandler
  ) {
    super();
    this._tools = new ToolPanelList(_trans, onConfirm);
    this.addClass('jp-KimiChat-live');
    const layout = new PanelLayout();
    this.layout = layout;
    this._thinking.className = 'jp-KimiChat-thinking';
    this._summary.className = 'jp-KimiChat-thinkingSummary';
    this._summary.textContent = this._trans.__('Thinking');
    this._summary.addEventListener('click', () => {
      this._userToggled = true;
    });
    this._reasoning.className = 'jp-KimiChat-reasoning';
    this._thinking.append(this._summary, this._reasoning);
    this._thinking.hidden = true;
    this._answer.addClass('jp-KimiChat-liveAnswer');
    this._state.className = 'jp-KimiChat-turnStatus';
    layout.addWidget(new Widget({ node: this._thinking }));
    layout.addWidget(new Widget({ node: this._tools.node }));
    layout.addWidget(this._answer);
    layout.addWidget(new Widget({ node: this._state }));
  }

  setTurn(turn: IChatTurn): void {
    this._thinking.hidden = !turn.reasoning;
    this._reasoning.textContent = turn.reasoning;
    this._tools.update(turn.tools);
    if (turn.content !== this._content) {
      this._content = turn.content;
      this._throttle.update(turn.content);
    }
    if (!this._userToggled && turn.state === 'streaming') {
      this._thinking.open = !turn.content;
    }
    this._summary.textContent =
      turn.state === 'streaming' && !turn.content
        ? this._trans.__('Thinking…')
        : this._trans.__('Thinking');
    this._state.textContent =
      turn.state === 'error'
        ? this._trans.__('Failed: %1', turn.error ?? '')
        : activityText(turn, this._trans);
    this._state.classList.toggle('jp-mod-failed', turn.state === 'error');
  }

  dispose(): void {
    this._throttle.dispose();
    super.dispose();
  }

  /** Render `markdown` (the whole answer so far) in place of the last rendering. */
  private async _renderAnswer(markdown: string): Promise<void> {
    const { createAnswer, renderMarkdown } = await import('./view');
    if (this.isDisposed) {
      return;
    }
    if (!this._markdown) {
      this._markdown = createAnswer(this._context);
      this._markdown.addClass('jp-KimiChat-liveMarkdown');
      this._answer.addWidget(this._markdown);
    }
    await renderMarkdown(this._markdown, markdown);
  }

  private _userToggled = false;
  private readonly _tools: ToolPanelList;
  private _content = '';
  private _throttle = new LatestThrottle<string>(markdown =>
    this._renderAnswer(markdown)
  );
  private _markdown: IRenderMime.IRenderer | null = null;
  private _thinking = document.createElement('details');
  private _summary = document.createElement('summary');
  private _reasoning = document.createElement('div');
  private _answer = new Panel();
  private _state = document.createElement('div');
}

/**
 * The session context of a notebook-like main-area widget (anything with a
 * `sessionContext`, as `NotebookPanel` has), or `null`.
 */
export function sessionContextOf(
  widget: Widget | null | undefined
): ISessionContext | null {
  const context = (widget as { sessionContext?: ISessionContext } | null)
    ?.sessionContext;
  return context && typeof context.ready === 'object' ? context : null;
}
