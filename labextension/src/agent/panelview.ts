/**
 * The agent's pieces of the chat panel (issue 13, item 2), as plain DOM: the Agent switch
 * with its approval mode and step cap, under it the notebook's agent record (turns no
 * longer in the conversation shown: from an earlier session, or cut by a kernel restart),
 * and in each agent turn the steps (a line each, an approval card where one is asked), then
 * "Undo this turn". Every text is set with `textContent`.
 */
import { ITranslate, untranslated } from '../turn';
import { DECIDED_CLASS } from './card';
import type { ApprovalMode } from './steps';

/** The class of the cells the running turn made or changed. */
export const TOUCHED_CLASS = 'jp-KimiAgent-touched';

const STEPS_CLASS = 'jp-KimiAgent-steps';

/** The step cap the panel offers: from 1 to MAX_CAP notebook actions a turn. */
const MIN_CAP = 1;
const MAX_CAP = 100;
/** The kernel's default step cap. */
export const DEFAULT_CAP = 20;

/** What the switch shows and changes: whether Ask acts, when it asks first, the cap. */
export interface IAgentSettings {
  enabled: boolean;
  mode: ApprovalMode;
  /** At most this many notebook actions a turn (MIN_CAP..MAX_CAP). */
  cap: number;
}

/** What the switch shows for the bound notebook: its settings and its agent record. */
export interface IAgentState extends IAgentSettings {
  record?: HTMLElement | null;
}

/** `value` as a step cap: a whole number within MIN_CAP..MAX_CAP, or `null`. */
export function parseCap(value: string): number | null {
  const cap = Number(value.trim());
  return value.trim() !== '' &&
    Number.isInteger(cap) &&
    cap >= MIN_CAP &&
    cap <= MAX_CAP
    ? cap
    : null;
}

/** The modes in the order offered, with their labels. */
function modeLabels(trans: ITranslate): [ApprovalMode, string][] {
  return [
    ['ask', trans.__('Ask before every change')],
    ['ask_run_delete', trans.__('Ask before running or deleting')],
    ['auto', trans.__('Auto: act without asking')]
  ];
}

/** The Agent switch: a checkbox and the mode; `changed` hears every user change. */
export class AgentSwitch {
  readonly node = document.createElement('div');

  constructor(
    changed: (settings: IAgentSettings) => void,
    trans: ITranslate = untranslated
  ) {
    this.node.className = 'jp-KimiAgent-switch';
    const label = document.createElement('label');
    this._box.type = 'checkbox';
    this._box.className = 'jp-KimiAgent-enabled';
    label.append(this._box, document.createTextNode(trans.__('Agent')));
    label.title = trans.__(
      'Let Kimi read, change and run cells of this notebook'
    );
    this._mode.className = 'jp-KimiAgent-mode';
    this._mode.setAttribute('aria-label', trans.__('When the agent asks'));
    this._mode.append(
      ...modeLabels(trans).map(([value, text]) => new Option(text, value))
    );
    const capLabel = this._capInput(trans);
    const report = () => {
      const cap = parseCap(this._cap.value);
      this._cap.classList.toggle('jp-mod-invalid', cap === null);
      changed({
        enabled: this._box.checked,
        mode: this._mode.value as ApprovalMode,
        cap: cap ?? this._shownCap
      });
    };
    this._box.addEventListener('change', report);
    this._mode.addEventListener('change', report);
    this._cap.addEventListener('input', report);
    this._cap.addEventListener('change', () => {
      this._cap.value = String(parseCap(this._cap.value) ?? this._shownCap);
      this._cap.classList.remove('jp-mod-invalid');
    });
    const line = document.createElement('div');
    line.className = 'jp-KimiAgent-switchLine';
    line.append(label, this._mode, capLabel);
    this._record.className = 'jp-KimiAgent-records';
    this.node.append(line, this._record);
  }

  /** Show `state`; `available`: a notebook is in focus. */
  show(state: IAgentState, available: boolean): void {
    this._box.checked = state.enabled;
    this._mode.value = state.mode;
    this._shownCap = state.cap;
    if (
      parseCap(this._cap.value) !== state.cap &&
      document.activeElement !== this._cap
    ) {
      this._cap.value = String(state.cap);
    }
    this._box.disabled = !available;
    this._mode.disabled = !available || !state.enabled;
    this._cap.disabled = !available || !state.enabled;
    this.node.classList.toggle('jp-mod-active', state.enabled);
    const record = state.record ?? null;
    if (record === null) {
      this._record.replaceChildren();
    } else if (record.parentNode !== this._record) {
      this._record.replaceChildren(record);
    }
  }

  private _capInput(trans: ITranslate): HTMLElement {
    const label = document.createElement('label');
    label.className = 'jp-KimiAgent-capLabel';
    label.title = trans.__(
      'At most this many notebook actions a turn (%1 to %2)',
      MIN_CAP,
      MAX_CAP
    );
    this._cap.type = 'number';
    this._cap.className = 'jp-KimiAgent-cap';
    this._cap.min = String(MIN_CAP);
    this._cap.max = String(MAX_CAP);
    this._cap.step = '1';
    this._cap.value = String(DEFAULT_CAP);
    this._cap.setAttribute('aria-label', trans.__('Step cap'));
    label.append(document.createTextNode(trans.__('Steps')), this._cap);
    return label;
  }

  private readonly _box = document.createElement('input');
  private readonly _mode = document.createElement('select');
  private readonly _cap = document.createElement('input');
  private readonly _record = document.createElement('div');
  private _shownCap = DEFAULT_CAP;
}

/** The column of one agent turn's steps. */
export function stepsNode(): HTMLElement {
  const node = document.createElement('div');
  node.className = STEPS_CLASS;
  return node;
}

/** One step's line (`text`), appended to `steps`; its status comes later. */
export function stepEntry(steps: HTMLElement, text: string): HTMLElement {
  const entry = document.createElement('div');
  entry.className = `${STEPS_CLASS}-step`;
  const label = document.createElement('span');
  label.className = `${STEPS_CLASS}-label`;
  label.textContent = text;
  const status = document.createElement('span');
  status.className = `${STEPS_CLASS}-status`;
  entry.append(label, status);
  steps.appendChild(entry);
  return entry;
}

/** Show how the step of `entry` was settled (`detail`: one line of why). */
export function setStepStatus(
  entry: HTMLElement,
  status: string,
  detail = ''
): void {
  entry.dataset.status = status;
  const node = entry.querySelector(`.${STEPS_CLASS}-status`);
  if (node) {
    node.textContent = detail ? `${status}: ${detail}` : status;
  }
}

/** Disable a card nobody may answer any more (the turn stopped or ended). */
export function closeCard(card: HTMLElement): void {
  if (!card.classList.contains(DECIDED_CLASS)) {
    card.classList.add(DECIDED_CLASS);
    card.dataset.decision = 'stopped';
  }
  card.querySelectorAll('button').forEach(button => (button.disabled = true));
  card.querySelectorAll('textarea').forEach(area => (area.readOnly = true));
}

/** "Undo this turn", appended to `steps`; `undo` runs once. */
export function undoButton(
  steps: HTMLElement,
  undo: () => void,
  trans: ITranslate = untranslated
): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'jp-mod-styled jp-KimiAgent-undo';
  button.textContent = trans.__('Undo this turn');
  button.title = trans.__(
    'Put every cell this turn changed back as it was before'
  );
  button.addEventListener('click', () => {
    button.disabled = true;
    button.textContent = trans.__('Turn undone');
    undo();
  });
  steps.appendChild(button);
  return button;
}
