import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { PanelLayout, Widget } from '@lumino/widgets';

import {
  createTurnRendererFactory,
  TURN_MIME_TYPE,
  TURN_RENDERER_RANK,
  TurnRenderer
} from '../renderer';
import { renderTurn } from '../view';
import { createMarkedParser, jupyterMarkdownHtml } from './jupyterMarkdown';

const HOSTILE_REASONING = '<img src=y onerror="window.__xss4=1"> <b>bold</b>';

/** Parses with the parser it is given, then sanitizes, like JupyterLab's renderer. */
class FakeMarkdown extends Widget implements IRenderMime.IRenderer {
  static created: IRenderMime.IRendererOptions[] = [];
  static models: IRenderMime.IMimeModel[] = [];

  constructor(private readonly _options: IRenderMime.IRendererOptions) {
    super();
    FakeMarkdown.created.push(_options);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    FakeMarkdown.models.push(model);
    const source = String(model.data[this._options.mimeType]);
    if (source === 'FAIL') {
      throw new Error('parser broke');
    }
    const { markdownParser, sanitizer } = this._options;
    const html = await jupyterMarkdownHtml(source, markdownParser!);
    this.node.innerHTML = sanitizer.sanitize(html);
  }
}

const markdownFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: ['text/markdown'],
  createRenderer: options => new FakeMarkdown(options)
};

const baseSanitizer: IRenderMime.ISanitizer = {
  sanitize: dirty => dirty.replace(/<script>.*?<\/script>/g, '')
};

const resolver = {} as IRenderMime.IResolver;
let markdownParser = createMarkedParser();

function options(): IRenderMime.IRendererOptions {
  return {
    mimeType: TURN_MIME_TYPE,
    sanitizer: baseSanitizer,
    resolver,
    linkHandler: null,
    latexTypesetter: null,
    markdownParser
  };
}

const TURN = {
  model: 'kimi-k2.6',
  answer:
    '# Title\n\n```\nx = 1\n```\n\n<script>x</script>\n\n' +
    '![t](http://remote.invalid/track.png) <img src=x> $a<b$',
  reasoning: HOSTILE_REASONING,
  tool_calls: [{ function: { name: 'lookup', arguments: '{"q": "x"}' } }],
  usage: { total_tokens: 200, cached_tokens: 100, reasoning_tokens: 1532 },
  timings: { reasoning: 12.4, total: 15.1 },
  status: 'done'
};

async function render(
  data: unknown,
  factory: IRenderMime.IRendererFactory | null = markdownFactory
): Promise<HTMLElement> {
  const layout = new PanelLayout();
  const host = new Widget();
  host.layout = layout;
  await renderTurn(layout, data, {
    options: options(),
    markdownFactory: factory ?? undefined
  });
  return host.node;
}

beforeEach(() => {
  FakeMarkdown.created = [];
  FakeMarkdown.models = [];
  markdownParser = createMarkedParser();
});

describe('renderTurn', () => {
  it('shows thinking, tool calls, answer and footer in that order', async () => {
    const node = await render(TURN);
    const classes = Array.from(node.children).map(child =>
      child.className.split(' ').find(name => name.startsWith('jp-KimiTurn-'))
    );
    expect(classes).toEqual([
      'jp-KimiTurn-thinking',
      'jp-KimiTurn-toolCalls',
      'jp-KimiTurn-answer',
      'jp-KimiTurn-footerBar'
    ]);
    expect(node.querySelector('.jp-KimiTurn-toolCall')?.textContent).toBe(
      'Called lookup({"q": "x"})'
    );
    expect(node.querySelector('.jp-KimiTurn-footer')?.textContent).toBe(
      'kimi-k2.6 · 200 tokens (100 cached) · 15.1 s'
    );
  });

  it('shows tool results as closed panels of text, in place of the call list', async () => {
    const hostile = '<img src=x onerror="window.__xss5=1"><script>x</script>';
    const node = await render({
      ...TURN,
      tool_results: [
        {
          call_id: 'c1',
          name: 'lookup',
          arguments: '{"q":"x"}',
          status: 'ok',
          preview: hostile,
          duration: 0.123,
          step: 1
        },
        { call_id: 'c2', name: hostile, arguments: '{}', status: 'refused' }
      ]
    });
    expect(node.querySelector('.jp-KimiTurn-toolCalls')).toBeNull();
    const tools = node.querySelector('.jp-KimiTurn-tools') as HTMLElement;
    expect(
      tools.previousElementSibling?.classList.contains('jp-KimiTurn-thinking')
    ).toBe(true);
    const panels = [...tools.querySelectorAll('details.jp-KimiTool')];
    expect(panels.map(p => (p as HTMLDetailsElement).open)).toEqual([
      false,
      false
    ]);
    expect(panels.map(p => p.querySelector('summary')?.textContent)).toEqual([
      '🔧 lookup · ok · 0.12 s',
      `🔧 ${hostile} · refused`
    ]);
    expect(panels[0].querySelector('.jp-KimiTool-arguments')?.textContent).toBe(
      '{\n  "q": "x"\n}'
    );
    expect(panels[0].querySelector('.jp-KimiTool-preview')?.textContent).toBe(
      hostile
    );
    expect(panels[1].querySelector('.jp-KimiTool-preview')).toBeNull();
    expect(tools.querySelector('img, script')).toBeNull();
  });

  it('keeps the thinking collapsed and its text literal', async () => {
    const node = await render(TURN);
    const details = node.querySelector(
      'details.jp-KimiTurn-thinking'
    ) as HTMLDetailsElement;
    expect(details.open).toBe(false);
    expect(details.querySelector('summary')?.textContent).toBe(
      'Thinking · 12.4 s · 1,532 tokens'
    );
    const reasoning = details.querySelector('.jp-KimiTurn-reasoning');
    expect(reasoning?.textContent).toBe(HOSTILE_REASONING);
    expect(reasoning?.children).toHaveLength(0);
    expect(
      node.querySelector('.jp-KimiTurn-thinking img, .jp-KimiTurn-thinking b')
    ).toBeNull();
  });

  it('renders the answer as untrusted Markdown with guarded sanitizer', async () => {
    const node = await render(TURN);
    expect(FakeMarkdown.created).toHaveLength(1);
    const created = FakeMarkdown.created[0];
    expect(created.mimeType).toBe('text/markdown');
    // No resolver: JupyterLab must not turn the answer's relative URLs into /files/ ones.
    expect(created.resolver).toBeNull();
    expect(created.linkHandler).toBeNull();
    expect(created.sanitizer).not.toBe(baseSanitizer);
    expect(FakeMarkdown.models[0].trusted).toBe(false);
    const answer = node.querySelector('.jp-KimiTurn-answer') as HTMLElement;
    expect(answer.querySelector('h1')?.textContent).toBe('Title');
    expect(answer.querySelector('script')).toBeNull();
    expect(answer.querySelector('img')).toBeNull();
    expect(answer.querySelector('.jp-KimiTurn-remoteImage')).not.toBeNull();
  });

  it("shows the answer's raw HTML as text, through the registry's parser", async () => {
    const node = await render(TURN);
    const created = FakeMarkdown.created[0];
    expect(created.markdownParser).not.toBe(markdownParser);
    expect(markdownParser.calls).toEqual([
      '# Title\n\n```\nx = 1\n```\n\n\u2400script>x\u2400/script>\n\n' +
        '![t](http://remote.invalid/track.png) \u2400img src=x> @@0@@'
    ]);
    const answer = node.querySelector('.jp-KimiTurn-answer') as HTMLElement;
    expect(
      Array.from(answer.querySelectorAll('p'), p => p.textContent)
    ).toEqual(['<script>x</script>', 'Remote image: t <img src=x> $a<b$']);
  });

  it('shows the source as text without a Markdown parser', async () => {
    const layout = new PanelLayout();
    await renderTurn(layout, TURN, {
      options: { ...options(), markdownParser: null },
      markdownFactory
    });
    expect(FakeMarkdown.created).toHaveLength(0);
    const answer = layout.widgets[2].node;
    expect(answer.localName).toBe('pre');
    expect(answer.textContent).toBe(TURN.answer);
  });

  it('adds one copy button for the answer and one per code block', async () => {
    const node = await render(TURN);
    expect(node.querySelectorAll('button.jp-KimiTurn-copyAnswer')).toHaveLength(
      1
    );
    expect(node.querySelectorAll('button.jp-KimiTurn-copyCode')).toHaveLength(
      1
    );
    const answerButton = node.querySelector('.jp-KimiTurn-copyAnswer');
    expect(answerButton?.getAttribute('aria-label')).toBe(
      'Copy answer as Markdown'
    );
  });

  it('shows a mermaid block as code, never as a diagram', async () => {
    const node = await render({
      answer: '```mermaid\ngraph TD\n  A["<img src=/kimi-hostile>"] --> B\n```'
    });
    expect(markdownParser.diagrams).toEqual([]);
    expect(node.querySelector('code.language-mermaid')?.textContent).toContain(
      'graph TD'
    );
    expect(node.querySelector('img, .jp-RenderedMermaid')).toBeNull();
    expect(node.querySelectorAll('button.jp-KimiTurn-copyCode')).toHaveLength(
      1
    );
  });

  it('loads nothing from the answer, same-origin included', async () => {
    const node = await render({
      answer:
        '![x](x.png) ![k](/api/kernels) [f](/files/a.ipynb) [w](https://example.com)'
    });
    const answer = node.querySelector('.jp-KimiTurn-answer') as HTMLElement;
    expect(answer.querySelector('img')).toBeNull();
    expect(
      Array.from(answer.querySelectorAll('a'), a => [
        a.getAttribute('href'),
        a.getAttribute('target'),
        a.getAttribute('rel')
      ])
    ).toEqual([
      ['https://example.com/', '_blank', 'noopener noreferrer nofollow']
    ]);
    expect(answer.querySelectorAll('.jp-KimiTurn-unlinked')).toHaveLength(1);
  });

  it('marks bidi controls and copies the answer without them, with a notice', async () => {
    const answer = 'Run `x\u202e = 1`\n\n```python\ny = "\u2066a\u2069"\n```';
    const node = await render({ answer });
    expect(node.querySelectorAll('.jp-KimiTurn-bidi')).toHaveLength(3);
    const copyAnswer = node.querySelector<HTMLButtonElement>(
      '.jp-KimiTurn-copyAnswer'
    );
    expect(copyAnswer?.title).toBe(
      'Copy answer as Markdown (Removed 3 invisible direction-changing characters)'
    );
    expect(node.querySelector('.jp-KimiTurn-bidiNotice')?.textContent).toBe(
      'Removed 2 invisible direction-changing characters'
    );
  });

  it('shows an answer over the Markdown budget as text and code, without the parser', async () => {
    const answer = `Look: ${'`'.repeat(8000)}\n\n\`\`\`python\nx = 1\n\`\`\``;
    const node = await render({ answer });
    expect(FakeMarkdown.models).toHaveLength(0);
    const view = node.querySelector('.jp-KimiTurn-answer') as HTMLElement;
    expect(view.querySelector('.jp-KimiTurn-plainNotice')).not.toBeNull();
    expect(view.querySelector('.jp-KimiTurn-plainText')?.textContent).toBe(
      `Look: ${'`'.repeat(8000)}\n`
    );
    expect(view.querySelector('pre code')?.textContent).toBe('x = 1');
    expect(view.querySelectorAll('.jp-KimiTurn-copyCode')).toHaveLength(1);
    expect(view.querySelector('.jp-KimiTurn-plain')?.classList).toContain(
      'mathjax_ignore'
    );
  });

  it('has no toggle, list or copy button for what is missing', async () => {
    const node = await render({ answer: '', model: 'm' });
    expect(node.querySelector('details')).toBeNull();
    expect(node.querySelector('.jp-KimiTurn-toolCalls')).toBeNull();
    expect(node.querySelector('.jp-KimiTurn-answer')).toBeNull();
    expect(node.querySelector('button')).toBeNull();
    expect(node.textContent).toBe('m');
  });

  it.each([
    [{ answer: 'a', status: 'stopped' }, 'Stopped: partial answer', false],
    [
      { answer: '', status: 'failed', error: 'HTTP 500' },
      'Failed: HTTP 500',
      true
    ],
    [
      { answer: 'a', finish_reason: 'length' },
      'Cut off at the token limit',
      false
    ]
  ])('shows the notice for %p', async (record, text, failed) => {
    const node = await render(record);
    const notice = node.querySelector('.jp-KimiTurn-notice');
    expect(notice?.textContent).toBe(text);
    expect(notice?.getAttribute('role')).toBe('status');
    expect(notice?.classList.contains('jp-mod-failed')).toBe(failed);
  });

  it('says so when the record is not an object', async () => {
    const node = await render('not json');
    expect(node.textContent).toBe('Invalid Kimi turn record');
  });

  it('shows the source as text without a Markdown factory', async () => {
    const node = await render({ answer: '<b>x</b>' }, null);
    const answer = node.querySelector('pre.jp-KimiTurn-answer');
    expect(answer?.textContent).toBe('<b>x</b>');
    expect(node.querySelector('b')).toBeNull();
  });

  it('falls back to text when Markdown rendering fails', async () => {
    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation(() => undefined);
    const node = await render({ answer: 'FAIL' });
    expect(
      node.querySelector('.jp-KimiTurn-answer .jp-KimiTurn-plainText')
        ?.textContent
    ).toBe('FAIL');
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });

  it('translates through the renderer options', async () => {
    const layout = new PanelLayout();
    const translator = {
      languageCode: 'xx',
      load: (domain: string) => ({
        __: (msgid: string) => `${domain}:${msgid}`
      })
    } as unknown as IRenderMime.ITranslator;
    await renderTurn(layout, null, {
      options: { ...options(), translator },
      markdownFactory
    });
    expect(layout.widgets[0].node.textContent).toBe(
      'kimi_jupyter:Invalid Kimi turn record'
    );
  });
});

describe('TurnRenderer', () => {
  it('is created by a safe factory ranked above text/html', () => {
    const factory = createTurnRendererFactory(() => markdownFactory);
    expect(factory.safe).toBe(true);
    expect(factory.mimeTypes).toEqual(['application/vnd.kimi.turn+json']);
    expect(TURN_RENDERER_RANK).toBeLessThan(50);
    expect(factory.defaultRank).toBe(TURN_RENDERER_RANK);
    const renderer = factory.createRenderer(options());
    expect(renderer).toBeInstanceOf(TurnRenderer);
    expect(renderer.hasClass('jp-KimiTurn')).toBe(true);
  });

  it('replaces its content on every render', async () => {
    const lookup = jest.fn(() => markdownFactory);
    const renderer =
      createTurnRendererFactory(lookup).createRenderer(options());
    const model = (data: unknown): IRenderMime.IMimeModel => ({
      trusted: true,
      data: {
        [TURN_MIME_TYPE]: data as IRenderMime.IMimeModel['data'][string]
      },
      metadata: {},
      setData: () => undefined
    });
    await renderer.renderModel(model({ answer: 'one', reasoning: 'r' }));
    await renderer.renderModel(model({ answer: 'two' }));
    expect(lookup).toHaveBeenCalledTimes(2);
    expect(renderer.node.querySelectorAll('.jp-KimiTurn-answer')).toHaveLength(
      1
    );
    expect(
      renderer.node.querySelector('.jp-KimiTurn-answer')?.textContent
    ).toBe('two\n');
    expect(renderer.node.querySelector('details')).toBeNull();
    expect(FakeMarkdown.models.every(m => !m.trusted)).toBe(true);
  });
});
