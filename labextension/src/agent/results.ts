/**
 * What an agent step's `agent_result` says, from the executor's result: the protocol's
 * status (an edited approval is `edited_and_done`, an executor error `failed`) and the
 * fields the kernel hands the model (cell id, source used, outputs, cell summaries).
 */
import type { AgentStatus, IAgentResultRequest } from '../chatprotocol';
import type { StepResult } from './executor';
import type { AgentStep } from './steps';

/** The protocol's view of an executor result. */
export function resultFields(
  result: StepResult,
  steps: readonly AgentStep[],
  edited: string | null
): { status: AgentStatus; extra: Partial<IAgentResultRequest> } {
  if (result.status === 'error') {
    return { status: 'failed', extra: { message: result.error } };
  }
  const status: AgentStatus = edited === null ? 'done' : 'edited_and_done';
  const source = edited ?? sourceOf(steps);
  const withSource = source === undefined ? {} : { source };
  switch (result.tool) {
    case 'list_cells':
      return { status, extra: { cells: asRecords(result.cells) } };
    case 'read_cell': {
      const { id, source: text, outputs } = result.cell;
      return {
        status,
        extra: { cell_id: id, source: text, outputs: asRecords(outputs) }
      };
    }
    case 'run_cell': {
      const outputs = asRecords(result.outputs);
      const raised = result.error_name
        ? { message: `the cell raised ${result.error_name}` }
        : {};
      return {
        status,
        extra: { cell_id: result.cell_id, outputs, ...withSource, ...raised }
      };
    }
    default:
      return { status, extra: { cell_id: result.cell_id, ...withSource } };
  }
}

/** The source the applied steps wrote, if any. */
function sourceOf(steps: readonly AgentStep[]): string | undefined {
  for (const step of steps) {
    if ('source' in step) {
      return step.source;
    }
  }
  return undefined;
}

function asRecords(values: readonly object[]): Record<string, unknown>[] {
  return values.map(value => ({ ...value }) as Record<string, unknown>);
}
