import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

/**
 * The kimi-jupyter front-end plugin: it only wires things together.
 *
 * The turn renderer is registered separately, as the `mimeExtension` module (`mime.ts`).
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'kimi-jupyter:plugin',
  description: 'Kimi-K2.6 in JupyterLab.',
  autoStart: true,
  activate: (app: JupyterFrontEnd): void => {
    console.log('kimi-jupyter: extension activated');
  }
};

export default plugin;
