import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { ITranslate, renderTurn, TURN_MIME_TYPE } from './turn';

/** An output widget that shows a Kimi turn record as plain text. */
class TurnWidget extends Widget implements IRenderMime.IRenderer {
  constructor(
    private readonly _mimeType: string,
    private readonly _trans?: ITranslate
  ) {
    super();
    this.addClass('jp-KimiTurn');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    renderTurn(this.node, model.data[this._mimeType], this._trans);
    return Promise.resolve();
  }
}

/** Creates turn renderers; `safe` because nothing is ever parsed as HTML. */
export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [TURN_MIME_TYPE],
  createRenderer: options =>
    new TurnWidget(options.mimeType, options.translator?.load('kimi_jupyter'))
};

/** The mime renderer extension (`jupyterlab.mimeExtension` in package.json). */
const extension: IRenderMime.IExtension = {
  id: 'kimi-jupyter:turn-renderer',
  description: 'Renders application/vnd.kimi.turn+json outputs.',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export default extension;
