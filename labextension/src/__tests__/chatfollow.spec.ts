import { AT_END, isAtEnd, ScrollFollower } from '../chatfollow';

/** A scroller of `content` px in a 200 px view, scrolled by the reader with `scroll`. */
function scroller(content = 1000) {
  const node = document.createElement('div');
  const size = { content };
  Object.defineProperty(node, 'scrollHeight', { get: () => size.content });
  Object.defineProperty(node, 'clientHeight', { get: () => 200 });
  const scroll = (top: number) => {
    node.scrollTop = top;
    node.dispatchEvent(new Event('scroll'));
  };
  const wheel = (deltaY: number) =>
    node.dispatchEvent(new WheelEvent('wheel', { deltaY }));
  return { node, size, scroll, wheel };
}

describe('isAtEnd', () => {
  it('counts the last AT_END px as the end', () => {
    const { node } = scroller();
    node.scrollTop = 800 - AT_END + 1;
    expect(isAtEnd(node)).toBe(true);
    node.scrollTop = 800 - AT_END;
    expect(isAtEnd(node)).toBe(false);
  });
});

describe('ScrollFollower', () => {
  it('keeps growing content in view until the reader scrolls up', () => {
    const { node, size, scroll } = scroller();
    const changes: boolean[] = [];
    const follower = new ScrollFollower(node, f => changes.push(f));
    follower.update();
    expect(node.scrollTop).toBe(1000);
    size.content = 1500; // more tokens: no scroll event, still following
    follower.update();
    expect(node.scrollTop).toBe(1500);
    scroll(900); // the reader scrolls up
    expect(follower.following).toBe(false);
    size.content = 2000;
    follower.update();
    expect(node.scrollTop).toBe(900); // left where the reader is
    scroll(1790); // back at the end by hand
    expect(follower.following).toBe(true);
    expect(changes).toEqual([false, true]);
    follower.dispose();
  });

  it('jumps to the end and follows again', () => {
    const { node, size, scroll } = scroller();
    const follower = new ScrollFollower(node);
    scroll(400);
    scroll(100);
    expect(follower.following).toBe(false);
    follower.jump();
    expect(follower.following).toBe(true);
    expect(node.scrollTop).toBe(1000);
    size.content = 1200;
    follower.update();
    expect(node.scrollTop).toBe(1200);
    follower.dispose();
  });

  it('pauses on a wheel turned up, not on one turned down or with nothing to scroll', () => {
    const { node, wheel, size } = scroller();
    const follower = new ScrollFollower(node);
    wheel(120);
    expect(follower.following).toBe(true);
    wheel(-120);
    expect(follower.following).toBe(false);
    follower.jump();
    size.content = 150; // fits: nothing to scroll
    wheel(-120);
    expect(follower.following).toBe(true);
    follower.dispose();
  });

  it('ignores content that shrinks under the reader at the end', () => {
    const { node, size, scroll } = scroller();
    const follower = new ScrollFollower(node);
    follower.update();
    size.content = 600; // the live view replaced by the shorter record
    scroll(400); // the browser clamps the scroll position: still the end
    expect(follower.following).toBe(true);
    follower.dispose();
    scroll(0);
    expect(follower.following).toBe(true); // disposed: no longer listening
  });
});
