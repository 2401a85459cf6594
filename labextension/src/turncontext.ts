/**
 * What a turn renders Markdown with outside a notebook's own renderer (the chat panel, the
 * live `%%kimi` view): the app registry's parser, sanitizer and Markdown factory.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { TURN_MIME_TYPE } from './renderer';
import type { ITurnContext } from './view';

export function turnContext(rm: IRenderMimeRegistry): ITurnContext {
  const options: IRenderMime.IRendererOptions = {
    mimeType: TURN_MIME_TYPE,
    sanitizer: rm.sanitizer,
    resolver: rm.resolver,
    linkHandler: rm.linkHandler,
    latexTypesetter: rm.latexTypesetter,
    markdownParser: rm.markdownParser
  };
  return { options, markdownFactory: rm.getFactory('text/markdown') };
}
