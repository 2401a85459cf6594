/**
 * `AgentController`: agent mode in the chat panel (issue 13, items 2 and 3). With the
 * Agent switch on, Ask becomes `agent_ask`; each `agent_propose` of that turn is checked
 * (`parseStep`: only the tool's own fields survive), shown as an approval card when the
 * kernel or the mode asks for one, carried out on the notebook through
 * `NotebookExecutor` (one `TurnSnapshot` per turn) and answered with `agent_result`.
 * Approval is the user's click alone: nothing in a proposal can skip the card.
 *
 * Settings live per notebook and in memory only, so Auto is never on unless the user
 * picked it for this notebook in this page. Stop closes the pending card; the kernel ends
 * the wait itself, so a stopped turn sends nothing more. A finished turn that changed the
 * notebook offers "Undo this turn".
 */
import type { ISharedNotebook } from '@jupyter/ydoc';

import type {
  AgentStatus,
  IAgentAskRequest,
  IAgentProposeMessage,
  IAgentResultRequest,
  IAskRequest
} from '../chatprotocol';
import { parseKernelMessage } from '../chatprotocol';
import { ITranslate, untranslated } from '../turn';
import { createApprovalCard, stepView } from './card';
import type { ICellRunner, StepResult } from './executor';
import { resultFields } from './results';
import { NotebookExecutor } from './executor';
import {
  closeCard,
  IAgentSettings,
  setStepStatus,
  stepEntry,
  stepsNode,
  undoButton
} from './panelview';
import {
  AgentStep,
  approvedSteps,
  ApprovalMode,
  CardDecision,
  ChangeStep,
  isChange,
  needsApproval,
  parseStep
} from './steps';
import { TurnSnapshot } from './undo';

/** What the controller sends. */
export type AgentRequest = IAgentAskRequest | IAgentResultRequest;

/** The notebook an agent turn acts on. */
export interface IAgentTarget {
  /** Settings are kept per key (the notebook's session context). */
  key: object;
  notebook: ISharedNotebook;
  runner: ICellRunner;
  /** Mark the cells `ids` as the agent's (`on`) or not any more. */
  mark?(ids: readonly string[], on: boolean): void;
}

export interface IAgentControllerOptions {
  send: (request: AgentRequest) => boolean;
  trans?: ITranslate;
  /** The cap shown on the cards (the kernel's default step cap). */
  maxSteps?: number;
}

/** The default step cap (the kernel's). */
export const DEFAULT_MAX_STEPS = 20;

interface IAgentTurn {
  id: string;
  mode: ApprovalMode;
  target: IAgentTarget;
  node: HTMLElement;
  snapshot: TurnSnapshot | null;
  executor: NotebookExecutor | null;
  card: HTMLElement | null;
  /** Ends the wait for the pending card's decision (Stop, the turn's end). */
  stopCard: (() => void) | null;
  stopped: boolean;
  ended: boolean;
}

const DEFAULT_SETTINGS: IAgentSettings = { enabled: false, mode: 'ask' };

export class AgentController {
  constructor(options: IAgentControllerOptions) {
    this._send = options.send;
    this._trans = options.trans ?? untranslated;
    this._maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  }

  /** The switch's state for the bound notebook (off without one). */
  get settings(): IAgentSettings {
    const key = this._target?.key;
    return (key && this._settings.get(key)) || DEFAULT_SETTINGS;
  }

  /** The notebook bound now, or `null`. */
  get target(): IAgentTarget | null {
    return this._target;
  }

  /** Act on `target` from the next Ask on (`null`: no notebook, the switch is off). */
  bind(target: IAgentTarget | null): void {
    this._target = target;
  }

  /** The user changed the switch for the bound notebook. */
  setSettings(settings: IAgentSettings): void {
    if (this._target) {
      this._settings.set(this._target.key, { ...settings });
    }
  }

  /** The request to send for `request`: `agent_ask` when the switch is on. */
  ask(request: IAskRequest): IAskRequest | IAgentAskRequest {
    const target = this._target;
    const { enabled, mode } = this.settings;
    if (!target || !enabled) {
      return request;
    }
    this._turns.set(request.id, {
      id: request.id,
      mode,
      target,
      node: stepsNode(),
      snapshot: null,
      executor: null,
      card: null,
      stopCard: null,
      stopped: false,
      ended: false
    });
    const { id, session, prompt } = request;
    return { type: 'agent_ask', id, session, prompt, mode };
  }

  /** The steps of agent turn `id` (for its view in the panel), or `null`. */
  viewOf(id: string | undefined): HTMLElement | null {
    return (id !== undefined && this._turns.get(id)?.node) || null;
  }

  /** The undo record of agent turn `id`, once it changed something. */
  snapshotOf(id: string): TurnSnapshot | null {
    return this._turns.get(id)?.snapshot ?? null;
  }

  /** A comm message from the kernel: proposals of agent turns are handled here. */
  receive(data: unknown): void {
    const message = parseKernelMessage(data);
    if (message?.type === 'agent_propose') {
      const previous = this._queues.get(message.id) ?? Promise.resolve();
      const next = previous.then(() => this._propose(message));
      this._queues.set(message.id, next);
    }
  }

  /** Wait until every proposal received so far is settled (tests). */
  async settled(): Promise<void> {
    await Promise.all([...this._queues.values()]);
  }

  /** Stop turn `id`: its pending card closes and nothing more is sent for it. */
  stop(id: string | null): void {
    const turn = id === null ? undefined : this._turns.get(id);
    if (turn && !turn.ended) {
      turn.stopped = true;
      this._closeCard(turn);
    }
  }

  /** The answer streaming now is `pendingId`: every other running turn has ended. */
  sync(pendingId: string | null): void {
    for (const turn of this._turns.values()) {
      if (!turn.ended && turn.id !== pendingId) {
        this._end(turn);
      }
    }
  }

  private async _propose(message: IAgentProposeMessage): Promise<void> {
    const turn = this._turns.get(message.id);
    if (!turn) {
      this._reply(message, 'refused', {
        message: 'this page has no agent turn of that id'
      });
      return;
    }
    if (turn.stopped || turn.ended) {
      return;
    }
    const step = parseStep(message.tool, message.args);
    const entry = stepEntry(turn.node, this._stepText(message));
    if ('error' in step) {
      this._settle(turn, entry, message, 'refused', { message: step.error });
      return;
    }
    const ask =
      isChange(step) &&
      (message.needs_approval || needsApproval(step, turn.mode));
    if (!ask) {
      await this._apply(turn, entry, message, [step], null);
      return;
    }
    await this._askFirst(turn, entry, message, step as ChangeStep);
  }

  /** Show the card for `step`; carry out what the user decides. */
  private _askFirst(
    turn: IAgentTurn,
    entry: HTMLElement,
    message: IAgentProposeMessage,
    step: ChangeStep
  ): Promise<void> {
    const view = stepView(
      turn.target.notebook,
      step,
      message.step,
      this._maxSteps
    );
    if ('error' in view) {
      this._settle(turn, entry, message, 'refused', { message: view.error });
      return Promise.resolve();
    }
    return new Promise<void>(resolve => {
      const decided = (decision: CardDecision) => {
        turn.card = null;
        turn.stopCard = null;
        const steps = approvedSteps(step, decision, view.currentSource);
        const edited = decision.decision === 'edit' ? decision.source : null;
        const done =
          turn.stopped || turn.ended
            ? Promise.resolve()
            : steps.length === 0
              ? this._skip(turn, entry, message, step)
              : this._apply(turn, entry, message, steps, edited);
        void done.then(resolve);
      };
      const card = createApprovalCard(view, decided, this._trans);
      turn.card = card;
      turn.stopCard = () => {
        setStepStatus(entry, 'stopped'); // as the kernel records it
        resolve();
      };
      entry.appendChild(card);
    });
  }

  private async _skip(
    turn: IAgentTurn,
    entry: HTMLElement,
    message: IAgentProposeMessage,
    step: ChangeStep
  ): Promise<void> {
    const cellId = 'cell_id' in step ? { cell_id: step.cell_id } : {};
    this._settle(turn, entry, message, 'skipped', cellId);
  }

  /** Carry out `steps` (one step, or an edit then a run); answer with the last result. */
  private async _apply(
    turn: IAgentTurn,
    entry: HTMLElement,
    message: IAgentProposeMessage,
    steps: AgentStep[],
    edited: string | null
  ): Promise<void> {
    const executor = this._executor(turn);
    let result: StepResult | null = null;
    for (const step of steps) {
      result = await executor.apply(step);
      this._markTouched(turn);
      if (result.status === 'error') {
        break;
      }
    }
    if (turn.stopped || turn.ended || result === null) {
      setStepStatus(entry, 'stopped');
      return;
    }
    const fields = resultFields(result, steps, edited);
    this._settle(turn, entry, message, fields.status, fields.extra);
  }

  private _executor(turn: IAgentTurn): NotebookExecutor {
    if (!turn.executor) {
      const { notebook, runner } = turn.target;
      turn.snapshot = new TurnSnapshot(notebook);
      turn.executor = new NotebookExecutor({
        notebook,
        runner,
        snapshot: turn.snapshot
      });
    }
    return turn.executor;
  }

  private _settle(
    turn: IAgentTurn,
    entry: HTMLElement,
    message: IAgentProposeMessage,
    status: AgentStatus,
    extra: Partial<IAgentResultRequest>
  ): void {
    setStepStatus(entry, status, extra.message ?? '');
    if (!turn.stopped && !turn.ended) {
      this._reply(message, status, extra);
    }
  }

  private _reply(
    message: IAgentProposeMessage,
    status: AgentStatus,
    extra: Partial<IAgentResultRequest>
  ): void {
    this._send({
      ...extra,
      type: 'agent_result',
      id: message.id,
      step: message.step,
      status
    });
  }

  private _markTouched(turn: IAgentTurn): void {
    turn.target.mark?.(turn.snapshot?.touched ?? [], true);
  }

  private _closeCard(turn: IAgentTurn): void {
    if (turn.card) {
      closeCard(turn.card);
      turn.card = null;
    }
    const release = turn.stopCard;
    turn.stopCard = null;
    release?.();
  }

  /** The turn is over: close its card, unmark its cells, offer Undo if it changed any. */
  private _end(turn: IAgentTurn): void {
    turn.ended = true;
    this._closeCard(turn);
    const snapshot = turn.snapshot;
    if (!snapshot || snapshot.isEmpty) {
      return;
    }
    turn.target.mark?.(snapshot.touched, false);
    undoButton(turn.node, () => snapshot.restore(), this._trans);
  }

  private _stepText(message: IAgentProposeMessage): string {
    return this._trans.__('Step %1: %2', message.step, message.tool);
  }

  private readonly _send: (request: AgentRequest) => boolean;
  private readonly _trans: ITranslate;
  private readonly _maxSteps: number;
  private _target: IAgentTarget | null = null;
  private readonly _settings = new WeakMap<object, IAgentSettings>();
  private readonly _turns = new Map<string, IAgentTurn>();
  private readonly _queues = new Map<string, Promise<void>>();
}
