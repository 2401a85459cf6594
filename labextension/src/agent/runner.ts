/**
 * The JupyterLab `ICellRunner`: runs a cell with `NotebookActions.runCells`, the path the
 * Run button takes, so the notebook's cell executor, execution signals, timing metadata
 * and kernel prompts all apply and the outputs land in the document as if the user ran it.
 *
 * Only type imports from `@jupyterlab/notebook`: `index.ts` hands in `NotebookActions`.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type {
  Notebook,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';

import type { IAgentTarget } from './controller';
import type { ICellRunner } from './executor';
import { TOUCHED_CLASS } from './panelview';

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
  actions: RunCellsAction
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
    }
  };
}
