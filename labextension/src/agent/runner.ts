/**
 * The JupyterLab `ICellRunner`: runs a cell with `NotebookActions.runCells`, the path the
 * Run button takes, so the notebook's cell executor, execution signals, timing metadata
 * and kernel prompts all apply and the outputs land in the document as if the user ran it.
 *
 * Only type imports from `@jupyterlab/notebook`: `index.ts` hands in `NotebookActions`.
 *
 * The target also says when the user interrupts the kernel from the notebook's toolbar (the
 * kernel itself cannot tell while no cell runs: ipykernel ignores SIGINT when idle) and
 * when the kernel restarts or dies, so the agent turn running there ends cleanly.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { ISignal } from '@lumino/signaling';
import type { Kernel } from '@jupyterlab/services';
import type {
  Notebook,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';

import type { IAgentTarget } from './controller';
import type { ICellRunner } from './executor';
import { TOUCHED_CLASS } from './panelview';

/** The notebook command the toolbar's interrupt button (■) and `I, I` run. */
const INTERRUPT_COMMAND = 'notebook:interrupt-kernel';
/** Every command that interrupts the kernel of the notebook in focus. */
const INTERRUPT_COMMANDS: ReadonlySet<string> = new Set([
  INTERRUPT_COMMAND,
  'kernelmenu:interrupt'
]);

/** What the target needs of the app's command registry: the commands as they run. */
export interface ICommandsRun {
  commandExecuted: ISignal<unknown, { id: string }>;
}
/** Kernel states after which a running turn's kernel is gone. */
const LOST: ReadonlySet<Kernel.Status> = new Set([
  'restarting',
  'autorestarting',
  'dead'
]);

/** The one action the runner needs. */
export type RunCellsAction = Pick<typeof NotebookActions, 'runCells'>;

/** A runner for the cells of `notebook` on the kernel of `sessionContext`. */
export function notebookRunner(
  notebook: Notebook,
  sessionContext: ISessionContext,
  actions: RunCellsAction
): ICellRunner {
  return {
    async run(cellId: string): Promise<boolean> {
      const cell = notebook.widgets.find(widget => widget.model.id === cellId);
      if (!cell || notebook.isDisposed) {
        return false;
      }
      const mode = notebook.mode;
      const done = actions.runCells(notebook, [cell], sessionContext);
      // runCells leaves edit mode; whoever was typing in a cell keeps typing.
      if (mode === 'edit' && notebook.mode !== 'edit') {
        notebook.mode = 'edit';
      }
      return done;
    }
  };
}

/** The agent's target for a notebook panel: its shared model, runner and cell marks. */
export function notebookTarget(
  panel: NotebookPanel,
  actions: RunCellsAction,
  commands: ICommandsRun | null = null,
  current: () => unknown = () => panel
): IAgentTarget {
  const notebook = panel.content;
  return {
    key: panel.sessionContext,
    notebook: panel.context.model.sharedModel,
    runner: notebookRunner(notebook, panel.sessionContext, actions),
    mark(ids: readonly string[], on: boolean): void {
      const wanted = new Set(ids);
      for (const cell of notebook.widgets) {
        if (wanted.has(cell.model.id)) {
          cell.toggleClass(TOUCHED_CLASS, on);
        }
      }
    },
    onInterrupt(listener: () => void): () => void {
      if (commands) {
        // the toolbar's ■, the Kernel menu and `I, I` all run a command on the notebook
        // in focus; the toolbar click below is only for a host without the registry
        const ran = (_: unknown, args: { id: string }) => {
          if (INTERRUPT_COMMANDS.has(args.id) && current() === panel) {
            listener();
          }
        };
        commands.commandExecuted.connect(ran);
        return () => commands.commandExecuted.disconnect(ran);
      }
      const clicked = (event: Event) => {
        const target = event.target as Element | null;
        if (target?.closest?.(`[data-command="${INTERRUPT_COMMAND}"]`)) {
          listener();
        }
      };
      const toolbar = panel.toolbar.node;
      toolbar.addEventListener('click', clicked, true);
      return () => toolbar.removeEventListener('click', clicked, true);
    },
    onKernelLost(listener: () => void): () => void {
      const context = panel.sessionContext;
      const status = (_: ISessionContext, state: Kernel.Status) => {
        if (LOST.has(state)) {
          listener();
        }
      };
      const changed = () => listener();
      context.statusChanged.connect(status);
      context.kernelChanged.connect(changed);
      return () => {
        context.statusChanged.disconnect(status);
        context.kernelChanged.disconnect(changed);
      };
    }
  };
}
