/**
 * A fake kernel and session context, just enough of `Kernel.IKernelConnection` and
 * `ISessionContext` for the chat panel's connection: `requestExecute().done`,
 * `createComm`, and the `kernelChanged`, `statusChanged` and `iopubMessage` signals.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

type ExecuteReply = Partial<KernelMessage.IExecuteReplyMsg['content']>;

/** A comm as the frontend sees it; `receive` and `closeFromKernel` act as the kernel. */
export class FakeComm {
  isDisposed = false;
  opened = false;
  closed = false;
  readonly sent: unknown[] = [];
  onMsg: (msg: { content: { data: unknown } }) => void = () => undefined;
  onClose: (msg: unknown) => void = () => undefined;

  constructor(readonly targetName: string) {}

  open(): void {
    this.opened = true;
  }

  send(data: unknown): void {
    this.sent.push(data);
  }

  close(): void {
    this.closed = true;
    this.isDisposed = true;
  }

  /** The kernel sends `data`. */
  receive(data: unknown): void {
    this.onMsg({ content: { data } });
  }

  /** The kernel closes the comm. */
  closeFromKernel(): void {
    this.onClose({});
    this.isDisposed = true;
  }

  /** The `type`s sent so far. */
  get types(): string[] {
    return this.sent.map(data => (data as { type: string }).type);
  }
}

export class FakeKernel {
  readonly statusChanged = new Signal<this, Kernel.Status>(this);
  readonly iopubMessage = new Signal<this, KernelMessage.IIOPubMessage>(this);
  isDisposed = false;
  readonly executed: string[] = [];
  readonly comms: FakeComm[] = [];
  /** What the next `requestExecute` replies. */
  reply: ExecuteReply = { status: 'ok' };

  requestExecute(content: { code: string }): {
    done: Promise<{ content: ExecuteReply }>;
  } {
    this.executed.push(content.code);
    return { done: Promise.resolve({ content: this.reply }) };
  }

  createComm(targetName: string): FakeComm {
    const comm = new FakeComm(targetName);
    this.comms.push(comm);
    return comm;
  }

  /** The comm opened last. */
  get comm(): FakeComm {
    return this.comms[this.comms.length - 1];
  }

  setStatus(status: Kernel.Status): void {
    this.statusChanged.emit(status);
  }

  /** The iopub `status: idle` that ends a cell's execution. */
  finishCell(parentType = 'execute_request'): void {
    this.iopubMessage.emit({
      header: { msg_type: 'status' },
      parent_header: { msg_type: parentType },
      content: { execution_state: 'idle' }
    } as unknown as KernelMessage.IIOPubMessage);
  }
}

export class FakeSessionContext {
  readonly kernelChanged = new Signal<this, unknown>(this);
  ready: Promise<void> = Promise.resolve();
  session: { kernel: FakeKernel | null } | null;
  kernelDisplayName = 'Python 3 (ipykernel)';

  constructor(kernel: FakeKernel | null = new FakeKernel()) {
    this.session = { kernel };
  }

  get kernel(): FakeKernel {
    return this.session!.kernel!;
  }

  /** Switch to `kernel`, as choosing another kernel does. */
  changeKernel(kernel: FakeKernel): void {
    this.session = { kernel };
    this.kernelChanged.emit({ name: 'kernel', oldValue: null, newValue: null });
  }

  get asContext(): ISessionContext {
    return this as unknown as ISessionContext;
  }
}

/** Let the pending promise callbacks run (the connection awaits two). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

/** The kernel's `sessions` reply in protocol v1. */
export const SESSIONS = {
  type: 'sessions',
  version: 1,
  sessions: ['default'],
  default: 'default'
};
