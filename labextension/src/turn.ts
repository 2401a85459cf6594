/**
 * The Kimi turn record (`application/vnd.kimi.turn+json`) and its plain-text view.
 *
 * Model text is untrusted: it only ever reaches the DOM through `textContent`.
 */

/** The MIME type of a saved `%%kimi` turn record. */
export const TURN_MIME_TYPE = 'application/vnd.kimi.turn+json';

/** Token counts reported for a turn. */
export interface ITurnUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  cached_tokens?: number;
}

/** The fields of a turn record this view reads; the record may carry more. */
export interface ITurnRecord {
  answer: string;
  reasoning?: string;
  model?: string;
  usage?: ITurnUsage;
}

/** Translates user-facing strings; a JupyterLab `TranslationBundle` fits. */
export interface ITranslate {
  __(msgid: string, ...args: unknown[]): string;
}

const untranslated: ITranslate = { __: msgid => msgid };

/** Return `data` as a turn record, or `null` when it does not have the required shape. */
export function parseTurn(data: unknown): ITurnRecord | null {
  if (typeof data !== 'object' || data === null) {
    return null;
  }
  const record = data as Record<string, unknown>;
  if (typeof record.answer !== 'string') {
    return null;
  }
  return {
    answer: record.answer,
    reasoning: optionalString(record.reasoning),
    model: optionalString(record.model),
    usage: parseUsage(record.usage)
  };
}

/** Summarise a turn's model and token count in one line, or `''` when neither is known. */
export function footerText(turn: ITurnRecord): string {
  const parts: string[] = [];
  if (turn.model) {
    parts.push(turn.model);
  }
  const total = turn.usage?.total_tokens;
  if (total !== undefined) {
    parts.push(`${total} tokens`);
  }
  return parts.join(' · ');
}

/** Replace the children of `host` with a plain-text view of the turn record `data`. */
export function renderTurn(
  host: HTMLElement,
  data: unknown,
  trans: ITranslate = untranslated
): void {
  const turn = parseTurn(data);
  const answer = host.ownerDocument.createElement('pre');
  answer.className = 'jp-KimiTurn-answer';
  answer.textContent = turn
    ? turn.answer
    : trans.__('Invalid Kimi turn record');
  host.replaceChildren(answer);
  const footer = turn ? footerText(turn) : '';
  if (footer) {
    const line = host.ownerDocument.createElement('div');
    line.className = 'jp-KimiTurn-footer';
    line.textContent = footer;
    host.appendChild(line);
  }
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function parseUsage(value: unknown): ITurnUsage | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const usage: ITurnUsage = {};
  const source = value as Record<string, unknown>;
  for (const key of [
    'prompt_tokens',
    'completion_tokens',
    'total_tokens',
    'cached_tokens'
  ] as const) {
    const count = source[key];
    if (typeof count === 'number' && Number.isFinite(count)) {
      usage[key] = count;
    }
  }
  return usage;
}
