import { Widget } from '@lumino/widgets';

import { ChatTurnList, ITurnView } from '../chatturnlist';
import type { IChatTurn } from '../chatturn';

/** How tall the shown turns are (px): each `setTurn` adds 100. */
let contentHeight = 0;

class FakeView extends Widget implements ITurnView {
  shown: IChatTurn[] = [];

  setTurn(turn: IChatTurn): void {
    contentHeight += 100;
    this.shown.push(turn);
    this.node.textContent = turn.prompt;
  }
}

function turn(key: number, prompt = `Q${key}`): IChatTurn {
  return {
    key,
    prompt,
    state: 'done',
    reasoning: '',
    content: '',
    tools: []
  };
}

function setup() {
  const created: FakeView[] = [];
  const list = new ChatTurnList(() => {
    const view = new FakeView();
    created.push(view);
    return view;
  });
  const prompts = () => list.widgets.map(w => w.node.textContent);
  return { list, created, prompts };
}

describe('ChatTurnList', () => {
  it('keeps one view per turn key, in the order of the turns', () => {
    const { list, created, prompts } = setup();
    expect(list.hasClass('jp-KimiChat-turns')).toBe(true);
    list.setTurns([turn(1), turn(2)]);
    expect(created).toHaveLength(2);
    expect(prompts()).toEqual(['Q1', 'Q2']);
    const second = list.viewOf(2)!;

    list.setTurns([turn(2, 'Q2 again'), turn(3)]);
    expect(created).toHaveLength(3);
    expect(created[0].isDisposed).toBe(true);
    expect(list.viewOf(1)).toBeUndefined();
    expect(list.viewOf(2)).toBe(second);
    expect(second.shown.map(t => t.prompt)).toEqual(['Q2', 'Q2 again']);
    expect(prompts()).toEqual(['Q2 again', 'Q3']);

    list.setTurns([turn(3), turn(2)]);
    expect(prompts()).toEqual(['Q3', 'Q2']);
    list.setTurns([]);
    expect(list.widgets).toHaveLength(0);
    expect(created.every(view => view.isDisposed)).toBe(true);
  });

  it('stays at the end only while the reader is there', () => {
    const followed: boolean[] = [];
    const list = new ChatTurnList(
      () => new FakeView(),
      following => followed.push(following)
    );
    const node = list.node;
    contentHeight = 1000;
    Object.defineProperty(node, 'scrollHeight', { get: () => contentHeight });
    Object.defineProperty(node, 'clientHeight', { get: () => 200 });
    const scrollTo = (top: number) => {
      node.scrollTop = top;
      node.dispatchEvent(new Event('scroll'));
    };
    scrollTo(790); // 10 px from the end
    list.setTurns([turn(1)]);
    expect(node.scrollTop).toBe(1100);
    expect(list.following).toBe(true);
    scrollTo(100); // reading further up
    list.setTurns([turn(1), turn(2)]);
    expect(node.scrollTop).toBe(100);
    expect(list.following).toBe(false);
    list.jumpToLatest();
    expect(node.scrollTop).toBe(contentHeight);
    expect(list.following).toBe(true);
    expect(followed).toEqual([false, true]);
    list.dispose();
  });

  it('follows a view that grows after it was set (Markdown renders later)', () => {
    const observed: Element[] = [];
    let grew: () => void = () => undefined;
    class FakeResizeObserver {
      constructor(callback: () => void) {
        grew = callback;
      }
      observe(target: Element) {
        observed.push(target);
      }
      unobserve(target: Element) {
        observed.splice(observed.indexOf(target), 1);
      }
      disconnect() {
        observed.length = 0;
      }
    }
    (globalThis as { ResizeObserver?: unknown }).ResizeObserver =
      FakeResizeObserver;
    try {
      const { list } = setup();
      const node = list.node;
      let height = 300;
      Object.defineProperty(node, 'scrollHeight', { get: () => height });
      Object.defineProperty(node, 'clientHeight', { get: () => 200 });
      list.setTurns([turn(1), turn(2)]);
      expect(observed).toEqual(list.widgets.map(w => w.node));
      expect(node.scrollTop).toBe(300);
      height = 900; // the answer rendered
      grew();
      expect(node.scrollTop).toBe(900);
      list.setTurns([turn(2)]);
      expect(observed).toEqual([list.viewOf(2)!.node]);
      list.dispose();
      expect(observed).toEqual([]);
    } finally {
      delete (globalThis as { ResizeObserver?: unknown }).ResizeObserver;
    }
  });
});
