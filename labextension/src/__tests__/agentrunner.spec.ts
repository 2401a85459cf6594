import type { NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';

import { notebookTarget } from '../agent/runner';

function fakePanel(): NotebookPanel {
  const toolbar = document.createElement('div');
  const button = document.createElement('button');
  button.dataset.command = 'notebook:interrupt-kernel';
  toolbar.appendChild(button);
  return {
    content: { widgets: [] },
    sessionContext: {},
    context: { model: { sharedModel: {} } },
    toolbar: { node: toolbar }
  } as unknown as NotebookPanel;
}

const actions = { runCells: async () => true };

describe('the target hears every interrupt of its notebook', () => {
  it('from any interrupt command run while it is in focus', () => {
    const registry = {
      commandExecuted: new Signal<unknown, { id: string }>({})
    };
    const panel = fakePanel();
    let focused: unknown = panel;
    const target = notebookTarget(panel, actions, registry, () => focused);
    let heard = 0;
    const off = target.onInterrupt!(() => (heard += 1));
    registry.commandExecuted.emit({ id: 'notebook:interrupt-kernel' }); // ■ or I, I
    registry.commandExecuted.emit({ id: 'kernelmenu:interrupt' }); // the Kernel menu
    registry.commandExecuted.emit({ id: 'notebook:run-cell' });
    expect(heard).toBe(2);
    focused = {}; // another notebook's interrupt is not this one's
    registry.commandExecuted.emit({ id: 'kernelmenu:interrupt' });
    expect(heard).toBe(2);
    focused = panel;
    off();
    registry.commandExecuted.emit({ id: 'notebook:interrupt-kernel' });
    expect(heard).toBe(2);
  });

  it("from the toolbar's button where there is no command registry", () => {
    const panel = fakePanel();
    const target = notebookTarget(panel, actions);
    let heard = 0;
    const off = target.onInterrupt!(() => (heard += 1));
    panel.toolbar.node.querySelector('button')!.click();
    expect(heard).toBe(1);
    off();
    panel.toolbar.node.querySelector('button')!.click();
    expect(heard).toBe(1);
  });
});
