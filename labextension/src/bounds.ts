/**
 * What JupyterLab's Markdown pipeline may be handed, and the linear view for the rest.
 *
 * The pipeline is not linear: its math pre-pass (`removeMath`) is cubic in a run of
 * backticks (8,000 froze a tab for 85 s) and quadratic in unclosed fence lines, marked's
 * emphasis, link and autolink scanning is quadratic in delimiters within a paragraph
 * (16 KB of `**a ` takes seconds), its asynchronous token walk in the number of tokens,
 * deep nesting of quotes and lists is slow or overflows its stack, and every formula
 * costs MathJax time. `markdownCost` measures each of these in one pass over the text;
 * `fitsMarkdownBudget` says whether all stay below what renders in a fraction of a
 * second. An answer over budget is shown by `plainAnswer`: fenced code as code blocks (so
 * Copy and Insert still work), everything else as text, in time linear in its length.
 */

/** The limits; each is roughly a tenth to a fifth of a second of work. */
export const MARKDOWN_BUDGET = {
  /** Characters in all. */
  chars: 100_000,
  /**
   * Lines, container markers and inline delimiters in all, each of which may become a
   * token: the parser's asynchronous token walk (which JupyterLab uses) is quadratic in
   * the number of tokens.
   */
  tokens: 10_000,
  /** Sum over lines of backticks × longest backtick run × line length. */
  backticks: 200_000_000,
  /** Fence-like lines at the start of a line × characters in all. */
  fences: 100_000_000,
  /** Sum over paragraphs of (inline delimiters and lines)². */
  delimiters: 4_000_000,
  /** `$`, `\(`, `\[` and `\begin` in all (each may become a formula). */
  math: 600,
  /** Block quote and list markers opening one line (each one is a level of nesting). */
  nesting: 16
};

/** What `markdownCost` measures; compare with `MARKDOWN_BUDGET`. */
export type MarkdownCost = { [K in keyof typeof MARKDOWN_BUDGET]: number };

/**
 * Where the parser's inline scan stops and looks ahead: emphasis, code, links, images,
 * escapes, autolinks (URLs, `www.`, e-mail addresses); each line of a paragraph counts
 * too (setext headings are found by rescanning it).
 */
const DELIMITER = /[*_~`[\]<!\\@]|:\/\/|www\./g;
/** The container markers opening a line: `>`, bullets, ordered-list numbers. */
const CONTAINERS = /^(?:[ \t]*(?:>|[*+-](?=[ \t])|\d{1,9}[.)](?=[ \t])))+/;
const CONTAINER = />|[*+-](?=[ \t])|\d{1,9}[.)](?=[ \t])/g;
const MATH = /\$|\\\(|\\\[|\\begin/g;
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const CLOSING_FENCE = /^ {0,3}([`~]{3,})\s*$/;
/** A line start for the pre-pass's multiline `^`, then a fence. */
const FENCE_LIKE = /(?:^|[\n\r\u2028\u2029])(?:`{3}|~{3})/g;
/** A blank line, as the parser has it (`trim` would also take NBSP and the like). */
const BLANK = /^[ \t]*$/;

/** Whether `markdown` is cheap enough for JupyterLab's Markdown pipeline. */
export function fitsMarkdownBudget(markdown: string): boolean {
  if (markdown.length > MARKDOWN_BUDGET.chars) {
    return false;
  }
  const cost = markdownCost(markdown);
  return (Object.keys(MARKDOWN_BUDGET) as (keyof MarkdownCost)[]).every(
    key => cost[key] <= MARKDOWN_BUDGET[key]
  );
}

/**
 * The work `markdown` would cause in JupyterLab's pipeline, by kind, in linear time.
 *
 * Each measure errs on the side of more work: a paragraph is a whole run of non-blank
 * lines (the parser's paragraphs lie within such runs); only the inside of top-level
 * fenced code, which the parser never scans inline, is left out of the delimiters.
 */
export function markdownCost(markdown: string): MarkdownCost {
  let backticks = 0;
  for (const line of markdown.split('\n')) {
    backticks += backtickWork(line); // the pre-pass's `[^\n]*` sees these lines
  }
  const cost = {
    chars: markdown.length,
    tokens: 0,
    backticks,
    fences: count(markdown, FENCE_LIKE) * markdown.length,
    delimiters: 0,
    math: count(markdown, MATH),
    nesting: 0
  };
  let paragraph = 0;
  let fence: string | null = null;
  for (const line of markdown.split(/\r\n|\r|\n/)) {
    const depth = nesting(line);
    cost.nesting = Math.max(cost.nesting, depth);
    cost.tokens += 1 + depth;
    if (fence !== null) {
      fence = isClosingFence(line, fence) ? null : fence;
      continue;
    }
    const opened = openingFence(line);
    if (opened !== null || BLANK.test(line)) {
      cost.delimiters += paragraph * paragraph;
      paragraph = 0;
      fence = opened;
    } else {
      const delimiters = count(line, DELIMITER);
      cost.tokens += delimiters;
      paragraph += delimiters + 1;
    }
  }
  cost.delimiters += paragraph * paragraph;
  return cost;
}

/**
 * `markdown` as preformatted text, its top-level fenced code as `<pre><code>` blocks:
 * what an answer over budget shows, built with `textContent` only. Being `<pre>`, none
 * of it is typeset as math (JupyterLab typesets a rendered answer again when attached).
 */
export function plainAnswer(doc: Document, markdown: string): DocumentFragment {
  const fragment = doc.createDocumentFragment();
  let text: string[] = [];
  let code: string[] = [];
  let fence: string | null = null;
  let language = '';
  const flushText = () => {
    if (text.join('').trim()) {
      const node = doc.createElement('pre');
      node.className = 'jp-KimiTurn-plainText';
      node.textContent = text.join('\n');
      fragment.appendChild(node);
    }
    text = [];
  };
  const flushCode = () => {
    const pre = doc.createElement('pre');
    const element = doc.createElement('code');
    if (language) {
      element.className = `language-${language}`;
    }
    element.textContent = code.join('\n');
    pre.appendChild(element);
    fragment.appendChild(pre);
    code = [];
  };
  let opening = '';
  for (const line of markdown.split(/\r\n|\r|\n/)) {
    if (fence === null) {
      const opened = openingFence(line);
      if (opened === null) {
        text.push(line);
        continue;
      }
      flushText();
      fence = opened;
      opening = line;
      language = (FENCE.exec(line)?.[2].trim().split(/\s/)[0] ?? '').replace(
        /[^\w+#.-]/g,
        ''
      );
    } else if (isClosingFence(line, fence)) {
      flushCode();
      fence = null;
    } else {
      code.push(line);
    }
  }
  if (fence !== null && code.join('').trim() === '') {
    text.push(opening); // an unclosed fence with nothing in it: its line is the content
  } else if (fence !== null) {
    flushCode();
  }
  flushText();
  return fragment;
}

/** The fence a line opens (its characters), or `null`. */
function openingFence(line: string): string | null {
  const match = FENCE.exec(line);
  if (!match || (match[1][0] === '`' && match[2].includes('`'))) {
    return null;
  }
  return match[1];
}

/** Whether `line` closes `fence`: the parser's rule (the fence, more fence characters,
 * spaces), widened to any trailing whitespace, so this never sees code the parser does not. */
function isClosingFence(line: string, fence: string): boolean {
  const match = CLOSING_FENCE.exec(line);
  return match !== null && match[1].startsWith(fence);
}

/** Backticks × longest run × length: the math pre-pass's inline-code scan of one line. */
function backtickWork(line: string): number {
  if (!line.includes('`')) {
    return 0;
  }
  let total = 0;
  let run = 0;
  let longest = 0;
  for (let i = 0; i < line.length; i++) {
    if (line.charCodeAt(i) === 96) {
      total += 1;
      run += 1;
      longest = Math.max(longest, run);
    } else {
      run = 0;
    }
  }
  return total * longest * line.length;
}

function nesting(line: string): number {
  const prefix = CONTAINERS.exec(line)?.[0];
  return prefix ? count(prefix, CONTAINER) : 0;
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}
