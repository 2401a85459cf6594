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
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel } from '@jupyterlab/services';

/** The metadata key and live protocol the kernel reads (`lab_live.py`). */
export const LIVE_METADATA_KEY = 'kimi_jupyter';
export const LIVE_PROTOCOL = 1;
/** The widget module of the live view; the kernel asks for `^1.0.0` (`lab_live.py`). */
export const LIVE_MODULE = 'kimi-jupyter';
export const LIVE_MODULE_VERSION = '1.0.0';

const announced = new WeakSet<Kernel.IKernelConnection>();

/** Make `kernel`'s execute requests say that this page draws the live view. */
export function announceLiveView(
  kernel: Kernel.IKernelConnection | null | undefined
): void {
  if (!kernel || announced.has(kernel)) {
    return;
  }
  announced.add(kernel);
  const requestExecute = kernel.requestExecute.bind(kernel);
  kernel.requestExecute = (content, disposeOnDone, metadata) =>
    requestExecute(content, disposeOnDone, {
      ...metadata,
      [LIVE_METADATA_KEY]: { live: LIVE_PROTOCOL }
    });
}

/** Announce on the session's kernel now and on every kernel it changes to. */
export function announceOnSession(sessionContext: ISessionContext): void {
  announceLiveView(sessionContext.session?.kernel);
  sessionContext.kernelChanged.connect((_, change) =>
    announceLiveView(change.newValue)
  );
}
