/**
 * The Kimi turn record (`application/vnd.kimi.turn+json`): a defensive parser and the
 * labels the renderer shows (the same wording as the Python `render/bundle.py`).
 */

/** Token counts reported for a turn; every count is optional. */
export interface ITurnUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  cached_tokens?: number;
  reasoning_tokens?: number;
}

/** Seconds from the request to the first token, to the end of thinking, to the end. */
export interface ITurnTimings {
  first_token?: number;
  reasoning?: number;
  total?: number;
}

/** A tool call the model made: the function name and its raw JSON arguments. */
export interface IToolCall {
  name: string;
  arguments: string;
}

/**
 * What running one tool call gave (`ToolResult.to_json()` in Python). `status` is one of
 * ok, error, refused, skipped, echoed, not run; `preview` is the tool's text (show as text).
 */
export interface IToolResult {
  callId: string;
  name: string;
  arguments: string;
  status: string;
  preview: string;
  duration?: number;
  step?: number;
}

/** A turn record with every field normalised; missing fields become empty or undefined. */
export interface ITurnRecord {
  answer: string;
  reasoning: string;
  model?: string;
  session?: string;
  id?: string;
  toolCalls: IToolCall[];
  toolResults: IToolResult[];
  usage?: ITurnUsage;
  timings?: ITurnTimings;
  finishReason?: string;
  status?: string;
  error?: string;
}

/** Translates user-facing strings (`%1` placeholders); a JupyterLab `TranslationBundle` fits. */
export interface ITranslate {
  __(msgid: string, ...args: unknown[]): string;
}

/** The identity translation, with JupyterLab's `%1` placeholder substitution. */
export const untranslated: ITranslate = {
  __: (msgid, ...args) =>
    msgid.replace(/%(\d+)/g, (match, index: string) =>
      String(args[Number(index) - 1] ?? match)
    )
};

const USAGE_KEYS = [
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cached_tokens',
  'reasoning_tokens'
] as const;
const TIMING_KEYS = ['first_token', 'reasoning', 'total'] as const;
const ARGUMENTS_SHOWN = 80;

type Json = Record<string, unknown>;

/** Return `data` as a turn record, or `null` when it is not an object (or JSON text of one). */
export function parseTurn(data: unknown): ITurnRecord | null {
  const record = asObject(typeof data === 'string' ? parseJson(data) : data);
  if (!record) {
    return null;
  }
  return {
    answer: optionalString(record.answer) ?? '',
    reasoning: optionalString(record.reasoning) ?? '',
    model: optionalString(record.model) || undefined,
    session: optionalString(record.session),
    id: optionalString(record.id),
    toolCalls: parseToolCalls(record.tool_calls),
    toolResults: parseToolResults(record.tool_results),
    usage: pickNumbers(record.usage, USAGE_KEYS),
    timings: pickNumbers(record.timings, TIMING_KEYS),
    finishReason: optionalString(record.finish_reason),
    status: optionalString(record.status),
    error: optionalString(record.error) || undefined
  };
}

/** `Thinking · 12.4 s · 1,532 tokens`, leaving out what is unknown. */
export function thinkingSummary(
  turn: ITurnRecord,
  trans: ITranslate = untranslated
): string {
  const parts = [trans.__('Thinking')];
  const seconds = turn.timings?.reasoning;
  if (seconds !== undefined) {
    parts.push(formatSeconds(seconds, trans));
  }
  const tokens = turn.usage?.reasoning_tokens;
  if (tokens) {
    parts.push(trans.__('%1 tokens', formatCount(tokens)));
  }
  return parts.join(' · ');
}

/** `kimi-k2.6 · 200 tokens (100 cached) · 15.1 s`, leaving out what is unknown. */
export function footerText(
  turn: ITurnRecord,
  trans: ITranslate = untranslated
): string {
  const parts = turn.model ? [turn.model] : [];
  const total = totalTokens(turn.usage);
  if (total !== undefined) {
    const cached = turn.usage?.cached_tokens;
    parts.push(
      cached
        ? trans.__(
            '%1 tokens (%2 cached)',
            formatCount(total),
            formatCount(cached)
          )
        : trans.__('%1 tokens', formatCount(total))
    );
  }
  const seconds = turn.timings?.total;
  if (seconds !== undefined) {
    parts.push(formatSeconds(seconds, trans));
  }
  return parts.join(' · ');
}

/** What the reader must know about an answer that did not finish normally, or `null`. */
export function noticeText(
  turn: ITurnRecord,
  trans: ITranslate = untranslated
): string | null {
  if (turn.status === 'stopped') {
    return trans.__('Stopped: partial answer');
  }
  if (turn.status === 'failed') {
    return trans.__(
      'Failed: %1',
      turn.error ?? trans.__('the answer broke off')
    );
  }
  if (turn.finishReason === 'length') {
    return trans.__('Cut off at the token limit');
  }
  return null;
}

/** `Called name(arguments)`, the arguments shortened to one readable line. */
export function toolCallText(
  call: IToolCall,
  trans: ITranslate = untranslated
): string {
  const flat = call.arguments.replace(/\s+/g, ' ').trim();
  const shown =
    flat.length > ARGUMENTS_SHOWN
      ? `${flat.slice(0, ARGUMENTS_SHOWN - 1)}…`
      : flat;
  return trans.__('Called %1(%2)', call.name, shown);
}

/** The statuses whose calls ran, so their time means something. */
const TIMED_STATUSES = new Set(['ok', 'error']);

/** Each status a call can have, translated (literal strings, for the extractor). */
const STATUS_LABELS = new Map<string, (trans: ITranslate) => string>([
  ['running', trans => trans.__('running')],
  ['waiting for you', trans => trans.__('waiting for you')],
  ['ok', trans => trans.__('ok')],
  ['error', trans => trans.__('error')],
  ['refused', trans => trans.__('refused')],
  ['skipped', trans => trans.__('skipped')],
  ['echoed', trans => trans.__('echoed')],
  ['not run', trans => trans.__('not run')],
  ['stopped', trans => trans.__('stopped')]
]);

/** `🔧 lookup · ok · 0.12 s` (the time only for calls that ran); the name on one line. */
export function toolTitle(
  name: string,
  status: string,
  duration?: number,
  trans: ITranslate = untranslated
): string {
  const label = STATUS_LABELS.get(status)?.(trans) ?? oneLine(status);
  const parts = [`🔧 ${oneLine(name) || '?'}`, label];
  if (duration !== undefined && TIMED_STATUSES.has(status)) {
    parts.push(trans.__('%1 s', duration.toFixed(2)));
  }
  return parts.join(' · ');
}

/** JSON arguments indented for reading; anything else as it came. */
export function prettyArguments(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** One tool result from its JSON (a `tool_results` item, or a `tool_end` message's). */
export function parseToolResult(value: unknown): IToolResult | null {
  const item = asObject(value);
  const name = optionalString(item?.name);
  const status = optionalString(item?.status);
  if (!item || !name || !status) {
    return null;
  }
  const number = (v: unknown) =>
    typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  return {
    callId: optionalString(item.call_id) ?? '',
    name,
    arguments: argumentsText(item.arguments),
    status,
    preview: optionalString(item.preview) ?? '',
    duration: number(item.duration),
    step: number(item.step)
  };
}

/** A count with thousands separators, as the Python side writes it (`1,532`). */
export function formatCount(count: number): string {
  return Math.round(count).toLocaleString('en-US');
}

/** `12.4 s`, as the Python side writes it. */
export function formatSeconds(seconds: number, trans: ITranslate): string {
  return trans.__('%1 s', seconds.toFixed(1));
}

function totalTokens(usage: ITurnUsage | undefined): number | undefined {
  if (usage?.total_tokens !== undefined) {
    return usage.total_tokens;
  }
  if (
    usage?.prompt_tokens !== undefined &&
    usage.completion_tokens !== undefined
  ) {
    return usage.prompt_tokens + usage.completion_tokens;
  }
  return undefined;
}

function parseToolCalls(value: unknown): IToolCall[] {
  if (!Array.isArray(value)) {
    return [];
  }
  const calls: IToolCall[] = [];
  for (const item of value) {
    const fn = asObject(asObject(item)?.function);
    const name = optionalString(fn?.name);
    if (fn && name) {
      calls.push({ name, arguments: argumentsText(fn.arguments) });
    }
  }
  return calls;
}

function parseToolResults(value: unknown): IToolResult[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.map(parseToolResult).filter((r): r is IToolResult => r !== null);
}

/**
 * Text for a title: no control characters (bidi controls included, see `bidi.ts`),
 * whitespace folded, at most 80 characters.
 */
function oneLine(text: string): string {
  const flat = text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    ' '
  );
  const folded = flat.replace(/\s+/g, ' ').trim();
  return folded.length > ARGUMENTS_SHOWN
    ? `${folded.slice(0, ARGUMENTS_SHOWN - 1)}…`
    : folded;
}

function argumentsText(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  return value === undefined || value === null ? '' : JSON.stringify(value);
}

function pickNumbers<K extends string>(
  value: unknown,
  keys: readonly K[]
): Partial<Record<K, number>> | undefined {
  const source = asObject(value);
  if (!source) {
    return undefined;
  }
  const picked: Partial<Record<K, number>> = {};
  for (const key of keys) {
    const number = source[key];
    if (typeof number === 'number' && Number.isFinite(number)) {
      picked[key] = number;
    }
  }
  return picked;
}

function asObject(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
