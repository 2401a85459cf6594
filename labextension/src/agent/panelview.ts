/**
 * The agent's pieces of the chat panel (issue 13, item 2), as plain DOM: the Agent switch
 * with its approval mode, and in each agent turn the steps (a line each, an approval card
 * where one is asked), then "Undo this turn". Every text is set with `textContent`.
 */
import { ITranslate, untranslated } from '../turn';
import { DECIDED_CLASS } from './card';
import type { ApprovalMode } from './steps';

/** The class of the cells the running turn made or changed. */
export const TOUCHED_CLASS = 'jp-KimiAgent-touched';

const STEPS_CLASS = 'jp-KimiAgent-steps';

/** What the switch shows and changes: whether Ask acts, and when it asks first. */
export interface IAgentSettings {
  enabled: boolean;
  mode: ApprovalMode;
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
    const report = () =>
      changed({
        enabled: this._box.checked,
        mode: this._mode.value as ApprovalMode
      });
    this._box.addEventListener('change', report);
    this._mode.addEventListener('change', report);
    this.node.append(label, this._mode);
  }

  /** Show `settings`; `available`: a notebook is in focus. */
  show(settings: IAgentSettings, available: boolean): void {
    this._box.checked = settings.enabled;
    this._mode.value = settings.mode;
    this._box.disabled = !available;
    this._mode.disabled = !available || !settings.enabled;
    this.node.classList.toggle('jp-mod-active', settings.enabled);
  }

  private readonly _box = document.createElement('input');
  private readonly _mode = document.createElement('select');
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
