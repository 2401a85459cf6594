import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import {
  IEditorExtensionRegistry,
  IEditorLanguageRegistry
} from '@jupyterlab/codemirror';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { Widget } from '@lumino/widgets';

// The sidebar tab must exist at start-up and follow focus from then on.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { KimiChatPanel, notebookTarget, sessionContextOf } from './chatpanel';
import { kimiIcon } from './icons';

// Activation hands the turn view its code inserter at once (and the module is small).
// eslint-disable-next-line jupyter/prefer-lazy-imports
import {
  activeCellHasError,
  activeCellOutput,
  askAboutOutput,
  ASK_OUTPUT_COMMAND,
  ERROR_MIME_TYPE,
  ERROR_OUTPUT_SELECTOR,
  EXPLAIN_ERROR_COMMAND,
  explainError,
  INSERT_CODE_COMMAND,
  insertCode,
  IOutputLocation,
  locateOutput,
  OUTPUT_CHILD_CLASS,
  OUTPUT_SELECTOR,
  setCodeInserter,
  setStepsInserter
} from './actions';

import { createTurnRendererFactory, TURN_RENDERER_RANK } from './renderer';

import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import {
  announceOnSession,
  LIVE_MODULE,
  LIVE_MODULE_VERSION
} from './cellliveplugin';
import { turnContext } from './turncontext';

import { createKimiHighlightingFactory, MarkdownLoader } from './highlighting';

import { installChatKeys } from './chatkeys';

// Activation starts following the focus at once (and the module is small).
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { codeToInsert, LastFocus } from './lastanswer';

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
const CHAT_PANEL_ID = 'kimi-jupyter-chat';

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
    panel.id = CHAT_PANEL_ID;
    panel.title.icon = kimiIcon;
    app.shell.add(panel, 'right', { rank: 900 });

    const follow = (widget: Widget | null | undefined) => {
      const context = sessionContextOf(widget);
      if (context) {
        const agent =
          widget instanceof NotebookPanel
            ? notebookTarget(
                widget,
                NotebookActions,
                app.commands,
                () => app.shell.currentWidget
              )
            : null;
        panel.bind(context, widget?.title.label ?? '', agent);
      }
    };
    follow(app.shell.currentWidget);
    app.shell.currentChanged?.connect((_, change) => follow(change.newValue));

    app.commands.addCommand(OPEN_CHAT_COMMAND, {
      label: trans.__('Open Kimi Chat'),
      caption: trans.__(
        'Chat with Kimi in the kernel of the notebook in focus'
      ),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            // The notebook actions: their answer shows at the end; the focus stays put.
            latest: { type: 'boolean' }
          }
        }
      },
      icon: kimiIcon,
      execute: args => {
        if (args.latest === true) {
          panel.showLatest({ focus: false });
        }
        app.shell.activateById(panel.id);
      }
    });
    palette?.addItem({
      command: OPEN_CHAT_COMMAND,
      category: trans.__('Kimi')
    });
  }
};

/**
 * Notebook commands: ask about an output and explain an error (output context menu and
 * palette), and insert an answer's code block (the "Insert" buttons of rendered answers).
 */
const notebookActions: JupyterFrontEndPlugin<void> = {
  id: 'kimi-jupyter:notebook-actions',
  description: 'Ask Kimi about outputs and errors; insert code from answers.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('kimi_jupyter');
    const category = trans.__('Kimi');
    const noArgs = { args: { type: 'object', properties: {} } };
    // Their answers are recorded in the kernel's default session: the panel shows them.
    const showChat = async () => {
      if (app.commands.hasCommand(OPEN_CHAT_COMMAND)) {
        await app.commands.execute(OPEN_CHAT_COMMAND, { latest: true });
      }
    };

    // From the context menu (`args.fromContextMenu`): the output right-clicked;
    // from the palette: the active cell's output.
    const outputFor = (
      args: { fromContextMenu?: unknown },
      mimeType?: string
    ): IOutputLocation | null => {
      const notebook = tracker.currentWidget?.content;
      if (!notebook) {
        return null;
      }
      if (!args.fromContextMenu) {
        return activeCellOutput(notebook);
      }
      const node = app.contextMenuHitTest(node =>
        mimeType
          ? node.dataset.mimeType === mimeType
          : node.classList.contains(OUTPUT_CHILD_CLASS)
      );
      return node ? locateOutput(notebook, node) : null;
    };

    app.commands.addCommand(ASK_OUTPUT_COMMAND, {
      label: trans.__('Ask Kimi about this output'),
      caption: trans.__('Insert a %%kimi cell below that mentions this output'),
      describedBy: noArgs,
      icon: kimiIcon,
      isEnabled: args => outputFor(args) !== null,
      execute: async args => {
        const notebook = tracker.currentWidget?.content;
        const location = outputFor(args);
        if (notebook && location) {
          await showChat();
          await askAboutOutput(NotebookActions, notebook, location);
        }
      }
    });

    const errorFor = (args: { fromContextMenu?: unknown }) => {
      const notebook = tracker.currentWidget?.content;
      if (!notebook) {
        return null;
      }
      if (!args.fromContextMenu) {
        return activeCellHasError(notebook) ? notebook.activeCellIndex : null;
      }
      const location = outputFor(args, ERROR_MIME_TYPE);
      return location?.output?.type === 'error' ? location.cellIndex : null;
    };
    app.commands.addCommand(EXPLAIN_ERROR_COMMAND, {
      label: trans.__('Explain this error with Kimi'),
      caption: trans.__('Insert and run %kimi fix below this error'),
      describedBy: noArgs,
      icon: kimiIcon,
      isEnabled: args => errorFor(args) !== null,
      // In the context menu only for errors (stderr streams share their selector).
      isVisible: args => !args.fromContextMenu || errorFor(args) !== null,
      execute: async args => {
        const panel = tracker.currentWidget;
        const index = errorFor(args);
        if (panel && index !== null) {
          await showChat();
          await explainError(NotebookActions, panel, index);
        }
      }
    });

    // Without `args.code` (the palette): the last code block of the last answer.
    const lastCode = lastCodeFinder(app, tracker);
    const codeOf = (args: { code?: unknown }) =>
      typeof args.code === 'string' ? args.code : lastCode();
    app.commands.addCommand(INSERT_CODE_COMMAND, {
      label: trans.__('Insert code below'),
      caption: trans.__(
        "Insert code (by default the last answer's last code block) as a new cell below the active cell"
      ),
      describedBy: {
        args: { type: 'object', properties: { code: { type: 'string' } } }
      },
      isEnabled: args =>
        tracker.currentWidget !== null && codeOf(args) !== null,
      execute: args => {
        const notebook = tracker.currentWidget?.content;
        const code = codeOf(args);
        if (notebook && code !== null) {
          insertCode(NotebookActions, notebook, code);
        }
      }
    });
    setStepsInserter(async (sources, from) => {
      const { insertStepsBelow } = await import('./agentcellsteps');
      const panels: NotebookPanel[] = [];
      tracker.forEach(panel => panels.push(panel));
      return insertStepsBelow(panels, sources, from);
    });
    setCodeInserter(code => {
      void app.commands.execute(INSERT_CODE_COMMAND, { code });
    });

    app.contextMenu.addItem({
      command: ASK_OUTPUT_COMMAND,
      selector: OUTPUT_SELECTOR,
      args: { fromContextMenu: true },
      rank: 20
    });
    app.contextMenu.addItem({
      command: EXPLAIN_ERROR_COMMAND,
      selector: ERROR_OUTPUT_SELECTOR,
      args: { fromContextMenu: true },
      rank: 21
    });
    for (const command of [
      ASK_OUTPUT_COMMAND,
      EXPLAIN_ERROR_COMMAND,
      INSERT_CODE_COMMAND
    ]) {
      palette?.addItem({ command, category });
    }
  }
};

/**
 * What "Insert code below" inserts without code: the last code block of the last answer
 * in the Kimi panel (while open) or the notebook in focus, whichever was used last.
 */
function lastCodeFinder(
  app: JupyterFrontEnd,
  tracker: INotebookTracker
): () => string | null {
  const chatNode = () => {
    const chat = Array.from(app.shell.widgets('right')).find(
      widget => widget.id === CHAT_PANEL_ID
    );
    return chat?.isVisible ? chat.node : null;
  };
  const focus = new LastFocus(document, chatNode);
  return () => {
    const notebook = tracker.currentWidget?.content.node;
    const chat = chatNode();
    return codeToInsert(focus.inPanel ? [chat, notebook] : [notebook, chat]);
  };
}

/** Highlights the body of `%%kimi` cells as Markdown in the cell editor. */
const highlighting: JupyterFrontEndPlugin<void> = {
  id: 'kimi-jupyter:highlighting',
  description: 'Highlights %%kimi cell bodies as Markdown.',
  autoStart: true,
  requires: [IEditorExtensionRegistry, IEditorLanguageRegistry],
  activate: (
    app: JupyterFrontEnd,
    extensions: IEditorExtensionRegistry,
    languages: IEditorLanguageRegistry
  ): void => {
    const loader = new MarkdownLoader(async () => {
      const markdown = await languages.getLanguage('markdown');
      return markdown?.support;
    });
    void loader.ready();
    extensions.addExtension(createKimiHighlightingFactory(loader));
  }
};

/** Enter / Shift+Enter in the notebook ChatWidget (no requirements: Notebook 7 too). */
const chatKeys: JupyterFrontEndPlugin<void> = {
  id: 'kimi-jupyter:chat-keys',
  description:
    'Enter sends and Shift+Enter adds a line in the Kimi chat widget.',
  autoStart: true,
  activate: (): void => {
    installChatKeys(window);
  }
};

/**
 * The live `%%kimi` view: widget classes for the ipywidgets registry (where the widget
 * manager runs), and notebook kernels that say so in their execute requests.
 */
const cellLiveView: JupyterFrontEndPlugin<void> = {
  id: 'kimi-jupyter:cell-live-view',
  description:
    'Streams %%kimi answers into one widget, laid out as the saved turn.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [IJupyterWidgetRegistry, INotebookTracker, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    widgets: IJupyterWidgetRegistry | null,
    notebooks: INotebookTracker | null,
    translator: ITranslator | null
  ): void => {
    if (!widgets) {
      return; // no widget manager: the kernel keeps its core-widget view
    }
    const trans = (translator ?? nullTranslator).load('kimi_jupyter');
    widgets.registerWidget({
      name: LIVE_MODULE,
      version: LIVE_MODULE_VERSION,
      exports: async () => {
        const { liveWidgetClasses } = await import('./celllive');
        return liveWidgetClasses({
          context: () => turnContext(rendermime),
          trans
        });
      }
    });
    // The cells go along when a `%%kimi` cell mentions `@notebook` or `@cell:N`.
    const announce = (panel: NotebookPanel) =>
      announceOnSession(panel.sessionContext, panel.context.model.sharedModel);
    notebooks?.widgetAdded.connect((_, panel) => announce(panel));
    notebooks?.forEach(announce);
  }
};

export default [
  plugin,
  turnRenderer,
  chatPanel,
  notebookActions,
  highlighting,
  chatKeys,
  cellLiveView
];
