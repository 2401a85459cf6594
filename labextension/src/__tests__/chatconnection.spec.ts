import { Widget } from '@lumino/widgets';

import { ChatConnection, sessionContextOf } from '../chatconnection';
import { ChatPanelModel } from '../chatmodel';
import { FakeKernel, FakeSessionContext, SESSIONS, settle } from './fakekernel';

const HELLO = { type: 'hello', version: 1 };

function setup(wanted = () => true) {
  const model = new ChatPanelModel();
  let changes = 0;
  const connection = new ChatConnection({
    model,
    wanted,
    changed: () => changes++
  });
  return { model, connection, changes: () => changes };
}

/** Bound to a fresh kernel, connected, sessions known. */
async function connected() {
  const parts = setup();
  const context = new FakeSessionContext();
  parts.connection.bind(context.asContext);
  await settle();
  context.kernel.comm.receive(SESSIONS);
  return { ...parts, context, kernel: context.kernel };
}

describe('ChatConnection', () => {
  it('loads the extension, opens the comm and says hello', async () => {
    const { model, connection, changes } = setup();
    const context = new FakeSessionContext();
    const kernel = context.kernel;
    expect(connection.isConnected).toBe(false);
    connection.bind(context.asContext);
    expect(connection.context).toBe(context);
    expect(connection.isConnecting).toBe(true);
    await settle();
    expect(connection.isConnecting).toBe(false);
    expect(connection.isConnected).toBe(true);
    expect(kernel.executed).toEqual(['%load_ext kimi_jupyter']);
    expect(kernel.comms).toHaveLength(1);
    expect(kernel.comm.targetName).toBe('kimi_jupyter.chat');
    expect(kernel.comm.opened).toBe(true);
    expect(kernel.comm.sent).toEqual([HELLO]);
    expect(changes()).toBeGreaterThanOrEqual(3);

    kernel.comm.receive(SESSIONS);
    expect(model.session).toBe('default');
    expect(kernel.comm.sent[1]).toEqual({
      type: 'list_turns',
      session: 'default'
    });
    expect(connection.send({ type: 'stop', id: 'q1' })).toBe(true);
    expect(kernel.comm.types).toEqual(['hello', 'list_turns', 'stop']);
  });

  it('connects only when wanted', async () => {
    let wanted = false;
    const { connection } = setup(() => wanted);
    const context = new FakeSessionContext();
    connection.bind(context.asContext);
    await settle();
    expect(context.kernel.executed).toEqual([]);
    expect(connection.isConnecting).toBe(false);
    wanted = true;
    await connection.connect();
    expect(context.kernel.comm.sent).toEqual([HELLO]);
    await connection.connect(); // connected already
    expect(context.kernel.comms).toHaveLength(1);
  });

  it('waits for a kernel', async () => {
    const { connection } = setup();
    const context = new FakeSessionContext(null);
    connection.bind(context.asContext);
    await settle();
    expect(connection.isConnected).toBe(false);
    expect(connection.isConnecting).toBe(false);
    const kernel = new FakeKernel();
    context.changeKernel(kernel);
    await settle();
    expect(kernel.comm.sent).toEqual([HELLO]);
  });

  it('shows one error line when the extension does not load', async () => {
    const { model, connection } = setup();
    const context = new FakeSessionContext();
    context.kernel.reply = {
      status: 'error',
      ename: 'ModuleNotFoundError',
      evalue: "No module named 'kimi_jupyter'"
    };
    connection.bind(context.asContext);
    await settle();
    expect(model.error).toBe(
      "could not load kimi_jupyter in the kernel (ModuleNotFoundError: No module named 'kimi_jupyter')"
    );
    expect(model.error).not.toContain('\n');
    expect(context.kernel.comms).toEqual([]);
    expect(connection.isConnected).toBe(false);
    expect(connection.isConnecting).toBe(false);
  });

  it('reconnects and says hello again once a restarted kernel is idle', async () => {
    const { model, connection, kernel } = await connected();
    model.ask('Q', 'r1');
    const first = kernel.comm;
    kernel.setStatus('restarting');
    expect(first.closed).toBe(true);
    expect(connection.isConnected).toBe(false);
    expect(model.session).toBe(''); // reset
    kernel.setStatus('starting');
    await settle();
    expect(kernel.comms).toHaveLength(1);
    kernel.setStatus('idle');
    await settle();
    expect(kernel.comms).toHaveLength(2);
    expect(kernel.comm.sent).toEqual([HELLO]);
    expect(kernel.executed).toHaveLength(2);
    first.receive({ type: 'error', message: 'from the old comm' });
    expect(model.error).toBe('');
    kernel.setStatus('idle'); // once only
    await settle();
    expect(kernel.comms).toHaveLength(2);
    kernel.comm.receive(SESSIONS);
    expect(model.session).toBe('default');
  });

  it('does not reconnect a restarted kernel after dispose', async () => {
    const { connection, kernel } = await connected();
    kernel.setStatus('autorestarting');
    connection.dispose();
    kernel.setStatus('idle');
    await settle();
    expect(kernel.comms).toHaveLength(1);
    expect(connection.context).toBeNull();
  });

  it('shows a closed comm, and refuses to send', async () => {
    const { model, connection, kernel } = await connected();
    kernel.comm.closeFromKernel();
    expect(connection.isConnected).toBe(false);
    expect(model.error).toBe(
      'The kernel closed the chat; it reconnects when the kernel is idle.'
    );
    expect(model.sessions).toEqual([]);
    expect(connection.send({ type: 'stop', id: 'q1' })).toBe(false);
    expect(model.error).toBe('Not connected to a kernel.');
    expect(connection.send(null)).toBe(false);
  });

  it('follows a new kernel', async () => {
    const { model, context, kernel } = await connected();
    const other = new FakeKernel();
    context.changeKernel(other);
    expect(kernel.comm.closed).toBe(true);
    expect(model.session).toBe('');
    await settle();
    expect(other.comm.sent).toEqual([HELLO]);
    kernel.setStatus('restarting'); // the old kernel is not followed
    kernel.finishCell();
    expect(other.comm.closed).toBe(false);
    expect(other.comm.sent).toEqual([HELLO]);
  });

  it('says hello again after a cell runs, unless an answer streams', async () => {
    const { model, connection, kernel } = await connected();
    kernel.finishCell();
    expect(kernel.comm.types).toEqual(['hello', 'list_turns', 'hello']);
    kernel.finishCell('kernel_info_request');
    connection.send(model.ask('Q', 'r1'));
    kernel.finishCell();
    expect(kernel.comm.types).toEqual(['hello', 'list_turns', 'hello', 'ask']);
  });

  it('ignores a connection bound away while it loads', async () => {
    const { connection } = setup();
    const a = new FakeSessionContext();
    const b = new FakeSessionContext();
    let release = () => undefined as void;
    a.ready = new Promise(resolve => (release = resolve));
    connection.bind(a.asContext);
    connection.bind(b.asContext);
    release();
    await settle();
    expect(a.kernel.comms).toEqual([]);
    expect(b.kernel.comm.sent).toEqual([HELLO]);
  });

  it('lets go of everything on dispose', async () => {
    const { model, connection, context, kernel } = await connected();
    connection.dispose();
    expect(kernel.comm.closed).toBe(true);
    expect(connection.isConnected).toBe(false);
    expect(model.sessions).toEqual([]);
    context.changeKernel(new FakeKernel());
    kernel.finishCell();
    await settle();
    expect(context.kernel.comms).toEqual([]);
    connection.dispose(); // twice is fine
  });
});

describe('sessionContextOf', () => {
  it('finds the session context of a notebook-like widget', () => {
    const context = new FakeSessionContext();
    const panel = Object.assign(new Widget(), { sessionContext: context });
    expect(sessionContextOf(panel)).toBe(context);
    expect(sessionContextOf(new Widget())).toBeNull();
    expect(sessionContextOf(null)).toBeNull();
  });
});
