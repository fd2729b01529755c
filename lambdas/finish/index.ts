import type { Context } from 'aws-lambda';
import { PublishCommand } from '@aws-sdk/client-sns';
import { describeTrigger } from '../shared/trigger';
import { sns } from '../shared/clients';
import { describeError, InvalidStateError } from '../shared/errors';
import type { Phase } from '../shared/ledger';
import { releaseIncidentLeases } from '../shared/leases';
import { actorName, countIncident, logger, recordTimeToRemediate } from '../shared/observability';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { Report, WorkflowState } from '../shared/types';

export type Outcome = 'resolved' | 'observed' | 'deferred' | 'no-action-needed';

export interface FinishResult {
  readonly outcome: Outcome;
  readonly summary: string;
  /** Whether a runbook report was sent to the escalation topic (absent when there was none). */
  readonly reportPublished?: boolean;
}

/** The report a runbook made for this outcome: its verification's, or its plan's for a dry run. */
export function reportOf(state: WorkflowState, outcome: Outcome): Report | undefined {
  if (outcome === 'resolved') return state.verify?.report;
  if (outcome === 'observed') return state.plan?.report;
  return undefined;
}

export function composeReport(state: WorkflowState, report: Report, ledgerTable: string): { subject: string; body: string } {
  const incidentId = state.incident?.incidentId ?? '(no incident)';
  const subject = `[medic] ${report.title}: ${report.verdict}`;
  const body = [
    `${report.title}: ${report.verdict}`,
    '',
    `STARTED: ${describeTrigger(state.incident?.trigger)}`,
    ...report.lines,
    '',
    `FIGURES: ${JSON.stringify(report.figures)}`,
    '',
    `LOOK IT UP: incident ${incidentId}, ledger table ${ledgerTable}, execution ${state.execution.id}`,
  ].join('\n');
  return { subject: subject.length > 100 ? `${subject.slice(0, 97)}...` : subject, body };
}

/**
 * Decides the outcome from evidence in the state, never from the path taken: an action
 * counts as resolved only with a succeeded verification of its last batch.
 */
export function outcomeOf(state: WorkflowState): { outcome: Outcome; phase: Phase; summary: string } {
  const { plan, act, verify, incident, admission } = state;
  // Observe mode is quiet: a denial or a runbook that would escalate is recorded, not paged.
  if (incident?.mode === 'observe' && admission?.admitted === false) {
    return { outcome: 'observed', phase: 'completed', summary: `observe mode: a real run would not be admitted (${admission.reason ?? 'denied'}); nothing was done` };
  }
  if (!plan) throw new InvalidStateError('Finish reached without a plan');
  if (incident?.mode === 'observe' && plan.decision === 'escalate') {
    return { outcome: 'observed', phase: 'completed', summary: `observe mode: a real run would escalate (${plan.reason}); nothing was done` };
  }
  if (plan.decision === 'defer') return { outcome: 'deferred', phase: 'deferred', summary: plan.reason };
  if (plan.decision === 'noop') return { outcome: 'no-action-needed', phase: 'completed', summary: plan.reason };
  if (plan.decision !== 'act') throw new InvalidStateError(`Finish reached with plan decision "${plan.decision}"`);
  if (incident?.mode === 'observe' && !act) return { outcome: 'observed', phase: 'completed', summary: `observe mode: would ${plan.summary}` };
  if (!act) throw new InvalidStateError('Finish reached in auto mode without an action');
  if (act.moreBatches) throw new InvalidStateError('Finish reached with batches left to act on');
  if (verify?.status !== 'succeeded' || verify.batch !== act.batch) throw new InvalidStateError('Finish reached without a succeeded verification of the action');
  return { outcome: 'resolved', phase: 'completed', summary: `${act.summary}; verified: ${verify.reason}` };
}

/** "Complete": records the outcome (with the runbook's report, also sent to the topic) and releases the incident's leases. */
export async function handler(state: WorkflowState, context?: Context): Promise<FinishResult> {
  const settings = platformSettings();
  const { outcome, phase, summary } = outcomeOf(state);
  const report = reportOf(state, outcome);
  let reportPublished: boolean | undefined;
  if (report) {
    // A lost report is not a failed outcome: the ledger entry below holds it either way.
    const message = composeReport(state, report, settings.ledgerTable);
    try {
      await sns().send(new PublishCommand({ TopicArn: settings.topicArn, Subject: message.subject, Message: message.body }));
      reportPublished = true;
    } catch (error) {
      logger.warn('report not published', { error: describeError(error) });
      reportPublished = false;
    }
  }
  try {
    await record(state, phase, actorName(context), { outcome, summary, ...(report ? { report, reportPublished } : {}) });
  } finally {
    // No lease outlives the step, even when the ledger write failed (Escalate then pages).
    await releaseIncidentLeases(state, settings.limiterTable);
  }
  countIncident(state.runbook.name, outcome);
  // Only a verified fix has a time to remediate; the other outcomes changed nothing.
  if (outcome === 'resolved') recordTimeToRemediate(state.runbook.name, state.incident?.trigger?.at);
  return { outcome, summary, ...(report ? { reportPublished } : {}) };
}
