import { guardSanitizer, isLocalUrl, stripRemoteResources } from '../sanitizer';

const ORIGIN = 'http://127.0.0.1:8888';

function strip(html: string): HTMLElement {
  const host = document.createElement('div');
  host.innerHTML = stripRemoteResources(html, ORIGIN);
  return host;
}

describe('isLocalUrl', () => {
  it.each([
    ['files/plot.png', true],
    ['/files/plot.png', true],
    [`${ORIGIN}/files/a.png`, true],
    ['data:image/png;base64,AAAA', true],
    ['http://remote.invalid/track.png', false],
    ['https://example.com/a.png', false],
    ['//remote.invalid/a.png', false],
    ['/\\remote.invalid/a.png', false],
    [' HTTP://remote.invalid/a.png', false],
    ['javascript:alert(1)', false],
    ['attachment:a.png', false],
    ['http://[', false]
  ])('%p → %p', (url, local) => {
    expect(isLocalUrl(url, ORIGIN)).toBe(local);
  });
});

describe('stripRemoteResources', () => {
  it('turns a remote image into a link and keeps local ones', () => {
    const host = strip(
      '<p><img src="http://remote.invalid/track.png" alt="t"><img src="files/a.png"></p>'
    );
    const images = host.querySelectorAll('img');
    expect(images).toHaveLength(1);
    expect(images[0].getAttribute('src')).toBe('files/a.png');
    const link = host.querySelector('a.jp-KimiTurn-remoteImage');
    expect(link?.getAttribute('href')).toBe('http://remote.invalid/track.png');
    expect(link?.textContent).toBe('Remote image: t');
  });

  it('does not turn a non-http image into a link', () => {
    const host = strip('<img src="javascript:alert(1)">');
    expect(host.querySelector('a')).toBeNull();
    expect(
      host.querySelector('span.jp-KimiTurn-remoteImage')?.textContent
    ).toBe('Remote image: image');
  });

  it('removes remote media sources, posters, srcset and fetching CSS', () => {
    const host = strip(
      '<video src="https://x.invalid/v.mp4" poster="//x.invalid/p.png"></video>' +
        '<input type="image" src="https://x.invalid/i.png">' +
        '<img src="data:image/png;base64,AA" srcset="https://x.invalid/2x.png 2x">' +
        '<span style="background: url(https://x.invalid/b.png)">a</span>' +
        '<span style="color: red">b</span>'
    );
    expect(host.querySelector('video')?.hasAttribute('src')).toBe(false);
    expect(host.querySelector('video')?.hasAttribute('poster')).toBe(false);
    expect(host.querySelector('input')?.hasAttribute('src')).toBe(false);
    expect(host.querySelector('img')?.hasAttribute('srcset')).toBe(false);
    const spans = host.querySelectorAll('span');
    expect(spans[0].hasAttribute('style')).toBe(false);
    expect(spans[1].getAttribute('style')).toBe('color: red');
  });

  it('removes command-linker attributes', () => {
    const host = strip(
      '<button data-commandlinker-command="notebook:run-all-cells" data-commandlinker-args="{}">x</button>'
    );
    const button = host.querySelector('button');
    expect(button?.getAttributeNames()).toEqual([]);
  });

  it('keeps ordinary content unchanged', () => {
    const html =
      '<h1>T</h1><pre><code class="language-python">x = 1\n</code></pre>';
    expect(stripRemoteResources(html, ORIGIN)).toBe(html);
  });
});

describe('guardSanitizer', () => {
  it('runs the base sanitizer first and passes its settings through', () => {
    const base = {
      sanitize: jest.fn((dirty: string) =>
        dirty.replace('<script>x</script>', '')
      ),
      getAutolink: () => false,
      allowNamedProperties: true
    };
    const guard = guardSanitizer(base, ORIGIN);
    const out = guard.sanitize(
      '<script>x</script><img src="http://remote.invalid/a.png">',
      { allowedTags: ['img'] }
    );
    expect(base.sanitize).toHaveBeenCalledWith(expect.any(String), {
      allowedTags: ['img']
    });
    expect(out).not.toContain('<script');
    expect(out).not.toContain('<img');
    expect(guard.getAutolink?.()).toBe(false);
    expect(guard.allowNamedProperties).toBe(true);
    expect(guard.allowCommandLinker).toBe(false);
  });

  it('defaults to autolinking and the page origin', () => {
    const guard = guardSanitizer({ sanitize: dirty => dirty });
    expect(guard.getAutolink?.()).toBe(true);
    expect(guard.sanitize('<img src="/files/a.png">')).toBe(
      '<img src="/files/a.png">'
    );
  });
});
