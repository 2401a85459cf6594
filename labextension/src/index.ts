import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

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

export default [plugin, turnRenderer];
