/**
 * The renderer factory for `application/vnd.kimi.turn+json`, registered at start-up.
 *
 * It is kept small: the view (`view.ts` and what it imports) loads with the first turn.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { PanelLayout, Widget } from '@lumino/widgets';

/** The MIME type of a saved `%%kimi` turn record. */
export const TURN_MIME_TYPE = 'application/vnd.kimi.turn+json';

/** What a cell agent turn's steps showed, beside its record (`render/bundle.py`). */
export const STEPS_MIME_TYPE = 'application/vnd.kimi.steps+json';

/** Lower ranks win: below `text/html` (50), so JupyterLab picks the turn record. */
export const TURN_RENDERER_RANK = 40;

/** Looks up the Markdown factory when a turn renders (so later overrides are honoured). */
export type MarkdownFactoryLookup = () =>
  IRenderMime.IRendererFactory | undefined;

/** The factory registered with the rendermime registry. */
export function createTurnRendererFactory(
  markdownFactory: MarkdownFactoryLookup
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [TURN_MIME_TYPE],
    defaultRank: TURN_RENDERER_RANK,
    createRenderer: options => new TurnRenderer(options, markdownFactory)
  };
}

/** Renders one turn record output. */
export class TurnRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(
    private readonly _options: IRenderMime.IRendererOptions,
    private readonly _markdownFactory: MarkdownFactoryLookup
  ) {
    super();
    this.addClass('jp-KimiTurn');
    this.layout = new PanelLayout();
  }

  /** Replace what is shown with the turn record in `model`. */
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const { renderTurn } = await import('./view');
    await renderTurn(
      this.layout as PanelLayout,
      model.data[this._options.mimeType],
      {
        options: this._options,
        markdownFactory: this._markdownFactory(),
        steps: model.data[STEPS_MIME_TYPE]
      }
    );
  }
}
