import {
  disarmHtml,
  disarmTree,
  guardSanitizer,
  watchRendered
} from '../sanitizer';
import { allowedLinkUrl, isSafeImageUrl, remoteHttpUrl } from '../urlpolicy';

const ORIGIN = 'http://127.0.0.1:8888';
const PNG = 'data:image/png;base64,iVBORw0KGgo=';

function disarm(html: string): HTMLElement {
  const host = document.createElement('div');
  host.innerHTML = disarmHtml(html, ORIGIN);
  return host;
}

describe('isSafeImageUrl', () => {
  it.each([
    [PNG, true],
    ['data:image/jpeg;base64,AA', true],
    ['DATA:IMAGE/GIF;base64,AA', true],
    [' data:image/webp,AA', true],
    ['data:image/svg+xml;base64,AA', false],
    ['data:image/pngsvg+xml;base64,AA', false],
    ['data:text/html,<script>', false],
    ['data:,x', false],
    ['files/a.png', false],
    ['/files/a.png', false],
    [`${ORIGIN}/files/a.png`, false],
    ['https://example.com/a.png', false],
    ['attachment:a.png', false]
  ])('%p → %p', (url, safe) => {
    expect(isSafeImageUrl(url)).toBe(safe);
  });
});

describe('allowedLinkUrl', () => {
  it.each([
    ['https://example.com/a?b#c', 'https://example.com/a?b#c'],
    [' HTTP://Example.com', 'http://example.com/'],
    ['//example.com/x', 'http://example.com/x'],
    ['mailto:me@example.com', 'mailto:me@example.com'],
    ['#section', '#section'],
    ['x.ipynb', null],
    ['/api/kernels', null],
    ['/\\remote.invalid', 'http://remote.invalid/'],
    [`${ORIGIN}/lab`, null],
    ['http:api/kernels', null],
    ['javascript:alert(1)', null],
    ['java\tscript:alert(1)', null],
    ['\u0001javascript:alert(1)', null],
    ['\u2028javascript:alert(1)', null],
    ['JaVaScRiPt:alert(1)', null],
    ['vbscript:x', null],
    ['data:text/html,x', null],
    [PNG, null],
    ['file:///etc/passwd', null],
    ['blob:http://x/y', null],
    ['http://[', null]
  ])('%p → %p', (href, allowed) => {
    expect(allowedLinkUrl(href, ORIGIN)).toBe(allowed);
  });
});

describe('remoteHttpUrl', () => {
  it.each([
    ['http://remote.invalid/t.png', 'http://remote.invalid/t.png'],
    ['//remote.invalid/t.png', 'http://remote.invalid/t.png'],
    ['/files/t.png', null],
    ['t.png', null],
    ['javascript:alert(1)', null],
    ['data:image/svg+xml,x', null]
  ])('%p → %p', (url, remote) => {
    expect(remoteHttpUrl(url, ORIGIN)).toBe(remote);
  });
});

describe('disarmHtml', () => {
  it('keeps inline PNG/JPEG/GIF/WebP images and nothing else that loads', () => {
    const host = disarm(
      `<p><img src="${PNG}" alt="p"><img src="files/a.png" alt="local">` +
        '<img src="/api/kernels"><img src="data:image/svg+xml,x">' +
        '<img src="http://remote.invalid/track.png" alt="t"></p>'
    );
    const images = host.querySelectorAll('img');
    expect(images).toHaveLength(1);
    expect(images[0].getAttribute('src')).toBe(PNG);
    const placeholders = Array.from(
      host.querySelectorAll('.jp-KimiTurn-remoteImage'),
      node => [node.localName, node.textContent, node.getAttribute('href')]
    );
    expect(placeholders).toEqual([
      ['span', 'Image not shown: local', null],
      ['span', 'Image not shown: image', null],
      ['span', 'Image not shown: image', null],
      ['a', 'Remote image: t', 'http://remote.invalid/track.png']
    ]);
  });

  it('makes kept links open in a new tab with no opener and no referrer', () => {
    const host = disarm(
      '<a href="https://example.com" target="_self" rel="opener" ping="/x">a</a>'
    );
    const link = host.querySelector('a')!;
    expect(link.getAttribute('href')).toBe('https://example.com/');
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    expect(link.getAttribute('referrerpolicy')).toBe('no-referrer');
    expect(link.hasAttribute('ping')).toBe(false);
  });

  it('turns links it may not keep into text that names them', () => {
    const host = disarm(
      '<a href="javascript:alert(1)">js</a><a href="/api/kernels"><b>api</b></a>' +
        '<a href="data:text/html,x">data</a><a href="#top">top</a>'
    );
    expect(host.querySelectorAll('a')).toHaveLength(1);
    expect(host.querySelector('a')?.getAttribute('href')).toBe('#top');
    const unlinked = host.querySelectorAll('span.jp-KimiTurn-unlinked');
    expect(Array.from(unlinked, span => span.textContent)).toEqual([
      'js',
      'api',
      'data'
    ]);
    expect(unlinked[1].querySelector('b')).not.toBeNull();
    expect(unlinked[1].getAttribute('title')).toBe(
      'Link not followed: /api/kernels'
    );
  });

  it('removes elements that run or load by existing, keeping form content', () => {
    const host = disarm(
      '<script>x</script><style>@import "x"</style><link href=x><meta content=x>' +
        '<base href="//x"><iframe src=x></iframe><object data=x></object>' +
        '<embed src=x><svg><image href=x /></svg><math><mi>x</mi></math>' +
        '<template><img src=x></template><noscript>n</noscript>' +
        '<form action="javascript:x"><b>kept</b></form>'
    );
    expect(host.innerHTML).toBe('<b>kept</b>');
  });

  it('removes fetching attributes, handlers and active schemes anywhere', () => {
    const host = disarm(
      '<video src="https://x.invalid/v.mp4" poster="//x.invalid/p.png"></video>' +
        '<input type="image" src="https://x.invalid/i.png" autofocus onfocus="x">' +
        `<img src="${PNG}" srcset="https://x.invalid/2x.png 2x" onload="x">` +
        '<table background="x.png"><tr><td>t</td></tr></table>' +
        '<button formaction="javascript:x" data-x=" java\tscript:y">b</button>' +
        '<b title="javascript: a tutorial" alt="data: a table" data-jupyter-id="data:-x">t</b>'
    );
    expect(host.querySelector('video')?.getAttributeNames()).toEqual([]);
    expect(host.querySelector('input')?.getAttributeNames()).toEqual(['type']);
    expect(host.querySelector('img')?.getAttributeNames()).toEqual(['src']);
    expect(host.querySelector('table')?.getAttributeNames()).toEqual([]);
    expect(host.querySelector('button')?.getAttributeNames()).toEqual([]);
    expect(host.querySelector('b')?.getAttributeNames()).toEqual([
      'title',
      'alt',
      'data-jupyter-id'
    ]);
  });

  it.each([
    'background: url(https://x.invalid/b.png)',
    'background-image: image-set("a.png" 1x)',
    'background: -webkit-image-set(url(a.png) 1x)',
    'background: \\75 rl(a.png)',
    'list-style: src("a.png")',
    'behavior: url(a.htc)',
    'width: expression(alert(1))'
  ])('removes style %p', style => {
    const host = disarm(
      `<span style="${style.replace(/"/g, '&quot;')}">a</span>`
    );
    expect(host.querySelector('span')?.hasAttribute('style')).toBe(false);
  });

  it('keeps harmless style', () => {
    const host = disarm('<span style="color: red">b</span>');
    expect(host.querySelector('span')?.getAttribute('style')).toBe(
      'color: red'
    );
  });

  it('removes command-linker attributes', () => {
    const host = disarm(
      '<button data-commandlinker-command="notebook:run-all-cells" data-commandlinker-args="{}">x</button>'
    );
    expect(host.querySelector('button')?.getAttributeNames()).toEqual([]);
  });

  it("disarms MathJax's \\require outside code", () => {
    const host = disarm(
      '<p>$\\require{x}$ $\\requirex$ \\\\require</p><code>\\require{y}</code>'
    );
    expect(host.querySelector('p')?.textContent).toBe(
      '$\u29f5require{x}$ $\\requirex$ \\\u29f5require'
    );
    expect(host.querySelector('code')?.textContent).toBe('\\require{y}');
  });

  it('disarms \\require split by inline elements, as MathJax would read it', () => {
    const host = disarm('<p>$\\re<em>qu</em>ire{x}$ <b>\\</b>require</p>');
    expect(host.querySelector('p')?.textContent).toBe(
      '$\u29f5require{x}$ \u29f5require'
    );
    expect(host.querySelector('em')?.textContent).toBe('qu');
  });

  it('keeps ordinary content unchanged', () => {
    const html =
      '<h1>T</h1><pre><code class="language-python">x = 1\n</code></pre>';
    expect(disarmHtml(html, ORIGIN)).toBe(html);
  });
});

describe('disarmTree and watchRendered', () => {
  it('apply the link rules to nodes added after rendering', async () => {
    const host = document.createElement('div');
    document.body.appendChild(host);
    const observer = watchRendered(host, ORIGIN);
    host.innerHTML =
      '<a href="https://example.com" rel="noopener" target="_blank">a</a>' +
      '<a href="/kimi-hostile">b</a><img src="/x.png">';
    await Promise.resolve();
    const link = host.querySelector('a')!;
    expect(link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    expect(host.querySelectorAll('a')).toHaveLength(1);
    expect(host.querySelector('img')).toBeNull();
    link.setAttribute('rel', 'noopener'); // what JupyterLab's hardening does
    link.setAttribute('href', 'javascript:alert(1)');
    await Promise.resolve();
    expect(host.querySelectorAll('a')).toHaveLength(0);
    observer.disconnect();
    host.remove();
  });

  it('disarmTree covers the root element too', () => {
    const root = document.createElement('div');
    root.setAttribute('onclick', 'x');
    root.innerHTML = '<span style="background:url(x)">a</span>';
    disarmTree(root, ORIGIN);
    expect(root.outerHTML).toBe('<div><span>a</span></div>');
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
    expect(guard.sanitize(`<img src="${PNG}">`)).toBe(`<img src="${PNG}">`);
    expect(guard.sanitize('<a href="/x">x</a>')).toBe(
      '<span class="jp-KimiTurn-unlinked" title="Link not followed: /x">x</span>'
    );
  });
});
