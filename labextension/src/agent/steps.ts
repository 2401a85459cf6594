/**
 * The notebook tools the agent's model may call (issue 13), as typed steps.
 *
 * Arguments come from the model, so they are hostile data: `parseStep` keeps only the
 * fields a tool takes, checked, and builds a fresh object; anything else the proposal
 * carries (`approved: true`, say) is dropped here and can approve nothing. Approval is the
 * user's decision alone (`CardDecision`, from the approval card); `approvedSteps` turns
 * it into what the executor does.
 */
import { isObject, Json } from '../jsonshape';
import { AGENT_TOOLS, type AgentTool } from '../chatprotocol';

/** The kinds of cell `insert_cell` makes (the kernel's tool schema offers these two). */
export type CellKind = 'code' | 'markdown';

/** Every notebook tool, read-only ones first: the protocol's list (`chatprotocol.ts`). */
export const TOOL_NAMES = AGENT_TOOLS;

/** A notebook tool's name. */
export type ToolName = AgentTool;

/** One call of a notebook tool, with its checked arguments. */
export type AgentStep =
  | { tool: 'list_cells' }
  | { tool: 'read_cell'; cell_id: string }
  | { tool: 'insert_cell'; index: number; source: string; cell_type: CellKind }
  | { tool: 'edit_cell'; cell_id: string; source: string }
  | { tool: 'delete_cell'; cell_id: string }
  | { tool: 'run_cell'; cell_id: string };

/** The steps that change the notebook or run code: each one may need approval. */
export type ChangeStep = Exclude<
  AgentStep,
  { tool: 'list_cells' } | { tool: 'read_cell' }
>;

/** A step's arguments did not fit its tool: the one line the model gets back. */
export interface IStepProblem {
  error: string;
}

/**
 * When the agent asks: before every change (the default), only before running or
 * deleting, or never (`auto`, chosen explicitly per session).
 */
export type ApprovalMode = 'ask' | 'ask_run_delete' | 'auto';

/** The user's answer on an approval card; `edit` carries the text they approved. */
export type CardDecision =
  | { decision: 'approve' }
  | { decision: 'edit'; source: string }
  | { decision: 'skip' };

const CELL_KINDS: readonly string[] = ['code', 'markdown'];
/** Longest model-given text quoted back in an error. */
const QUOTE_LIMIT = 80;

/** `value` as a short JSON string for an error message (model text, cut). */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  const cut =
    text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text;
  return JSON.stringify(cut);
}

/** Whether a step is one of the changing tools. */
export function isChange(step: AgentStep): step is ChangeStep {
  return step.tool !== 'list_cells' && step.tool !== 'read_cell';
}

/** The checked step for a tool call, or what is wrong with it. */
export function parseStep(
  tool: unknown,
  args: unknown
): AgentStep | IStepProblem {
  if (typeof tool !== 'string' || !TOOL_NAMES.includes(tool as ToolName)) {
    return { error: `unknown tool ${quote(tool)}` };
  }
  const given: Json = isObject(args) ? args : {};
  if (args !== undefined && args !== null && !isObject(args)) {
    return { error: `${tool}: the arguments must be a JSON object` };
  }
  const name = tool as ToolName;
  if (name === 'list_cells') {
    return { tool: name };
  }
  if (name === 'insert_cell') {
    return parseInsert(given);
  }
  const cellId = given.cell_id;
  if (typeof cellId !== 'string' || cellId === '') {
    return {
      error: `${name}: cell_id must be a cell's id (list_cells gives them)`
    };
  }
  if (name === 'edit_cell') {
    if (typeof given.source !== 'string') {
      return { error: 'edit_cell: source must be a string' };
    }
    return { tool: name, cell_id: cellId, source: given.source };
  }
  return { tool: name, cell_id: cellId };
}

function parseInsert(given: Json): AgentStep | IStepProblem {
  const { index, source } = given;
  const kind = given.cell_type ?? 'code';
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
    return { error: 'insert_cell: index must be an integer from 0' };
  }
  if (typeof source !== 'string') {
    return { error: 'insert_cell: source must be a string' };
  }
  if (typeof kind !== 'string' || !CELL_KINDS.includes(kind)) {
    return {
      error: 'insert_cell: cell_type must be "code" or "markdown"'
    };
  }
  return {
    tool: 'insert_cell',
    index,
    source,
    cell_type: kind as CellKind
  };
}

/** Whether `step` waits for the user in `mode`; reading never does. */
export function needsApproval(step: AgentStep, mode: ApprovalMode): boolean {
  if (!isChange(step) || mode === 'auto') {
    return false;
  }
  if (mode === 'ask_run_delete') {
    return step.tool === 'run_cell' || step.tool === 'delete_cell';
  }
  return true;
}

/**
 * What to carry out for `step` after the user's `decision`: nothing for Skip; for
 * Edit-then-approve the edited text replaces the proposed one (a run edits the cell first,
 * when the text changed). The steps are built afresh from the checked fields.
 */
export function approvedSteps(
  step: ChangeStep,
  decision: CardDecision,
  currentSource = ''
): ChangeStep[] {
  if (decision.decision === 'skip') {
    return [];
  }
  const edited = decision.decision === 'edit' ? decision.source : null;
  switch (step.tool) {
    case 'insert_cell':
      return [
        {
          tool: 'insert_cell',
          index: step.index,
          source: edited ?? step.source,
          cell_type: step.cell_type
        }
      ];
    case 'edit_cell':
      return [
        {
          tool: 'edit_cell',
          cell_id: step.cell_id,
          source: edited ?? step.source
        }
      ];
    case 'run_cell': {
      const run: ChangeStep = { tool: 'run_cell', cell_id: step.cell_id };
      return edited === null || edited === currentSource
        ? [run]
        : [{ tool: 'edit_cell', cell_id: step.cell_id, source: edited }, run];
    }
    case 'delete_cell':
      return [{ tool: 'delete_cell', cell_id: step.cell_id }];
  }
}

/** The text Edit-then-approve starts from: the proposed source, or the cell's for a run. */
export function editableSource(
  step: ChangeStep,
  currentSource: string
): string | null {
  switch (step.tool) {
    case 'insert_cell':
    case 'edit_cell':
      return step.source;
    case 'run_cell':
      return currentSource;
    case 'delete_cell':
      return null;
  }
}
