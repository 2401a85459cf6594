/**
 * The "Kimi" chat panel for the right sidebar, bound to one notebook's kernel at a time.
 *
 * Why not `@jupyter/chat`: it brings React, MUI 7 and Emotion into an extension that has
 * none, and its model is a chat document of user messages (collaborative chats, message
 * editing, attachments). Here the conversation lives in the kernel (the `%%kimi` sessions)
 * and what is needed is a live view of one streaming answer with a thinking toggle, Stop,
 * and the turn view the notebook outputs already use (Markdown as untrusted content, raw
 * HTML kept as text). A small Lumino widget over `ChatPanelModel` does that directly.
 *
 * This file only wires the pieces: the header, what an empty panel offers
 * (`ChatEmptyState`), the turns (`ChatTurnList` of `ChatTurnView`, following the end),
 * "Jump to latest", the footer, the model and the kernel line (`ChatConnection`).
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Message } from '@lumino/messaging';
import { Panel, Widget } from '@lumino/widgets';

import { AgentController, IAgentTarget } from './agent/controller';
import { AgentSwitch } from './agent/panelview';
import { ChatConnection } from './chatconnection';
import { ChatEmptyState } from './chatempty';
import { ChatPanelModel } from './chatmodel';
import { panelStatusText } from './chatstatus';
import { ChatTurnList } from './chatturnlist';
import { ChatTurnView } from './chatturnview';
import { withNotebook } from './notebookcells';
import { ITranslate, untranslated } from './turn';

export { notebookTarget } from './agent/runner';
export { sessionContextOf } from './chatconnection';

/** What the panel needs from JupyterLab. */
export interface IChatPanelOptions {
  rendermime: IRenderMimeRegistry;
  /** Translates the panel's labels (`kimi_jupyter` domain); untranslated without it. */
  trans?: ITranslate;
}

export class KimiChatPanel extends Panel {
  readonly model: ChatPanelModel;
  /** Agent mode for the bound notebook. */
  readonly agent: AgentController;

  constructor(options: IChatPanelOptions) {
    super();
    const trans = (this._trans = options.trans ?? untranslated);
    this.model = new ChatPanelModel(trans);
    this._connection = new ChatConnection({
      model: this.model,
      trans,
      wanted: () => this.isVisible,
      changed: () => this._render(),
      received: data => this.agent.receive(data)
    });
    this.agent = new AgentController({
      send: request => this._connection.send(request),
      trans
    });
    this._agentSwitch = new AgentSwitch(settings => {
      this.agent.setSettings(settings);
      this._render();
    }, trans);
    this._turns = new ChatTurnList(
      () =>
        new ChatTurnView(
          options.rendermime,
          trans,
          (callId, run) => this.confirmTool(callId, run),
          turn => this.agent.viewOf(turn.id)
        ),
      following => {
        this._jump.hidden = following;
      }
    );
    this._empty = new ChatEmptyState(trans, prompt => this.askText(prompt));
    this.addClass('jp-KimiChat');
    this.title.caption = trans.__('Kimi');
    this.addWidget(new Widget({ node: this._header() }));
    this.addWidget(new Widget({ node: this._agentSwitch.node }));
    this.addWidget(this._empty);
    this.addWidget(this._turns);
    this.addWidget(new Widget({ node: this._jumpBar() }));
    this.addWidget(new Widget({ node: this._footer() }));
    this.model.onChange(() => this._render());
    this._render();
  }

  /**
   * Follow the notebook whose session context is `context` (`null`: none); `agent`: what
   * agent mode acts on in it (none: agent mode is off).
   */
  bind(
    context: ISessionContext | null,
    label = '',
    agent: IAgentTarget | null = null
  ): void {
    if (context !== this._connection.context) {
      this.agent.bind(agent);
      this._label = label;
      this._connection.bind(context);
    }
  }

  /** Ask what is in the input box; the answer is followed as it streams. */
  ask(): void {
    const asked = this.model.ask(this._input.value);
    const notebook = this.agent.target?.notebook;
    const request = asked && withNotebook(asked, notebook, this._label);
    if (request && this._connection.send(this.agent.ask(request))) {
      this._input.value = '';
      this._turns.jumpToLatest();
    }
  }

  /** Put `prompt` in the input box and ask it; if it cannot be asked yet, it waits there. */
  askText(prompt: string): void {
    this._input.value = prompt;
    this.ask();
    if (this._input.value) {
      this._input.focus();
    }
  }

  /**
   * Show the latest turn of the kernel's default session, where the notebook actions'
   * cells ask, and follow it: their answer shows at the end once it is recorded. With
   * `focus: false` the next activation leaves the focus where it is (in the notebook).
   */
  showLatest(options: { focus?: boolean } = {}): void {
    const model = this.model;
    const wanted = model.defaultSession;
    if (wanted && wanted !== model.session && model.pendingId === null) {
      this._connection.send(model.selectSession(wanted));
    }
    this._turns.jumpToLatest();
    this._quietActivation = options.focus === false;
  }

  /** Answer a tool call's Run / Skip question. */
  confirmTool(callId: string, run: boolean): void {
    this._connection.send(this.model.confirmTool(callId, run));
  }

  /** Stop the answer that is streaming. */
  stop(): void {
    const request = this.model.stop();
    this.agent.stop(this.model.pendingId);
    if (request) {
      this._connection.send(request);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._connection.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this._connection.connect();
  }

  protected onActivateRequest(msg: Message): void {
    if (this._quietActivation) {
      this._quietActivation = false;
      return;
    }
    this._input.focus();
  }

  /** The notebook's name and the session picker. */
  private _header(): HTMLElement {
    const header = document.createElement('div');
    header.className = 'jp-KimiChat-header';
    this._notebookLabel.className = 'jp-KimiChat-notebook';
    this._sessionSelect.className = 'jp-KimiChat-session';
    this._sessionSelect.title = this._trans.__('Session');
    this._sessionSelect.addEventListener('change', () => {
      this._connection.send(
        this.model.selectSession(this._sessionSelect.value)
      );
    });
    header.append(this._notebookLabel, this._sessionSelect);
    return header;
  }

  /** "Jump to latest", over the end of the turns while the reader is further up. */
  private _jumpBar(): HTMLElement {
    const bar = document.createElement('div');
    bar.className = 'jp-KimiChat-jumpBar';
    this._jump.type = 'button';
    this._jump.className = 'jp-KimiChat-jump';
    this._jump.textContent = this._trans.__('Jump to latest');
    this._jump.hidden = true;
    this._jump.addEventListener('click', () => this._turns.jumpToLatest());
    bar.appendChild(this._jump);
    return bar;
  }

  /** The status line, the prompt box, Stop and Ask. */
  private _footer(): HTMLElement {
    const trans = this._trans;
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
    return footer;
  }

  private _render(): void {
    const model = this.model;
    const connected = this._connection.isConnected;
    this._notebookLabel.textContent =
      this._label || this._trans.__('No notebook');
    this._notebookLabel.title = this._label;
    this._renderSessions(connected);
    this.agent.sync(model.pendingId);
    this._agentSwitch.show(this.agent.settings, this.agent.target !== null);
    const context = this._connection.context;
    this._empty.setKernel(context ? context.kernelDisplayName : null);
    this._empty.setHidden(model.turns.length > 0);
    this._turns.setHidden(model.turns.length === 0);
    this._turns.setTurns(model.turns);
    this._status.textContent = panelStatusText(
      {
        error: model.error,
        pending: model.turns.find(turn => turn.id === model.pendingId),
        bound: this._connection.context !== null,
        connecting: this._connection.isConnecting,
        connected
      },
      this._trans
    );
    this._status.classList.toggle('jp-mod-error', !!model.error);
    this._askButton.disabled =
      !connected || model.pendingId !== null || !model.session;
    this._stopButton.disabled = model.pendingId === null;
  }

  private _renderSessions(connected: boolean): void {
    const names = this.model.sessions;
    const shown = [...this._sessionSelect.options].map(o => o.value);
    if (shown.join('\n') !== names.join('\n')) {
      this._sessionSelect.replaceChildren(
        ...names.map(name => new Option(name, name))
      );
    }
    this._sessionSelect.value = this.model.session;
    this._sessionSelect.disabled = !connected || names.length === 0;
  }

  private readonly _trans: ITranslate;
  private readonly _connection: ChatConnection;
  private readonly _turns: ChatTurnList<ChatTurnView>;
  private readonly _empty: ChatEmptyState;
  private readonly _agentSwitch: AgentSwitch;
  private _quietActivation = false;
  private _label = '';
  private _notebookLabel = document.createElement('span');
  private _sessionSelect = document.createElement('select');
  private _status = document.createElement('div');
  private _input = document.createElement('textarea');
  private _askButton = document.createElement('button');
  private _stopButton = document.createElement('button');
  private _jump = document.createElement('button');
}
