/**
 * What the chat panel shows before the first turn: what it can do, three starters (a
 * click asks one) and the kernel it talks to, so the panel is never a blank page.
 */
import { Widget } from '@lumino/widgets';

import { textNode } from './dom';
import type { ITranslate } from './turn';

/** The starter questions, each sure to be understood by the kernel's mentions. */
export function starterPrompts(trans: ITranslate): string[] {
  return [
    trans.__('What does the last output show? @last'),
    trans.__('Explain the last error and how to fix it. @error'),
    trans.__('Suggest a next step for this notebook.')
  ];
}

/** The kernel line: its display name, or why there is none. */
export function kernelLine(kernel: string | null, trans: ITranslate): string {
  return kernel === null
    ? trans.__('No notebook in focus: open one to chat about it.')
    : trans.__('Kernel: %1', kernel || trans.__('none'));
}

export class ChatEmptyState extends Widget {
  /** `start` is called with the starter prompt clicked. */
  constructor(trans: ITranslate, start: (prompt: string) => void) {
    super();
    this._trans = trans;
    this.addClass('jp-KimiChat-empty');
    const intro = textNode(
      'p',
      'jp-KimiChat-intro',
      trans.__(
        'Ask Kimi about this notebook. It answers in the kernel, sees what you mention with @ (@df, @last, @error), and its code goes into a new cell with Insert.'
      )
    );
    const starters = document.createElement('div');
    starters.className = 'jp-KimiChat-starters';
    for (const prompt of starterPrompts(trans)) {
      const button = textNode('button', 'jp-KimiChat-starter', prompt);
      button.type = 'button';
      button.addEventListener('click', () => start(prompt));
      starters.appendChild(button);
    }
    this._kernel.className = 'jp-KimiChat-kernel';
    this.node.append(intro, starters, this._kernel);
  }

  /** Show the kernel's display name (`null`: no notebook followed). */
  setKernel(kernel: string | null): void {
    this._kernel.textContent = kernelLine(kernel, this._trans);
  }

  private readonly _trans: ITranslate;
  private readonly _kernel = document.createElement('div');
}
