import { canonicalJson, sha256Hex } from './canonical-json';
import type { Plan, WorkflowState } from './types';

/**
 * What an approver approves, as one hash. Each field is in it because approving means approving
 * exactly this, and a change to any of them is a drift the recheck before Act must catch:
 * - `runbook`: the same calls made by another runbook run under other settings and guards.
 * - `target`: the incident's target ARN; the same plan on another resource is another plan.
 * - `decision`: an `act` approved must not become a `noop`/`escalate` (the alarm recovered) or back.
 * - `summary`: the words the approver read; if they would now read differently, they approved something else.
 * - `plannedCalls`: the exact mutating calls (operation and what each changes, batch by batch);
 *   another task count or capacity changes them.
 * - `details`: the evidence the plan rests on (readings, counts, settings to restore); other
 *   evidence is another situation, even with the same calls.
 * Left out: `reason` (free text that may carry readings already in `details`), `resources`,
 * `leases` and `epochs` (taken at Plan, they change with every run and are checked by the gate),
 * `report` and `briefing` (what a human is told, not what is done).
 * Serialized as canonical JSON (sorted keys, no undefined members) so equal plans hash equally
 * whatever order their fields were built in; an absent `plannedCalls` hashes as an empty list.
 */
export function planHashOf(runbook: string, targetArn: string, plan: Plan): string {
  return sha256Hex(canonicalJson({
    runbook,
    target: targetArn,
    decision: plan.decision,
    summary: plan.summary,
    plannedCalls: plan.plannedCalls ?? [],
    details: plan.details ?? {},
  }));
}

/** The hash of `state.plan` for the state's runbook and incident target: sha256 hex of its canonical JSON. */
export function planHash(state: WorkflowState): string {
  if (!state.plan) throw new Error('planHash: the workflow state has no plan');
  if (!state.incident?.target) throw new Error('planHash: the workflow state has no incident target');
  return planHashOf(state.runbook.name, state.incident.target.arn, state.plan);
}
