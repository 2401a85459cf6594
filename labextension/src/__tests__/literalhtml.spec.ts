import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import {
  hideHtml,
  literalHtmlParser,
  pickMark,
  renderLiteralHtml,
  revealHtml,
  sameOutsideCode
} from '../literalhtml';
import {
  ANGLE_CLASS,
  createMarkedParser,
  jupyterMarkdownHtml,
  renderJupyterMarkdown
} from './jupyterMarkdown';

const M = '\u2400'; // the first mark

/** Render `source` as the turn view does: JupyterLab's pipeline, our parser. */
async function render(source: string): Promise<HTMLElement> {
  return renderJupyterMarkdown(source, literalHtmlParser(createMarkedParser()));
}

/** The elements raw HTML in the test answers would create. */
const RAW = 'img, script, b, i, div, span:not(.tok-angle), details, iframe';

describe('hideHtml', () => {
  it.each([
    ['<img src=x onerror="y">', `${M}img src=x onerror="y">`],
    ['a <b>bold</b> c', `a ${M}b>bold${M}/b> c`],
    ['- <script>x</script>', `- ${M}script>x${M}/script>`],
    ['a < b <= c', `a ${M} b ${M}= c`],
    ['<!-- comment -->', `${M}!-- comment -->`],
    ['`<div>` and ``a `<i>` b``', `\`${M}div>\` and \`\`a \`${M}i>\` b\`\``],
    ['    <div>', `    ${M}div>`]
  ])('hides every < that could open a tag: %j', (source, hidden) => {
    expect(hideHtml(source, M)).toBe(hidden);
  });

  it.each([
    '<https://example.com/a?b=c&d>',
    '<mailto:me@example.com>',
    '<me.too@example.co.uk>',
    '\\<b> is escaped',
    '\\\\\\<b> after an escaped backslash'
  ])('leaves autolinks and escaped < alone: %j', source => {
    expect(hideHtml(source, M)).toBe(source);
  });

  it.each([
    ['\\\\<b>', `\\\\${M}b>`],
    ['<https://a b>', `${M}https://a b>`],
    ['<x:y>', `${M}x:y>`],
    ['<!a@b.c>', `${M}!a@b.c>`],
    ['<a@b.c <img>', `${M}a@b.c ${M}img>`]
  ])('hides < that only looks escaped or autolinked: %j', (source, hidden) => {
    expect(hideHtml(source, M)).toBe(hidden);
  });

  it('keeps < in fenced code only when asked, and only if it names a language', () => {
    const source = [
      '<p>',
      '```html',
      '<div>',
      '```',
      '~~~ xml',
      '<a/>',
      '~~~',
      '```',
      '<no-language>',
      '```',
      '<p>'
    ].join('\n');
    expect(hideHtml(source, M)).toBe(source.split('<').join(M));
    expect(hideHtml(source, M, true).split('\n')).toEqual([
      `${M}p>`,
      '```html',
      '<div>',
      '```',
      '~~~ xml',
      '<a/>',
      '~~~',
      '```',
      `${M}no-language>`,
      '```',
      `${M}p>`
    ]);
  });

  it('follows fence closing rules: same character, at least as long, nothing after', () => {
    const source = [
      '````python',
      '<a>',
      '```',
      '~~~~',
      '```` x',
      '<b>',
      '`````',
      '<c>'
    ].join('\n');
    expect(hideHtml(source, M, true).split('\n')).toEqual([
      '````python',
      '<a>',
      '```',
      '~~~~',
      '```` x',
      '<b>',
      '`````',
      `${M}c>`
    ]);
  });

  it('keeps an unclosed fence open to the end', () => {
    expect(hideHtml('```js\nx <y>\n\n<z>', M, true)).toBe(
      '```js\nx <y>\n\n<z>'
    );
  });

  it('hides < in the info string, and a backtick info string is no fence', () => {
    expect(hideHtml('```html <b>\n<i>\n```', M, true)).toBe(
      `\`\`\`html ${M}b>\n<i>\n\`\`\``
    );
    expect(hideHtml('```a`b\n<i>', M, true)).toBe(`\`\`\`a\`b\n${M}i>`);
  });

  it('finds fences in block quotes and list items', () => {
    expect(hideHtml('> ```html\n> <i>\n> ```\n<b>', M, true)).toBe(
      `> \`\`\`html\n> <i>\n> \`\`\`\n${M}b>`
    );
    expect(hideHtml('1. x\n\n   ```html\n   <i>\n   ```', M, true)).toBe(
      '1. x\n\n   ```html\n   <i>\n   ```'
    );
  });
});

describe('pickMark and revealHtml', () => {
  it('picks a symbol the text does not contain', () => {
    expect(pickMark('plain')).toBe(M);
    expect(pickMark(`${M}\u2401`)).toBe('\u2402');
    expect(pickMark(M)).toMatch(/^\p{S}$/u);
  });

  it('gives up only when every mark is taken', () => {
    let all = '';
    for (let code = 0x2400; code <= 0x2b73; code++) {
      all += String.fromCharCode(code);
    }
    expect(() => pickMark(all)).toThrow('no character is free');
  });

  it('turns marks into &lt;, and into %3C in URLs', () => {
    expect(revealHtml(`<p>${M}b&gt; <a href="x%E2%90%80y">`, M)).toBe(
      '<p>&lt;b&gt; <a href="x%3Cy">'
    );
  });
});

describe('sameOutsideCode', () => {
  it('ignores code blocks, mermaid diagrams and ids', () => {
    expect(
      sameOutsideCode(
        '<h1 id="a">T</h1><pre><code>&lt;b&gt;</code></pre><div class="jp-RenderedMermaid">x</div>',
        '<h1 id="a-1">T</h1><pre class="x"><span>&lt;</span>b</pre><div class="jp-RenderedMermaid"><img src="data:,"></div>'
      )
    ).toBe(true);
  });

  it('sees any difference elsewhere, entities normalized', () => {
    expect(sameOutsideCode('<p>&lt;b&gt;</p>', '<p><b></b></p>')).toBe(false);
    expect(sameOutsideCode('<p>&lt;b&gt;</p>', '<p>&lt;b></p>')).toBe(true);
    expect(sameOutsideCode('<p>a</p><pre></pre>', '<p>a</p>')).toBe(false);
  });
});

describe('renderLiteralHtml in JupyterLab Markdown', () => {
  it('shows raw HTML as text, like CommonMark with HTML disabled', async () => {
    const source = [
      'Hostile answer.',
      '',
      '<img src=x onerror="window.__xss1=1">',
      '',
      '<script>window.__xss2=1</script>',
      '',
      'Inline <b>bold</b> and <i>x</i>, a <br> break, <!-- a comment -->.',
      '',
      '<div>',
      '*still Markdown*',
      '</div>',
      '',
      '<details><summary>s</summary>hidden</details>'
    ].join('\n');
    const node = await render(source);
    expect(node.querySelectorAll(RAW)).toHaveLength(0);
    expect(Array.from(node.querySelectorAll('p'), p => p.textContent)).toEqual([
      'Hostile answer.',
      '<img src=x onerror="window.__xss1=1">',
      '<script>window.__xss2=1</script>',
      'Inline <b>bold</b> and <i>x</i>, a <br> break, <!-- a comment -->.',
      '<div>\nstill Markdown\n</div>',
      '<details><summary>s</summary>hidden</details>'
    ]);
    expect(node.querySelector('em')?.textContent).toBe('still Markdown');
  });

  it.each([
    [
      '# T <i>\n\n- a <b>\n- `<c>`\n\n| x | y |\n|---|---|\n| <u> | **z** |',
      '<h1>T &lt;i&gt;</h1><ul><li>a &lt;b&gt;</li><li><code>&lt;c&gt;</code></li></ul>' +
        '<table><thead><tr><th>x</th><th>y</th></tr></thead>' +
        '<tbody><tr><td>&lt;u&gt;</td><td><strong>z</strong></td></tr></tbody></table>'
    ],
    ['`a\\`<b>bold</b>', '<p><code>a\\</code>&lt;b&gt;bold&lt;/b&gt;</p>'],
    [
      '<https://example.com> <me@example.com> \\<b> &lt;i&gt; [x](https://e.org "a<b")',
      '<p><a href="https://example.com">https://example.com</a> ' +
        '<a href="mailto:me@example.com">me@example.com</a> &lt;b&gt; &lt;i&gt; ' +
        '<a href="https://e.org" title="a&lt;b">x</a></p>'
    ]
  ])(
    "gives markdown-it-py's js-default HTML (the Python renderer's): %j",
    async (source, markdownIt) => {
      const html = await jupyterMarkdownHtml(
        source,
        literalHtmlParser(createMarkedParser())
      );
      expect(html.replace(/>\n+/g, '>')).toBe(markdownIt);
    }
  );

  it('keeps tags in nested lists and block quotes literal', async () => {
    const node = await render(
      '1. one\n   - <img src=x>\n     <script>x</script>\n\n> <iframe src=y>\n> > <b>z</b>'
    );
    expect(node.querySelectorAll(RAW)).toHaveLength(0);
    expect(node.querySelector('ol ul li')?.textContent).toBe(
      '<img src=x>\n<script>x</script>'
    );
    expect(node.querySelector('blockquote p')?.textContent).toBe(
      '<iframe src=y>'
    );
    expect(node.querySelector('blockquote blockquote')?.textContent).toBe(
      '\n<b>z</b>\n'
    );
  });

  it.each([
    ['`<div>`', '<div>'],
    ['``a `<b>` c``', 'a `<b>` c'],
    ['```` ``` <i> ````', '``` <i>'],
    ['` <img src=x> `', '<img src=x>'],
    ['`a\\`<b>`', 'a\\']
  ])('keeps code spans unchanged: %j', async (source, code) => {
    const node = await render(source);
    expect(node.querySelector('code')?.textContent).toBe(code);
    expect(node.querySelectorAll(RAW)).toHaveLength(0);
  });

  it.each([
    [
      '```html\n<div class="x">&amp;</div>\n```',
      'html',
      '<div class="x">&amp;</div>'
    ],
    ['~~~xml\n<a/>\n<b>\n~~~', 'xml', '<a/>\n<b>'],
    ['````md\n```\n<i>\n```\n````', 'md', '```\n<i>\n```'],
    ['- a\n\n  ```html\n  <p>in a list</p>\n  ```', 'html', '<p>in a list</p>']
  ])(
    'keeps fenced code unchanged and highlighted: %j',
    async (source, language, content) => {
      const node = await render(source);
      const code = node.querySelector(`pre code.language-${language}`);
      expect(code?.textContent).toBe(content);
      expect(code?.querySelector(`.${ANGLE_CLASS}`)).not.toBeNull();
      expect(node.querySelectorAll(RAW)).toHaveLength(0);
    }
  );

  it('keeps unlabelled, indented and unclosed code unchanged', async () => {
    const node = await render(
      '```\n<b>a</b>\n```\n\n    <i>b</i>\n\ntext\n\n```js\nif (a <b) {}\n<img src=x>'
    );
    const blocks = Array.from(node.querySelectorAll('pre code'));
    expect(blocks.map(code => code.textContent)).toEqual([
      '<b>a</b>\n',
      '<i>b</i>\n',
      'if (a <b) {}\n<img src=x>'
    ]);
    expect(node.querySelectorAll(RAW)).toHaveLength(0);
  });

  it('keeps autolinks, escapes and entities working', async () => {
    const node = await render(
      '<https://example.com> <me@example.com> \\<b> &lt;i&gt; [x](https://e.org "a<b")'
    );
    const links = Array.from(node.querySelectorAll('a'));
    expect(links.map(a => a.getAttribute('href'))).toEqual([
      'https://example.com',
      'mailto:me@example.com',
      'https://e.org'
    ]);
    expect(links[2].getAttribute('title')).toBe('a<b');
    expect(node.textContent).toBe(
      'https://example.com me@example.com <b> <i> x\n'
    );
    expect(node.querySelectorAll(RAW)).toHaveLength(0);
  });

  it('leaves math to MathJax, with < intact', async () => {
    const node = await render('Math $a<b$ and\n\n$$x<y>z$$\n\n`$c<d$`');
    expect(node.textContent).toBe('Math $a<b$ and\n$$x<y>z$$\n$c<d$\n');
    expect(node.querySelectorAll(RAW)).toHaveLength(0);
  });

  it('uses another mark when the answer contains the first', async () => {
    const node = await render(`${M} <b>x</b> \`${M}<i>\``);
    expect(node.textContent).toBe(`${M} <b>x</b> ${M}<i>\n`);
    expect(node.querySelectorAll(RAW)).toHaveLength(0);
  });

  it.each([
    // A fence in a list item ends with the item, not at the next fence.
    ['- a\n\n  ```html\n  x\n- <img src=x>\n\n```\n<script>y</script>', true],
    // marked closes a fence on "```~", CommonMark does not.
    ['```html\n<div>\n```~\n<img src=x>\n```\n', true],
    // A lazy line does not continue a fenced block quote.
    ['> ```html\n<img src=x>\n> ```', true],
    // marked does not close a fence on a trailing tab, CommonMark does: all is code.
    ['```html\na\n```\t\n<i>\n```js\n<img src=x>\n```\n', false]
  ])('stays safe when fences are misread: %j', async (source, fallsBack) => {
    const parser = createMarkedParser();
    const html = await jupyterMarkdownHtml(source, literalHtmlParser(parser));
    const [hidden, fenced] = parser.calls;
    expect(parser.calls).toEqual([
      hideHtml(source, M),
      hideHtml(source, M, true)
    ]);
    const first = revealHtml(await parser.render(hidden), M);
    const second = revealHtml(await parser.render(fenced), M);
    expect(html).toBe(fallsBack ? first : second);
    expect(second.includes('<img src=x>')).toBe(fallsBack);
    const node = await renderJupyterMarkdown(source, literalHtmlParser(parser));
    expect(node.querySelectorAll(RAW)).toHaveLength(0);
    expect(node.textContent).toContain('<img src=x>');
  });

  it('renders once when no fenced code holds a <', async () => {
    const parser = createMarkedParser();
    await renderLiteralHtml(parser, '# a\n\n```python\nx = 1\n```\n<b>');
    expect(parser.calls).toEqual([
      `# a\n\n\`\`\`python\nx = 1\n\`\`\`\n${M}b>`
    ]);
  });

  it('uses the highlighted render when only code and ids differ', async () => {
    let renders = 0;
    const base: IRenderMime.IMarkdownParser = {
      render: source =>
        Promise.resolve(
          `<h1 id="h-${renders++}">T</h1><pre><code>${source}</code></pre>`
        )
    };
    const html = await renderLiteralHtml(base, '```x\n<\n```');
    expect(html).toBe(
      '<h1 id="h-1">T</h1><pre><code>```x\n<\n```</code></pre>'
    );
  });
});
