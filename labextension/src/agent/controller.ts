/**
 * `AgentController`: agent mode in the chat panel (issue 13, items 2 and 3). With the
 * Agent switch on, Ask becomes `agent_ask`; each `agent_propose` of that turn is checked
 * (`parseStep`: only the tool's own fields survive), shown as an approval card when the
 * kernel or the mode asks for one, carried out on the notebook through
 * `NotebookExecutor` (one `TurnSnapshot` per turn) and answered with `agent_result`.
 * Approval is the user's click alone: nothing in a proposal can skip the card.
 *
 * Settings (switch, mode, step cap) live per notebook and in memory only, so Auto is never
 * on unless the user picked it for this notebook in this page. Stop closes the pending
 * card; the kernel ends the wait itself, so a stopped turn sends nothing more. The kernel's
 * interrupt (■) stops the turn too: a cell the agent ran that ends in KeyboardInterrupt, or
 * the interrupt the target reports while the turn runs. A finished turn that changed the
 * notebook offers "Undo this turn"; every turn's record goes into the notebook's metadata
 * (`records.ts`), and the turns the conversation no longer shows (a kernel restart wipes
 * it; an earlier session) stay in the notebook's agent record (`history.ts`).
 */
import type { IMapChange, ISharedNotebook } from '@jupyter/ydoc';

import type {
  AgentStatus,
  IAgentAskRequest,
  IAgentProposeMessage,
  IAgentResultRequest,
  IAskRequest,
  IStopRequest
} from '../chatprotocol';
import { parseKernelMessage } from '../chatprotocol';
import { ITranslate, untranslated } from '../turn';
import { createApprovalCard, stepView } from './card';
import type { StepResult } from './executor';
import { resultFields } from './results';
import { NotebookExecutor } from './executor';
import { AgentHistory } from './history';
import { METADATA_KEY } from './records';
import {
  closeCard,
  DEFAULT_CAP,
  IAgentSettings,
  IAgentState,
  stepsNode,
  undoButton
} from './panelview';
import {
  AgentStep,
  approvedSteps,
  CardDecision,
  ChangeStep,
  isChange,
  needsApproval,
  parseStep
} from './steps';
import {
  IAgentTarget,
  IAgentTurn,
  interrupted,
  INTERRUPTED,
  IShownStep,
  newTurn,
  outcomeOf,
  setShownStatus,
  showStep
} from './turnstate';
import { TurnSnapshot } from './undo';

export type { IAgentTarget } from './turnstate';

/** What the controller sends. */
export type AgentRequest =
  IAgentAskRequest | IAgentResultRequest | IStopRequest;

export interface IAgentControllerOptions {
  send: (request: AgentRequest) => boolean;
  trans?: ITranslate;
  /** The step cap a notebook starts with (the kernel's default). */
  maxSteps?: number;
}

/** The default step cap (the kernel's). */
export const DEFAULT_MAX_STEPS = DEFAULT_CAP;

export class AgentController {
  constructor(options: IAgentControllerOptions) {
    this._send = options.send;
    this._trans = options.trans ?? untranslated;
    this._maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this._history = new AgentHistory(() => this._turns.values(), this._trans);
  }

  /** The switch's state for the bound notebook (off without one), and its agent record. */
  get settings(): IAgentState {
    const key = this._target?.key;
    const settings = (key && this._settings.get(key)) || {
      enabled: false,
      mode: 'ask',
      cap: this._maxSteps
    };
    return { ...settings, record: key ? this._history.nodeOf(key) : null };
  }

  /** The notebook bound now, or `null`. */
  get target(): IAgentTarget | null {
    return this._target;
  }

  /** Act on `target` from the next Ask on (`null`: no notebook, the switch is off). */
  bind(target: IAgentTarget | null): void {
    this._target?.notebook.metadataChanged.disconnect(this._onMetadata, this);
    this._target = target;
    if (target) {
      // Its record may have changed while another notebook was bound.
      this._history.forget(target.notebook);
      target.notebook.metadataChanged.connect(this._onMetadata, this);
    }
    this._history.refreshSoon(this._target);
  }

  /** The user changed the switch for the bound notebook. */
  setSettings(settings: IAgentSettings): void {
    if (this._target) {
      const { enabled, mode, cap } = settings;
      this._settings.set(this._target.key, { enabled, mode, cap });
    }
  }

  /** The request to send for `request`: `agent_ask` when the switch is on. */
  ask(request: IAskRequest): IAskRequest | IAgentAskRequest {
    const target = this._target;
    const { enabled, mode, cap } = this.settings;
    if (!target || !enabled) {
      return request;
    }
    const { id, session, prompt } = request;
    const node = stepsNode();
    const turn = newTurn({ id, prompt, mode, cap, target, node });
    this._turns.set(id, turn);
    this._follow(turn);
    return { type: 'agent_ask', id, session, prompt, mode, cap };
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
    } else if (message?.type === 'done' || message?.type === 'error') {
      const turn = message.id ? this._turns.get(message.id) : undefined;
      if (turn) {
        turn.outcome = outcomeOf(message);
      }
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

  /** The kernel was interrupted while turn `id` ran: stop it, as Stop does. */
  interrupt(id: string): void {
    const turn = this._turns.get(id);
    if (turn && !turn.ended && !turn.stopped) {
      this.stop(id);
      this._send({ type: 'stop', id });
    }
  }

  /** The answer streaming now is `pendingId`: every other running turn has ended. */
  sync(pendingId: string | null): void {
    for (const turn of this._turns.values()) {
      if (!turn.ended && turn.id !== pendingId) {
        this._end(turn);
      }
    }
    this._history.refreshSoon(this._target);
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
    const shown = showStep(turn, message, step, this._stepText(message));
    if ('error' in step) {
      this._settle(turn, shown, message, 'refused', { message: step.error });
      return;
    }
    const ask =
      isChange(step) &&
      (message.needs_approval || needsApproval(step, turn.mode));
    if (!ask) {
      await this._apply(turn, shown, message, [step], null);
      return;
    }
    await this._askFirst(turn, shown, message, step as ChangeStep);
  }

  /** Show the card for `step`; carry out what the user decides. */
  private _askFirst(
    turn: IAgentTurn,
    shown: IShownStep,
    message: IAgentProposeMessage,
    step: ChangeStep
  ): Promise<void> {
    const view = stepView(turn.target.notebook, step, message.step, turn.cap);
    if ('error' in view) {
      this._settle(turn, shown, message, 'refused', { message: view.error });
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
              ? this._skip(turn, shown, message, step)
              : this._apply(turn, shown, message, steps, edited);
        void done.then(resolve);
      };
      const card = createApprovalCard(view, decided, this._trans);
      turn.card = card;
      turn.stopCard = () => {
        setShownStatus(shown, 'stopped'); // as the kernel records it
        resolve();
      };
      shown.entry.appendChild(card);
    });
  }

  private async _skip(
    turn: IAgentTurn,
    shown: IShownStep,
    message: IAgentProposeMessage,
    step: ChangeStep
  ): Promise<void> {
    const cellId = 'cell_id' in step ? { cell_id: step.cell_id } : {};
    this._settle(turn, shown, message, 'skipped', cellId);
  }

  /** Carry out `steps` (one step, or an edit then a run); answer with the last result. */
  private async _apply(
    turn: IAgentTurn,
    shown: IShownStep,
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
      setShownStatus(shown, 'stopped', interrupted(result) ? INTERRUPTED : '');
      return;
    }
    const fields = resultFields(result, steps, edited);
    if (interrupted(result)) {
      // The user's ■ while the agent's cell ran: the turn ends here, as Stop ends it.
      const extra = { ...fields.extra, message: INTERRUPTED };
      this._settle(turn, shown, message, 'stopped', extra);
      this.interrupt(turn.id);
      return;
    }
    this._settle(turn, shown, message, fields.status, fields.extra);
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
    shown: IShownStep,
    message: IAgentProposeMessage,
    status: AgentStatus,
    extra: Partial<IAgentResultRequest>
  ): void {
    if (extra.cell_id !== undefined) {
      shown.record.cell_id = extra.cell_id;
    }
    setShownStatus(shown, status, extra.message ?? '');
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

  /** Hear the target's interrupts and restarts while `turn` runs. */
  private _follow(turn: IAgentTurn): void {
    const { onInterrupt, onKernelLost } = turn.target;
    const stops = [
      onInterrupt?.call(turn.target, () => this.interrupt(turn.id)),
      onKernelLost?.call(turn.target, () => this._lost(turn))
    ];
    turn.unsubscribe = () => stops.forEach(stop => stop?.());
  }

  /** The kernel of `turn` restarted or died: the turn is over, its record says why. */
  private _lost(turn: IAgentTurn): void {
    if (turn.outcome === null) {
      turn.lost = true;
    }
    if (turn.ended) {
      this._history.keep(turn); // the panel ended it first; now the record says why
    } else {
      this._end(turn);
    }
  }

  /** The turn is over: close its card, unmark its cells, offer Undo if it changed any. */
  private _end(turn: IAgentTurn): void {
    turn.ended = true;
    turn.unsubscribe();
    this._closeCard(turn);
    for (const step of turn.steps) {
      if (step.status === 'asked') {
        step.status = 'stopped';
      }
    }
    this._history.keep(turn);
    const snapshot = turn.snapshot;
    if (!snapshot || snapshot.isEmpty) {
      return;
    }
    turn.target.mark?.(snapshot.touched, false);
    undoButton(turn.node, () => snapshot.restore(), this._trans);
  }

  private _onMetadata(notebook: ISharedNotebook, change: IMapChange): void {
    if (change.key === METADATA_KEY) {
      this._history.forget(notebook);
    }
    this._history.refreshSoon(this._target);
  }

  private _stepText(message: IAgentProposeMessage): string {
    return this._trans.__('Step %1: %2', message.step, message.tool);
  }

  private readonly _send: (request: AgentRequest) => boolean;
  private readonly _trans: ITranslate;
  private readonly _maxSteps: number;
  private readonly _history: AgentHistory;
  private _target: IAgentTarget | null = null;
  private readonly _settings = new WeakMap<object, IAgentSettings>();
  private readonly _turns = new Map<string, IAgentTurn>();
  private readonly _queues = new Map<string, Promise<void>>();
}
