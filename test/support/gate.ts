import { MutationGate, type GuardCheck } from '../../lambdas/shared/mutation-gate';
import type { RunbookSteps } from '../../lambdas/shared/runbook-steps';
import type { ActResult, RollbackResult, WorkflowState } from '../../lambdas/shared/types';

/** Guards that always pass: for unit tests of a runbook's own calls (the gate's guards have tests of their own). */
export const passingGuards: GuardCheck = async () => undefined;

/** A runbook's act through a gate whose guards pass, with the calls the gate recorded. */
export async function actThrough(steps: RunbookSteps, state: WorkflowState): Promise<ActResult> {
  const gate = new MutationGate(state, 'act', passingGuards);
  return { ...(await steps.act(state, gate)), calls: gate.calls };
}

/** A runbook's rollback through a gate whose guards pass, with the calls the gate recorded. */
export async function rollbackThrough(steps: RunbookSteps, state: WorkflowState): Promise<RollbackResult> {
  const gate = new MutationGate(state, 'rollback', passingGuards);
  return { ...(await steps.rollback!(state, gate)), calls: gate.calls };
}
