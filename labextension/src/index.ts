import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { Widget } from '@lumino/widgets';

// The sidebar tab must exist at start-up and follow focus from then on.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { KimiChatPanel, sessionContextOf } from './chatpanel';
import { kimiIcon } from './icons';

import { createTurnRendererFactory, TURN_RENDERER_RANK } from './renderer';

/** The kimi-jupyter front-end plugins: this file only wires things together. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'kimi-jupyter:plugin',
  description: 'Kimi-K2.6 in JupyterLab.',
  autoStart: true,
  activate: (app: JupyterFrontEnd): void => {
    console.log('kimi-jupyter: extension activated');
  }
};

/**
 * Renders `application/vnd.kimi.turn+json` outputs. A plugin rather than a mimeExtension,
 * because the renderer needs the app's registry (its Markdown factory). Notebooks clone
 * the registry when they open, so every notebook opened after start-up sees the factory.
 */
const turnRenderer: JupyterFrontEndPlugin<void> = {
  id: 'kimi-jupyter:turn-renderer',
  description:
    'Renders Kimi turn records: answer, thinking, footer, copy buttons.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  activate: (app: JupyterFrontEnd, rendermime: IRenderMimeRegistry): void => {
    const factory = createTurnRendererFactory(() =>
      rendermime.getFactory('text/markdown')
    );
    rendermime.addFactory(factory, TURN_RENDERER_RANK);
  }
};

const OPEN_CHAT_COMMAND = 'kimi-jupyter:open-chat';

/** The Kimi panel in the right sidebar, following the notebook in focus. */
const chatPanel: JupyterFrontEndPlugin<void> = {
  id: 'kimi-jupyter:chat-panel',
  description: "Chat with Kimi in the focused notebook's kernel.",
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('kimi_jupyter');
    const panel = new KimiChatPanel({ rendermime, trans });
    panel.id = 'kimi-jupyter-chat';
    panel.title.icon = kimiIcon;
    app.shell.add(panel, 'right', { rank: 900 });

    const follow = (widget: Widget | null | undefined) => {
      const context = sessionContextOf(widget);
      if (context) {
        panel.bind(context, widget?.title.label ?? '');
      }
    };
    follow(app.shell.currentWidget);
    app.shell.currentChanged?.connect((_, change) => follow(change.newValue));

    app.commands.addCommand(OPEN_CHAT_COMMAND, {
      label: trans.__('Open Kimi Chat'),
      caption: trans.__(
        'Chat with Kimi in the kernel of the notebook in focus'
      ),
      describedBy: { args: { type: 'object', properties: {} } },
      icon: kimiIcon,
      execute: () => app.shell.activateById(panel.id)
    });
    palette?.addItem({
      command: OPEN_CHAT_COMMAND,
      category: trans.__('Kimi')
    });
  }
};

export default [plugin, turnRenderer, chatPanel];
