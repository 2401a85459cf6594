import {
  footerText,
  formatCount,
  noticeText,
  parseToolResult,
  parseTurn,
  prettyArguments,
  thinkingSummary,
  toolCallText,
  toolTitle,
  untranslated
} from '../turn';

const FULL = {
  version: 1,
  session: 'default',
  id: '3f2a9c1b0d4e',
  model: 'kimi-k2.6',
  answer: '# Hi',
  reasoning: 'think',
  tool_calls: [
    {
      id: 'c1',
      type: 'function',
      function: { name: 'f', arguments: '{"x": 1}' }
    }
  ],
  tool_results: [
    {
      call_id: 'c1',
      name: 'f',
      arguments: '{"x": 1}',
      status: 'ok',
      preview: '42',
      duration: 0.123,
      step: 1
    }
  ],
  usage: {
    prompt_tokens: 120,
    completion_tokens: 80,
    total_tokens: 200,
    cached_tokens: 100,
    reasoning_tokens: 1532
  },
  timings: { first_token: 0.8, reasoning: 12.4, total: 15.1 },
  finish_reason: 'stop',
  status: 'done',
  error: null,
  meta: {}
};

describe('parseTurn', () => {
  it('normalises a full record', () => {
    expect(parseTurn(FULL)).toEqual({
      answer: '# Hi',
      reasoning: 'think',
      model: 'kimi-k2.6',
      session: 'default',
      id: '3f2a9c1b0d4e',
      toolCalls: [{ name: 'f', arguments: '{"x": 1}' }],
      toolResults: [
        {
          callId: 'c1',
          name: 'f',
          arguments: '{"x": 1}',
          status: 'ok',
          preview: '42',
          duration: 0.123,
          step: 1
        }
      ],
      usage: FULL.usage,
      timings: FULL.timings,
      finishReason: 'stop',
      status: 'done',
      error: undefined
    });
  });

  it('fills in an empty record', () => {
    expect(parseTurn({})).toEqual({
      answer: '',
      reasoning: '',
      model: undefined,
      session: undefined,
      id: undefined,
      toolCalls: [],
      toolResults: [],
      usage: undefined,
      timings: undefined,
      finishReason: undefined,
      status: undefined,
      error: undefined
    });
  });

  it('drops nulls and values of the wrong type', () => {
    const turn = parseTurn({
      answer: 3,
      reasoning: null,
      model: '',
      usage: { total_tokens: '7', cached_tokens: null, prompt_tokens: NaN },
      timings: [1, 2],
      tool_calls: [
        null,
        'f()',
        { function: { name: 7 } },
        { function: { name: 'g', arguments: { y: 2 } } },
        { function: { name: 'h' } }
      ],
      finish_reason: null,
      error: ''
    });
    expect(turn).toMatchObject({
      answer: '',
      reasoning: '',
      model: undefined,
      usage: {},
      timings: undefined,
      toolCalls: [
        { name: 'g', arguments: '{"y":2}' },
        { name: 'h', arguments: '' }
      ],
      finishReason: undefined,
      error: undefined
    });
  });

  it('reads a record saved as JSON text', () => {
    expect(parseTurn(JSON.stringify(FULL))?.answer).toBe('# Hi');
  });

  it.each([null, undefined, 'text', '[1]', 42, [FULL]])('rejects %p', data => {
    expect(parseTurn(data)).toBeNull();
  });
});

describe('thinkingSummary', () => {
  it('gives seconds with one decimal and tokens with separators', () => {
    expect(thinkingSummary(parseTurn(FULL)!)).toBe(
      'Thinking · 12.4 s · 1,532 tokens'
    );
  });

  it('leaves out what is unknown', () => {
    expect(thinkingSummary(parseTurn({ reasoning: 'r' })!)).toBe('Thinking');
    expect(thinkingSummary(parseTurn({ timings: { reasoning: 3 } })!)).toBe(
      'Thinking · 3.0 s'
    );
    expect(
      thinkingSummary(parseTurn({ usage: { reasoning_tokens: 0 } })!)
    ).toBe('Thinking');
  });
});

describe('footerText', () => {
  it('joins model, tokens, cached tokens and time', () => {
    expect(footerText(parseTurn(FULL)!)).toBe(
      'kimi-k2.6 · 200 tokens (100 cached) · 15.1 s'
    );
  });

  it('separates thousands and skips zero cached tokens', () => {
    const turn = parseTurn({
      usage: { total_tokens: 12345, cached_tokens: 0 },
      timings: { total: 0 }
    })!;
    expect(footerText(turn)).toBe('12,345 tokens · 0.0 s');
  });

  it('adds prompt and completion when the total is missing', () => {
    const turn = parseTurn({
      model: 'm',
      usage: { prompt_tokens: 2, completion_tokens: 3 }
    })!;
    expect(footerText(turn)).toBe('m · 5 tokens');
  });

  it('is empty when nothing is known', () => {
    expect(footerText(parseTurn({ usage: null, timings: null })!)).toBe('');
  });

  it('goes through the translator', () => {
    const trans = { __: (msgid: string) => `[${msgid}]` };
    expect(footerText(parseTurn(FULL)!, trans)).toBe(
      'kimi-k2.6 · [%1 tokens (%2 cached)] · [%1 s]'
    );
  });
});

describe('noticeText', () => {
  it.each([
    [{ status: 'done', finish_reason: 'stop' }, null],
    [{ status: 'stopped' }, 'Stopped: partial answer'],
    [{ status: 'failed', error: 'HTTP 500' }, 'Failed: HTTP 500'],
    [{ status: 'failed' }, 'Failed: the answer broke off'],
    [{ finish_reason: 'length' }, 'Cut off at the token limit'],
    [{ status: 'stopped', finish_reason: 'length' }, 'Stopped: partial answer']
  ])('%p gives %p', (record, expected) => {
    expect(noticeText(parseTurn(record)!)).toBe(expected);
  });
});

describe('toolCallText', () => {
  it('shows the call on one line', () => {
    expect(toolCallText({ name: 'f', arguments: '{\n  "x": 1\n}' })).toBe(
      'Called f({ "x": 1 })'
    );
  });

  it('shortens long arguments', () => {
    const text = toolCallText({ name: 'f', arguments: 'a'.repeat(200) });
    expect(text).toBe(`Called f(${'a'.repeat(79)}…)`);
  });
});

describe('helpers', () => {
  it('formats counts like Python', () => {
    expect(formatCount(1532)).toBe('1,532');
    expect(formatCount(1234567)).toBe('1,234,567');
  });

  it('substitutes placeholders once, without re-reading the values', () => {
    expect(untranslated.__('Called %1(%2)', '%2', 'x')).toBe('Called %2(x)');
    expect(untranslated.__('%1 and %3', 'a')).toBe('a and %3');
  });
});

describe('tool results', () => {
  it('keeps well-formed results and drops the rest', () => {
    const turn = parseTurn({
      tool_results: [
        null,
        { name: 'f' },
        { status: 'ok' },
        { name: 'g', status: 'skipped', arguments: { a: 1 }, duration: 'x' }
      ]
    });
    expect(turn?.toolResults).toEqual([
      {
        callId: '',
        name: 'g',
        arguments: '{"a":1}',
        status: 'skipped',
        preview: '',
        duration: undefined,
        step: undefined
      }
    ]);
    expect(parseToolResult('ok')).toBeNull();
  });

  it('titles a call with its status, and the time only when it ran', () => {
    expect(toolTitle('lookup', 'ok', 0.123)).toBe('🔧 lookup · ok · 0.12 s');
    expect(toolTitle('lookup', 'error', 2)).toBe('🔧 lookup · error · 2.00 s');
    expect(toolTitle('lookup', 'skipped', 0)).toBe('🔧 lookup · skipped');
    expect(toolTitle('lookup', 'running')).toBe('🔧 lookup · running');
  });

  it('puts a hostile name on one clean line', () => {
    const title = toolTitle('a\u001b[2J\nb'.repeat(30), 'refused');
    expect(title).not.toMatch(/[\u0000-\u001f]/);
    expect(title).toMatch(/^🔧 a \[2J ba \[2J .*… · refused$/);
  });

  it('indents JSON arguments and leaves other text alone', () => {
    expect(prettyArguments('{"city":"Paris"}')).toBe('{\n  "city": "Paris"\n}');
    expect(prettyArguments('{not json')).toBe('{not json');
  });
});
