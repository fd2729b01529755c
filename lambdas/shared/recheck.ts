import { InvalidStateError } from './errors';
import { supersededTrigger } from './freshness';
import { planHash, planHashOf } from './plan-hash';
import { record } from './record';
import type { Plan, RecheckResult, WorkflowState } from './types';

/** Why the new plan is not the approved one, in words the page shows as they are. */
export function driftReason(approved: Plan, now: Plan): string {
  if (approved.decision !== now.decision) {
    return `the plan changed since it was approved: the decision was "${approved.decision}" and is now "${now.decision}" (${now.reason})`;
  }
  if (approved.summary !== now.summary) return `the plan changed since it was approved: ${approved.summary} -> ${now.summary}`;
  return `the plan changed since it was approved: ${approved.summary} (same words, but its planned calls or evidence differ)`;
}

/**
 * The "recheck" step: the plan made again, read-only, right before Act in mode `approve`. An
 * approval is of one plan hash; if the target drifted (other tasks, other capacity, the alarm
 * already OK) the hash differs and medic must not act on the old approval. The alarm is read
 * again first, as at Plan, so a recovered alarm reads as a drift to `noop`. Covered resources
 * are not admitted again: their leases were taken at Plan and the gate checks them before each call.
 * Recorded as `planned` with `recheck: true` (the newest plan of the incident, as readers expect).
 */
export async function recheckPlan(plan: (state: WorkflowState) => Promise<Plan>, state: WorkflowState, actor: string): Promise<RecheckResult> {
  if (!state.plan) throw new InvalidStateError('nothing to recheck: the workflow state has no plan');
  // The approved hash when the approval is in the state; it is the plan's own hash otherwise.
  const approvedHash = state.approval?.planHash ?? planHash(state);
  const now = (await supersededTrigger(state)) ?? (await plan(state));
  const hash = planHashOf(state.runbook.name, state.incident!.target!.arn, now);
  const result: RecheckResult = hash === approvedHash
    ? { status: 'unchanged', planHash: hash }
    : { status: 'drifted', planHash: hash, reason: driftReason(state.plan, now) };
  await record(state, 'planned', actor, { ...now, recheck: true, status: result.status, approvedPlanHash: approvedHash, planHash: hash, ...(result.status === 'drifted' ? { drift: result.reason } : {}) });
  return result;
}
