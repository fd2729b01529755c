import type { Context } from 'aws-lambda';
import { InvalidStateError } from '../shared/errors';
import type { Phase } from '../shared/ledger';
import { releaseIncidentLeases } from '../shared/leases';
import { actorName, countFor } from '../shared/observability';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { WorkflowState } from '../shared/types';

export type Outcome = 'resolved' | 'observed' | 'deferred' | 'no-action-needed';

export interface FinishResult {
  readonly outcome: Outcome;
  readonly summary: string;
}

/**
 * Decides the outcome from evidence in the state, never from the path taken: an action
 * counts as resolved only with a succeeded verification of its last batch.
 */
export function outcomeOf(state: WorkflowState): { outcome: Outcome; phase: Phase; summary: string } {
  const { plan, act, verify, incident } = state;
  if (!plan) throw new InvalidStateError('Finish reached without a plan');
  if (plan.decision === 'defer') return { outcome: 'deferred', phase: 'deferred', summary: plan.reason };
  if (plan.decision === 'noop') return { outcome: 'no-action-needed', phase: 'completed', summary: plan.reason };
  if (plan.decision !== 'act') throw new InvalidStateError(`Finish reached with plan decision "${plan.decision}"`);
  if (incident?.mode === 'observe' && !act) return { outcome: 'observed', phase: 'completed', summary: `observe mode: would ${plan.summary}` };
  if (!act) throw new InvalidStateError('Finish reached in auto mode without an action');
  if (act.moreBatches) throw new InvalidStateError('Finish reached with batches left to act on');
  if (verify?.status !== 'succeeded' || verify.batch !== act.batch) throw new InvalidStateError('Finish reached without a succeeded verification of the action');
  return { outcome: 'resolved', phase: 'completed', summary: `${act.summary}; verified: ${verify.reason}` };
}

/** "Complete": records the outcome and releases the incident's leases. */
export async function handler(state: WorkflowState, context?: Context): Promise<FinishResult> {
  const { outcome, phase, summary } = outcomeOf(state);
  await record(state, phase, actorName(context), { outcome, summary });
  await releaseIncidentLeases(state, platformSettings().limiterTable);
  countFor(state.runbook.name, outcome === 'resolved' ? 'IncidentsResolved' : 'IncidentsClosedWithoutAction');
  return { outcome, summary };
}
