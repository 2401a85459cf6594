/**
 * Where the live `%%kimi` view comes from: the widget classes registered with the
 * ipywidgets registry (loaded with the first live answer), and the line each notebook's
 * execute requests carry to say so.
 *
 * The kernel cannot ask the page which widget classes it has, and a page without this
 * extension (VS Code, Colab, a JupyterLab in another environment) would show an error in
 * place of the answer. So each notebook kernel connection adds
 * `{"kimi_jupyter": {"live": 1}}` to the metadata of its execute requests (beside the
 * `cellId` JupyterLab adds), and the kernel picks this view only when it reads that;
 * otherwise it streams into core widgets (`kimi_jupyter/render/widget.py`).
 *
 * When the code of a request mentions `@notebook` or `@cell:N`, the line also carries the
 * notebook's cells (`notebookcells.ts`) with the index of the cell that asks, so the kernel
 * reads the notebook as it is on the page, unsaved edits included.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { ISharedNotebook } from '@jupyter/ydoc';
import type { Kernel } from '@jupyterlab/services';
import type { JSONObject } from '@lumino/coreutils';

import {
  baseName,
  cellIndex,
  mentionsNotebook,
  notebookData
} from './notebookcells';

/** The metadata key and live protocol the kernel reads (`lab_live.py`). */
export const LIVE_METADATA_KEY = 'kimi_jupyter';
export const LIVE_PROTOCOL = 1;
/** The widget module of the live view; the kernel asks for `^1.0.0` (`lab_live.py`). */
export const LIVE_MODULE = 'kimi-jupyter';
export const LIVE_MODULE_VERSION = '1.0.0';

/** The notebook a kernel's requests come from, and its name, when the page knows it. */
export interface INotebookSource {
  notebook: ISharedNotebook;
  name: () => string;
}

const announced = new WeakSet<Kernel.IKernelConnection>();

/**
 * Make `kernel`'s execute requests say that this page draws the live view; with `source`,
 * a request whose code mentions the notebook carries its cells too.
 */
export function announceLiveView(
  kernel: Kernel.IKernelConnection | null | undefined,
  source: INotebookSource | null = null
): void {
  if (!kernel || announced.has(kernel)) {
    return;
  }
  announced.add(kernel);
  const requestExecute = kernel.requestExecute.bind(kernel);
  kernel.requestExecute = (content, disposeOnDone, metadata) =>
    requestExecute(content, disposeOnDone, {
      ...metadata,
      [LIVE_METADATA_KEY]: liveLine(content.code, metadata?.cellId, source)
    });
}

/** What a request's `kimi_jupyter` metadata says. */
export function liveLine(
  code: string,
  cellId: unknown,
  source: INotebookSource | null
): JSONObject {
  if (!source || !mentionsNotebook(code)) {
    return { live: LIVE_PROTOCOL };
  }
  const { notebook, name } = source;
  const current = cellIndex(notebook, cellId);
  return {
    live: LIVE_PROTOCOL,
    // Cells are nbformat JSON already; the type only says "object".
    notebook: notebookData(notebook, current, name()) as unknown as JSONObject
  };
}

/**
 * Announce on the session's kernel now and on every kernel it changes to; `notebook`:
 * the notebook whose cells `@notebook` and `@cell:N` read.
 */
export function announceOnSession(
  sessionContext: ISessionContext,
  notebook: ISharedNotebook | null = null
): void {
  const source = notebook
    ? { notebook, name: () => baseName(sessionContext.path) }
    : null;
  announceLiveView(sessionContext.session?.kernel, source);
  sessionContext.kernelChanged.connect((_, change) =>
    announceLiveView(change.newValue, source)
  );
}
