import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { sns } from '../shared/clients';
import { describeError } from '../shared/errors';
import { releaseIncidentLeases } from '../shared/leases';
import { actorName, countFor, countIncident, logger } from '../shared/observability';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { WorkflowState } from '../shared/types';
import { composeEscalation } from './message';

export interface EscalationResult {
  readonly published: boolean;
  readonly recorded: boolean;
  readonly headline: string;
  readonly diagnosis: string;
}

/**
 * "Escalate": records `escalated`, notifies the escalation topic and releases leases. Each
 * part is attempted even when another fails (a ledger outage must still page a human); the
 * step fails only when nobody could be told.
 */
export async function handler(state: WorkflowState, context?: Context): Promise<EscalationResult> {
  const settings = platformSettings();
  const escalation = composeEscalation(state, settings.ledgerTable);
  const problems: string[] = [];
  let recorded = false;
  if (state.incident) {
    try {
      await record(state, 'escalated', actorName(context), { headline: escalation.headline, diagnosis: escalation.diagnosis, action: escalation.action, error: state.error });
      recorded = true;
    } catch (error) {
      problems.push(`the ledger entry could not be written: ${describeError(error)}`);
    }
  } else {
    problems.push('no incident to record against');
  }
  let published = false;
  try {
    const body = problems.length ? `${escalation.body}\n\nALSO: ${problems.join('; ')}` : escalation.body;
    await sns().send(new PublishCommand({ TopicArn: settings.topicArn, Subject: escalation.subject, Message: body }));
    published = true;
  } catch (error) {
    problems.push(`the notification could not be published: ${describeError(error)}`);
  }
  try {
    await releaseIncidentLeases(state, settings.limiterTable);
  } catch (error) {
    // Unreleased leases expire after the policy's leaseSeconds.
    logger.warn('leases not released', { error: describeError(error) });
  }
  if (!published) {
    logger.error('escalation failed', { problems });
    throw new Error(`escalation failed: ${problems.join('; ')}`);
  }
  // Counted only once a human was told: the "failed without escalation" self-alarm subtracts
  // Escalations from the state machine's failed executions (lib/self-monitoring.ts).
  countFor(state.runbook.name, 'Escalations');
  // A rejected event already counted as its own outcome in Validate.
  if (state.incident?.status !== 'rejected') countIncident(state.runbook.name, 'escalated');
  return { published, recorded, headline: escalation.headline, diagnosis: escalation.diagnosis };
}
