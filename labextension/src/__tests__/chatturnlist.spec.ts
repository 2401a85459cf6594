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
    const { list } = setup();
    const node = list.node;
    contentHeight = 1000;
    Object.defineProperty(node, 'scrollHeight', { get: () => contentHeight });
    Object.defineProperty(node, 'clientHeight', { get: () => 200 });
    node.scrollTop = 790; // 10 px from the end
    list.setTurns([turn(1)]);
    expect(node.scrollTop).toBe(1100);
    node.scrollTop = 100; // reading further up
    list.setTurns([turn(1), turn(2)]);
    expect(node.scrollTop).toBe(100);
  });
});
