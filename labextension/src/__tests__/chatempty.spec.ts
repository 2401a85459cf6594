import { ChatEmptyState, kernelLine, starterPrompts } from '../chatempty';
import { untranslated } from '../turn';

describe('the empty chat panel', () => {
  it('has three starters, each with text the kernel understands', () => {
    const prompts = starterPrompts(untranslated);
    expect(prompts).toHaveLength(3);
    expect(prompts.filter(p => /@(last|error)\b/.test(p))).toHaveLength(2);
  });

  it('names the kernel, or says there is no notebook', () => {
    expect(kernelLine('Python 3 (ipykernel)', untranslated)).toBe(
      'Kernel: Python 3 (ipykernel)'
    );
    expect(kernelLine('', untranslated)).toBe('Kernel: none');
    expect(kernelLine(null, untranslated)).toBe(
      'No notebook in focus: open one to chat about it.'
    );
  });

  it('asks the starter clicked, shown as text', () => {
    const start = jest.fn();
    const trans = { __: (id: string) => `<b>${id}</b>` };
    const empty = new ChatEmptyState(trans, start);
    const buttons = empty.node.querySelectorAll('button');
    expect(buttons).toHaveLength(3);
    expect(empty.node.querySelector('b')).toBeNull(); // never parsed as HTML
    buttons[1].click();
    expect(start).toHaveBeenCalledWith(starterPrompts(trans)[1]);
    empty.setKernel('R');
    expect(empty.node.querySelector('.jp-KimiChat-kernel')!.textContent).toBe(
      kernelLine('R', trans)
    );
    empty.dispose();
  });
});
