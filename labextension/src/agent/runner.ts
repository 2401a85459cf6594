/**
 * The JupyterLab `ICellRunner`: runs a cell with `NotebookActions.runCells`, the path the
 * Run button takes, so the notebook's cell executor, execution signals, timing metadata
 * and kernel prompts all apply and the outputs land in the document as if the user ran it.
 *
 * Only type imports from `@jupyterlab/notebook`: `index.ts` hands in `NotebookActions`.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { Notebook, NotebookActions } from '@jupyterlab/notebook';

import type { ICellRunner } from './executor';

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
