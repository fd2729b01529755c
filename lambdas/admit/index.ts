import type { Context } from 'aws-lambda';
import { Admitter, type Denial } from '../shared/admission';
import { describeError, InvalidStateError } from '../shared/errors';
import { readChangeCalendar, readKillSwitch } from '../shared/guards';
import { actorName, countDenial, countFor, logger } from '../shared/observability';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { Admission, WorkflowState } from '../shared/types';

export { resourceLeaseKey as targetLeaseKey, runbookLeaseKey } from '../shared/admission';

type Verdict = { readonly admitted: true; readonly reason: string } | ({ readonly admitted: false } & Denial);

/** Evaluates every guard in order; the first that denies (or cannot be evaluated) decides. */
async function evaluate(state: WorkflowState, admitter: Admitter): Promise<Verdict> {
  const { runbook } = state;
  const incident = state.incident!;
  const readings = admitter.readings;
  const killSwitch = await readKillSwitch(runbook);
  readings.killSwitch = killSwitch.reason;
  if (killSwitch.engaged) return { admitted: false, category: 'kill-switch', reason: killSwitch.reason };

  const calendar = await readChangeCalendar(runbook.changeCalendar);
  readings.changeCalendar = calendar.reason;
  if (!calendar.open) return { admitted: false, category: 'change-freeze', reason: calendar.reason };

  // The incident's mode: the runbook's, or observe for a dry run.
  // Mode approve is admitted like auto only with a gate: the workflow then waits for approvers before Act.
  if (incident.mode === 'approve' && !runbook.approval) return { admitted: false, category: 'mode', reason: 'mode is "approve" but no approval gate is configured: a human must act' };
  if (incident.mode !== 'observe' && incident.mode !== 'auto' && incident.mode !== 'approve') return { admitted: false, category: 'mode', reason: `unknown mode "${String(incident.mode)}"` };

  const denial = (await admitter.resourceLease(incident.target!.arn)) ?? (await admitter.runbookLease()) ?? (await admitter.budget(incident.target!.arn));
  return denial ? { admitted: false, ...denial } : { admitted: true, reason: 'all guards passed' };
}

/**
 * "Admit": the safety envelope. Records `admitted` or `denied`. Nothing it took outlives a
 * denial or a failure: leases are released before a denial is returned, and before an error
 * (even a failed ledger write) leaves the step.
 */
export async function handler(state: WorkflowState, context?: Context): Promise<Admission> {
  if (state.incident?.status !== 'received' || !state.incident.target) {
    throw new InvalidStateError('Admit needs a received incident with a target');
  }
  const { limiterTable } = platformSettings();
  const observing = state.incident.mode === 'observe';
  const admitter = new Admitter(state, limiterTable, observing);
  let verdict: Verdict;
  try {
    verdict = await evaluate(state, admitter);
  } catch (error) {
    // Stryker disable next-line StringLiteral,ObjectLiteral: the log line's wording; the ledger entry below carries the same error.
    logger.error('guard could not be evaluated', { error: describeError(error) });
    verdict = { admitted: false, category: 'guard-unavailable', reason: `a guard could not be evaluated, failing closed: ${describeError(error)}` };
  }
  try {
    if (!verdict.admitted) await admitter.releaseAll();
  } catch (error) {
    // What could not be released expires on its own after leaseSeconds.
    admitter.readings.releaseError = describeError(error);
  }
  if (verdict.admitted) countFor(state.runbook.name, 'IncidentsAdmitted');
  else countDenial(state.runbook.name, verdict.category);
  try {
    await record(state, verdict.admitted ? 'admitted' : 'denied', actorName(context), {
      ...(verdict.admitted ? {} : { category: verdict.category }),
      reason: verdict.reason,
      readings: admitter.readings,
      policy: state.runbook.policy,
      ...(observing ? { observing: 'observe mode: nothing was taken or counted' } : {}),
    });
  } catch (error) {
    await admitter.releaseAll().catch(() => undefined);
    throw error;
  }
  return {
    admitted: verdict.admitted,
    reason: verdict.reason,
    leases: [...admitter.leases],
    epochs: { ...admitter.epochs },
    ...(verdict.admitted ? {} : { category: verdict.category }),
  };
}
