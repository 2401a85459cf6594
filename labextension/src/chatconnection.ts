/**
 * `ChatConnection`: the chat panel's line to the kernel of one notebook at a time. It
 * binds to the notebook's session context, connects a `KernelChatClient` when wanted,
 * says hello, feeds what the kernel sends to the `ChatPanelModel`, and follows the
 * kernel: a new kernel or a restart reconnects, a closed comm is shown as an error.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { Widget } from '@lumino/widgets';

import { KernelChatClient } from './chatclient';
import type { ChatPanelModel } from './chatmodel';
import { ChatRequest, helloRequest } from './chatprotocol';
import { ITranslate, untranslated } from './turn';

/** Kernel states after which the kernel's comms are gone. */
const LOST_STATES: ReadonlySet<Kernel.Status> = new Set([
  'restarting',
  'autorestarting',
  'dead'
]);

export interface IChatConnectionOptions {
  model: ChatPanelModel;
  trans?: ITranslate;
  /** Whether to connect now (a hidden panel loads nothing into any kernel). */
  wanted?: () => boolean;
  /** Called when `context`, `isConnecting` or `isConnected` change. */
  changed?: () => void;
  /** Hears every message from the kernel first (the agent's proposals). */
  received?: (data: unknown) => void;
}

export class ChatConnection {
  constructor(options: IChatConnectionOptions) {
    this._model = options.model;
    this._trans = options.trans ?? untranslated;
    this._wanted = options.wanted ?? (() => true);
    this._changed = options.changed ?? (() => undefined);
    this._received = options.received ?? (() => undefined);
  }

  /** The session context followed, or `null`. */
  get context(): ISessionContext | null {
    return this._context;
  }

  /** The comm is open (or opening) and requests can be sent. */
  get isConnected(): boolean {
    return this._client !== null;
  }

  get isConnecting(): boolean {
    return this._connecting;
  }

  /** Follow the notebook whose session context is `context` (`null`: none). */
  bind(context: ISessionContext | null): void {
    if (context === this._context) {
      return;
    }
    this._context?.kernelChanged.disconnect(this._onKernelChanged, this);
    this._disconnect();
    this._context = context;
    context?.kernelChanged.connect(this._onKernelChanged, this);
    this._changed();
    void this.connect();
  }

  /** Connect to the bound kernel, when wanted and not connected already. */
  async connect(): Promise<void> {
    const context = this._context;
    if (!context || this._client || !this._wanted()) {
      return;
    }
    this._connecting = true;
    this._changed();
    try {
      await context.ready;
      const kernel = context.session?.kernel;
      if (context === this._context && !this._client && kernel) {
        await this._open(kernel);
      }
    } finally {
      this._connecting = false;
      this._changed();
    }
  }

  /** Send `request` (none: nothing); shows an error and returns false when not connected. */
  send(request: ChatRequest | null): boolean {
    if (!request) {
      return false;
    }
    if (this._client?.send(request)) {
      return true;
    }
    this._model.setError(this._trans.__('Not connected to a kernel.'));
    return false;
  }

  dispose(): void {
    this.bind(null);
  }

  private async _open(kernel: Kernel.IKernelConnection): Promise<void> {
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
        this._model.setError(
          reason instanceof Error ? reason.message : String(reason)
        );
      }
      return;
    }
    client.send(helloRequest());
  }

  private _disconnect(): void {
    this._stopAwaitingIdle();
    const client = this._client;
    this._client = null;
    if (client) {
      client.kernel.iopubMessage.disconnect(this._onIopub, this);
      client.kernel.statusChanged.disconnect(this._onKernelStatus, this);
      client.dispose();
    }
    this._model.reset();
  }

  private _onMessage(client: KernelChatClient, data: unknown): void {
    if (client !== this._client) {
      return;
    }
    this._received(data);
    for (const request of this._model.apply(data)) {
      client.send(request);
    }
  }

  private _onClosed(client: KernelChatClient): void {
    if (client === this._client) {
      this._disconnect();
      this._model.setError(
        this._trans.__(
          'The kernel closed the chat; it reconnects when the kernel is idle.'
        )
      );
      this._changed();
    }
  }

  private _onKernelChanged(): void {
    this._disconnect();
    this._changed();
    void this.connect();
  }

  /** A restart drops the kernel's comms: reconnect once the kernel is idle again. */
  private _onKernelStatus(
    kernel: Kernel.IKernelConnection,
    status: Kernel.Status
  ): void {
    if (!LOST_STATES.has(status)) {
      return;
    }
    this._disconnect();
    this._changed();
    const reconnect = (k: Kernel.IKernelConnection, s: Kernel.Status) => {
      if (s === 'idle') {
        this._stopAwaitingIdle();
        void this.connect();
      }
    };
    kernel.statusChanged.connect(reconnect);
    this._awaitingIdle = () => kernel.statusChanged.disconnect(reconnect);
  }

  private _stopAwaitingIdle(): void {
    const stop = this._awaitingIdle;
    this._awaitingIdle = null;
    stop?.();
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
      this._model.pendingId === null
    ) {
      this._client?.send(helloRequest());
    }
  }

  private readonly _model: ChatPanelModel;
  private readonly _trans: ITranslate;
  private readonly _wanted: () => boolean;
  private readonly _changed: () => void;
  private readonly _received: (data: unknown) => void;
  private _context: ISessionContext | null = null;
  private _client: KernelChatClient | null = null;
  private _connecting = false;
  /** Stops waiting for the restarted kernel's first idle. */
  private _awaitingIdle: (() => void) | null = null;
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
