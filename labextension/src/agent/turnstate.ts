/**
 * One agent turn as the page keeps it (`AgentController`): the notebook it acts on, its
 * steps' lines and records, its card, undo snapshot and how it ended; and what the
 * notebook's record (`records.ts`) keeps of it.
 */
import type { ISharedNotebook } from '@jupyter/ydoc';

import type {
  IAgentProposeMessage,
  IDoneMessage,
  IErrorMessage
} from '../chatprotocol';
import { isObject } from '../jsonshape';
import type { ICellRunner, NotebookExecutor, StepResult } from './executor';
import type { IStepRecord, ITurnRecord } from './records';
import { setStepStatus, stepEntry } from './panelview';
import type { AgentStep, ApprovalMode, IStepProblem } from './steps';
import type { TurnSnapshot } from './undo';

/** What a step's line says when the kernel was interrupted. */
export const INTERRUPTED = 'the kernel was interrupted';

/** The notebook an agent turn acts on. */
export interface IAgentTarget {
  /** Settings are kept per key (the notebook's session context). */
  key: object;
  notebook: ISharedNotebook;
  runner: ICellRunner;
  /** Mark the cells `ids` as the agent's (`on`) or not any more. */
  mark?(ids: readonly string[], on: boolean): void;
  /** Call `listener` when the user interrupts the kernel; returns the unsubscribe. */
  onInterrupt?(listener: () => void): () => void;
  /** Call `listener` when the kernel restarts or dies; returns the unsubscribe. */
  onKernelLost?(listener: () => void): () => void;
}

/** One step's line in the panel and what the record keeps of it. */
export interface IShownStep {
  entry: HTMLElement;
  record: IStepRecord;
}

export interface IAgentTurn {
  id: string;
  prompt: string;
  mode: ApprovalMode;
  cap: number;
  target: IAgentTarget;
  steps: IStepRecord[];
  /** The kernel's last word on the turn (its `done` or `error`), once it came. */
  outcome: { status: string; answer: string } | null;
  /** The kernel restarted (or died) while the turn ran. */
  lost: boolean;
  /** Stop hearing the target's interrupts and restarts. */
  unsubscribe: () => void;
  node: HTMLElement;
  snapshot: TurnSnapshot | null;
  executor: NotebookExecutor | null;
  card: HTMLElement | null;
  /** Ends the wait for the pending card's decision (Stop, the turn's end). */
  stopCard: (() => void) | null;
  stopped: boolean;
  ended: boolean;
}

/** A turn just asked, with nothing done yet. */
export function newTurn(
  fields: Pick<IAgentTurn, 'id' | 'prompt' | 'mode' | 'cap' | 'target' | 'node'>
): IAgentTurn {
  return {
    ...fields,
    steps: [],
    outcome: null,
    lost: false,
    unsubscribe: () => undefined,
    snapshot: null,
    executor: null,
    card: null,
    stopCard: null,
    stopped: false,
    ended: false
  };
}

/** How `turn` ended, for its record: `restarted`, or the kernel's status, or `stopped`. */
export function endingOf(turn: IAgentTurn): string {
  if (turn.lost) {
    return 'restarted';
  }
  return turn.outcome?.status ?? 'stopped';
}

/** What the notebook keeps of `turn`. */
export function recordOf(turn: IAgentTurn): ITurnRecord {
  return {
    id: turn.id,
    prompt: turn.prompt,
    mode: turn.mode,
    cap: turn.cap,
    status: endingOf(turn),
    steps: turn.steps,
    answer: turn.outcome?.answer ?? '',
    ended: new Date().toISOString()
  };
}

/** How the kernel's `done` or `error` says a turn ended, and its answer. */
export function outcomeOf(message: IDoneMessage | IErrorMessage): {
  status: string;
  answer: string;
} {
  const record = isObject(message.record) ? message.record : {};
  const fallback = message.type === 'error' ? 'error' : 'done';
  return {
    status: typeof record.status === 'string' ? record.status : fallback,
    answer: typeof record.answer === 'string' ? record.answer : ''
  };
}

/** Whether a run ended in KeyboardInterrupt (the kernel's ■). */
export function interrupted(result: StepResult | null): boolean {
  return (
    result !== null &&
    result.status !== 'error' &&
    result.tool === 'run_cell' &&
    result.error_name === 'KeyboardInterrupt'
  );
}

/** The line (`text`) of a proposed step in the turn's column, and its record. */
export function showStep(
  turn: IAgentTurn,
  message: IAgentProposeMessage,
  step: AgentStep | IStepProblem,
  text: string
): IShownStep {
  const record: IStepRecord = {
    step: message.step,
    tool: message.tool,
    status: 'asked'
  };
  if ('cell_id' in step) {
    record.cell_id = step.cell_id;
  }
  turn.steps.push(record);
  return { entry: stepEntry(turn.node, text), record };
}

/** Show and record how the step was settled (`detail`: one line of why). */
export function setShownStatus(
  shown: IShownStep,
  status: string,
  detail = ''
): void {
  setStepStatus(shown.entry, status, detail);
  shown.record.status = status;
  if (detail) {
    shown.record.detail = detail;
  } else {
    delete shown.record.detail;
  }
}
