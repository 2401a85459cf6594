/**
 * The chat panel's line to one kernel: load the extension silently, then open a comm
 * to `kimi_jupyter.chat`. The API key stays in the kernel; only prompts, text and turn
 * records cross.
 */
import type { Kernel, KernelMessage } from '@jupyterlab/services';

import { CHAT_COMM_TARGET, ChatRequest } from './chatprotocol';

/** Loads the extension without touching the user's history or execution count. */
export const LOAD_EXTENSION_CODE = '%load_ext kimi_jupyter';

export interface IChatClientCallbacks {
  /** Each message's `data`, unparsed. */
  message(data: unknown): void;
  /** The comm closed (kernel restarted or shut down). */
  closed(): void;
}

export class KernelChatClient {
  constructor(
    readonly kernel: Kernel.IKernelConnection,
    private readonly _callbacks: IChatClientCallbacks
  ) {}

  get isOpen(): boolean {
    return this._comm !== null && !this._comm.isDisposed;
  }

  /** Load the extension in the kernel if needed, then open the comm. */
  async connect(): Promise<void> {
    const reply = await this.kernel.requestExecute({
      code: LOAD_EXTENSION_CODE,
      silent: true,
      store_history: false
    }).done;
    const content = reply.content as KernelMessage.IExecuteReplyMsg['content'];
    if (content.status !== 'ok') {
      const detail =
        content.status === 'error'
          ? `${content.ename}: ${content.evalue}`
          : content.status;
      throw new Error(`could not load kimi_jupyter in the kernel (${detail})`);
    }
    const comm = this.kernel.createComm(CHAT_COMM_TARGET);
    comm.onMsg = msg => this._callbacks.message(msg.content.data);
    comm.onClose = () => {
      this._comm = null;
      this._callbacks.closed();
    };
    this._comm = comm;
    comm.open({});
  }

  /** Send `request`; false when the comm is not open. */
  send(request: ChatRequest): boolean {
    if (!this._comm || this._comm.isDisposed) {
      return false;
    }
    this._comm.send(
      request as unknown as KernelMessage.ICommMsgMsg['content']['data']
    );
    return true;
  }

  dispose(): void {
    const comm = this._comm;
    this._comm = null;
    if (comm && !comm.isDisposed && !this.kernel.isDisposed) {
      try {
        comm.close();
      } catch {
        // The kernel is gone already.
      }
    }
  }

  private _comm: Kernel.IComm | null = null;
}
