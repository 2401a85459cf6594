/** What the chat panel's view tests share: a registry without Markdown, and waiting. */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import type { IChatTurn } from '../chatturn';
import { TURN_MIME_TYPE } from '../renderer';
import type { ITurnContext } from '../view';

const sanitizer: IRenderMime.ISanitizer = { sanitize: html => html };

/** A registry with no Markdown renderer: answers show as their source text. */
export const plainRendermime = {
  sanitizer,
  resolver: null,
  linkHandler: null,
  latexTypesetter: null,
  markdownParser: null,
  getFactory: () => undefined
} as unknown as IRenderMimeRegistry;

/** The turn context such a registry gives. */
export const plainContext: ITurnContext = {
  options: {
    mimeType: TURN_MIME_TYPE,
    sanitizer,
    resolver: null,
    linkHandler: null,
    latexTypesetter: null
  }
};

/** A streaming turn, changed by `change`. */
export function streaming(change: Partial<IChatTurn> = {}): IChatTurn {
  return {
    key: 1,
    prompt: 'Why?',
    state: 'streaming',
    id: 'r1',
    started: true,
    reasoning: '',
    content: '',
    tools: [],
    ...change
  };
}

/** Wait (on timers and promises) until `ready()` holds, or fail. */
export async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (ready()) {
      return;
    }
    await new Promise(resolve => setTimeout(resolve, 0));
  }
  throw new Error('timed out waiting');
}
