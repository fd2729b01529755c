import type { Context } from 'aws-lambda';
import { describeError, InvalidStateError } from '../shared/errors';
import { readChangeCalendar, readKillSwitch } from '../shared/guards';
import { acquireLease, admitWithinRate, releaseLease } from '../shared/limiter';
import { actorName, countDenial, countFor, logger, type DenialReason } from '../shared/observability';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { Admission, WorkflowState } from '../shared/types';

export const runbookLeaseKey = (runbook: string): string => `runbook#${runbook}`;
export const targetLeaseKey = (targetArn: string): string => `target#${targetArn}`;

interface VerdictBase {
  readonly reason: string;
  readonly leases: string[];
  readonly readings: Record<string, unknown>;
}

/** A denial always names its guard as one of a fixed set of categories (a metric dimension, never free text). */
type Verdict = (VerdictBase & { readonly admitted: true }) | (VerdictBase & { readonly admitted: false; readonly category: DenialReason });

/** Evaluates every guard in order; the first that denies (or cannot be evaluated) decides. */
async function evaluate(state: WorkflowState, limiterTable: string): Promise<Verdict> {
  const { runbook } = state;
  const incident = state.incident!;
  const targetArn = incident.target!.arn;
  const readings: Record<string, unknown> = {};
  const leases: string[] = [];
  const deny = async (category: DenialReason, reason: string): Promise<Verdict> => {
    // A denied incident must not keep the leases it took on the way.
    await Promise.all(leases.map((key) => releaseLease(limiterTable, key, incident.incidentId)));
    return { admitted: false, reason, leases: [], readings, category };
  };
  try {
    const killSwitch = await readKillSwitch(runbook);
    readings.killSwitch = killSwitch.reason;
    if (killSwitch.engaged) return await deny('kill-switch', killSwitch.reason);

    const calendar = await readChangeCalendar(runbook.changeCalendar);
    readings.changeCalendar = calendar.reason;
    if (!calendar.open) return await deny('change-freeze', calendar.reason);

    // The incident's mode: the runbook's, or observe for a dry run.
    if (incident.mode === 'approve') return await deny('mode', 'mode is "approve" but no approval gate is configured: a human must act');
    if (incident.mode !== 'observe' && incident.mode !== 'auto') return await deny('mode', `unknown mode "${String(incident.mode)}"`);

    const targetLease = await acquireLease(limiterTable, targetLeaseKey(targetArn), incident.incidentId, 1, runbook.policy.leaseSeconds);
    readings.targetLease = targetLease;
    if (!targetLease.acquired) return await deny('target-busy', `another incident is in flight on ${targetArn}: ${targetLease.holders.join(', ')}`);
    leases.push(targetLeaseKey(targetArn));

    const runbookLease = await acquireLease(
      limiterTable, runbookLeaseKey(runbook.name), incident.incidentId, runbook.policy.maxConcurrent, runbook.policy.leaseSeconds,
    );
    readings.runbookLease = runbookLease;
    if (!runbookLease.acquired) {
      return await deny('blast-radius', `blast-radius cap: ${runbook.policy.maxConcurrent} incident(s) of ${runbook.name} already in flight (${runbookLease.holders.join(', ')})`);
    }
    leases.push(runbookLeaseKey(runbook.name));

    const { maxAttempts, windowSeconds } = runbook.policy;
    // A dry run is told whether the real run would be admitted, without using up one of its attempts.
    const counted = incident.dryRun !== true;
    const rate = await admitWithinRate(limiterTable, `${runbook.name}#${targetArn}`, incident.incidentId, maxAttempts, windowSeconds, Date.now(), counted);
    readings.rate = { ...rate, counted };
    if (!rate.admitted) {
      return await deny(
        'rate-limit',
        `rate limit: ${rate.inWindow} admissions for ${targetArn} in the last ${windowSeconds}s (max ${maxAttempts}); ` +
        'automatic remediation is not fixing this, a human needs to look',
      );
    }
    return { admitted: true, reason: 'all guards passed', leases, readings };
  } catch (error) {
    logger.error('guard could not be evaluated', { error: describeError(error) });
    try {
      return await deny('guard-unavailable', `a guard could not be evaluated, failing closed: ${describeError(error)}`);
    } catch (releaseError) {
      // Leases we could not release expire on their own after leaseSeconds.
      return {
        admitted: false, reason: `a guard could not be evaluated, failing closed: ${describeError(error)}`, leases: [],
        readings: { ...readings, releaseError: describeError(releaseError) }, category: 'guard-unavailable',
      };
    }
  }
}

/** "Admit": the safety envelope. Records `admitted` or `denied`. */
export async function handler(state: WorkflowState, context?: Context): Promise<Admission> {
  if (state.incident?.status !== 'received' || !state.incident.target) {
    throw new InvalidStateError('Admit needs a received incident with a target');
  }
  const verdict = await evaluate(state, platformSettings().limiterTable);
  if (verdict.admitted) countFor(state.runbook.name, 'IncidentsAdmitted');
  else countDenial(state.runbook.name, verdict.category);
  await record(state, verdict.admitted ? 'admitted' : 'denied', actorName(context), {
    ...(verdict.admitted ? {} : { category: verdict.category }),
    reason: verdict.reason,
    readings: verdict.readings,
    policy: state.runbook.policy,
  });
  return { admitted: verdict.admitted, reason: verdict.reason, leases: verdict.leases };
}
