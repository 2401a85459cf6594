/**
 * What the live `%%kimi` view knows of the answer it shows: the text so far, the counts and
 * the phase, as the kernel's `KimiLiveModel` messages say (`kimi_jupyter/render/lab_live.py`),
 * and the status line and thinking title it ticks in the page, worded as the kernel words
 * them (`render/live.py: Progress`). No DOM here, so it is tested on its own.
 */
import { formatCount, formatSeconds, ITranslate, untranslated } from './turn';

/** The content of one custom message from the kernel; every key is optional. */
export interface ILiveMessage {
  thinking?: string;
  answer?: string;
  reasoning?: number;
  tokens?: number;
  phase?: string;
  note?: string | null;
  notice?: string;
  end?: string;
}

const TEXT_KEYS = ['thinking', 'answer', 'phase', 'notice', 'end'] as const;
const COUNT_KEYS = ['reasoning', 'tokens'] as const;

/** `message` as an `ILiveMessage`, keeping only the keys of the right type. */
export function parseLiveMessage(message: unknown): ILiveMessage {
  const parsed: ILiveMessage = {};
  if (typeof message !== 'object' || message === null) {
    return parsed;
  }
  const raw = message as Record<string, unknown>;
  for (const key of TEXT_KEYS) {
    if (typeof raw[key] === 'string') {
      parsed[key] = raw[key] as string;
    }
  }
  for (const key of COUNT_KEYS) {
    const value = raw[key];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
      parsed[key] = value;
    }
  }
  if (typeof raw.note === 'string' || raw.note === null) {
    parsed.note = raw.note as string | null;
  }
  return parsed;
}

/** The state of one live answer; times are milliseconds of the page's clock. */
export class LiveTurnState {
  constructor(readonly started: number) {}

  thinking = '';
  answer = '';
  reasoning = 0;
  tokens = 0;
  phase = 'connecting';
  note: string | null = null;
  notice: string | null = null;
  ended: string | null = null;
  firstToken: number | null = null;
  answerStarted: number | null = null;

  /** Apply one message from the kernel; whether anything changed. */
  apply(message: unknown, now: number): boolean {
    const m = parseLiveMessage(message);
    if (!Object.keys(m).length) {
      return false;
    }
    if ((m.thinking || m.answer) && this.firstToken === null) {
      this.firstToken = now;
    }
    if (m.answer && this.answerStarted === null) {
      this.answerStarted = now;
    }
    this.thinking += m.thinking ?? '';
    this.answer += m.answer ?? '';
    this.reasoning = m.reasoning ?? this.reasoning;
    this.tokens = m.tokens ?? this.tokens;
    this.phase = m.phase ?? this.phase;
    if (m.note !== undefined) {
      this.note = m.note;
    }
    // a one-off notice (a retry) shows until the next text or phase
    this.notice =
      m.notice ?? (m.thinking || m.answer || m.phase ? null : this.notice);
    if (m.end !== undefined) {
      this.ended = m.end;
      this.phase = m.end;
    }
    return true;
  }

  /** `answering · 4.0 s · 300 tokens · 75 tok/s · a note`, or the notice. */
  statusText(now: number, trans: ITranslate = untranslated): string {
    if (this.notice) {
      return this.notice;
    }
    const parts = [
      this.phase,
      formatSeconds((now - this.started) / 1000, trans)
    ];
    if (this.tokens) {
      parts.push(trans.__('%1 tokens', formatCount(this.tokens)));
      const seconds =
        this.firstToken === null ? 0 : (now - this.firstToken) / 1000;
      if (this.ended === null && seconds > 0) {
        parts.push(trans.__('%1 tok/s', formatCount(this.tokens / seconds)));
      }
    }
    if (this.note) {
      parts.push(this.note);
    }
    return parts.join(' · ');
  }

  /** `Thinking · 2.0 s · 14 tokens`: the time until the answer started (or now). */
  thinkingTitle(now: number, trans: ITranslate = untranslated): string {
    if (this.firstToken === null) {
      return trans.__('Thinking');
    }
    const end = this.answerStarted ?? now;
    const parts = [
      trans.__('Thinking'),
      formatSeconds((end - this.firstToken) / 1000, trans)
    ];
    if (this.reasoning) {
      parts.push(trans.__('%1 tokens', formatCount(this.reasoning)));
    }
    return parts.join(' · ');
  }
}
