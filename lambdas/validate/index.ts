import type { Context } from 'aws-lambda';
import { claimIncident } from '../shared/limiter';
import { actorName, countFor, countIncident, logger } from '../shared/observability';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { Incident, WorkflowState } from '../shared/types';
import { InvalidStateError } from '../shared/errors';
import { parseAlarmEvent } from './alarm-event';
import { parseManualInput } from './manual-input';
import { isRunbookServiceEvent, parseResourceEvent } from './resource-event';

/** How long a claimed incident id stays claimed; EventBridge redelivers for at most 24 hours. */
const CLAIM_SECONDS = 7 * 86400;

/** The start of a rejected event, enough to recognise it without storing an oversized payload. */
function preview(event: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(event) ?? String(event);
  } catch {
    text = String(event);
  }
  return text.length > 4000 ? `${text.slice(0, 4000)}... (${text.length} characters)` : text;
}

/**
 * A runbook started by hand reads every input as manual input. An alarm runbook that can also be
 * started by hand or by its sweep (it has `manualTargets`) reads anything that is not an
 * EventBridge event (no `detail-type`) that way; EventBridge events always go to the alarm parser.
 */
function readsAsManualInput(event: unknown, runbook: WorkflowState['runbook']): boolean {
  if (runbook.trigger === 'manual') return true;
  if (!runbook.manualTargets) return false;
  return typeof event === 'object' && event !== null && !Array.isArray(event) && !('detail-type' in event);
}

/**
 * "Validate event": normalises the alarm event (or a manual run's input) into an incident, claims it (so a redelivered
 * event is recognised as a duplicate and acts at most once) and records `received`,
 * `duplicate` or `rejected`.
 */
export async function handler(state: WorkflowState, context?: Context): Promise<Incident> {
  const { runbook, execution } = state;
  if (!runbook?.name || !execution?.id) throw new InvalidStateError('the workflow state has no runbook or execution (the state machine injects both)');
  const settings = platformSettings();
  const actor = actorName(context);
  const parsed = isRunbookServiceEvent(state.event, runbook) ? parseResourceEvent(state.event, runbook)
    : readsAsManualInput(state.event, runbook) ? parseManualInput(state.event, runbook, execution)
      : parseAlarmEvent(state.event, runbook);

  if (!parsed.ok) {
    const incident: Incident = {
      incidentId: `${runbook.name}-rejected-${execution.name}`,
      status: 'rejected',
      runbook: runbook.name,
      mode: runbook.mode,
      reason: parsed.reason,
    };
    logger.warn('event rejected', { reason: parsed.reason });
    countIncident(runbook.name, 'rejected');
    await record({ ...state, incident }, 'rejected', actor, { reason: parsed.reason, eventPreview: preview(state.event) });
    return incident;
  }

  const claim = await claimIncident(settings.limiterTable, parsed.incidentId, execution.id, CLAIM_SECONDS);
  if (!claim.owned) {
    const incident: Incident = {
      incidentId: `${parsed.incidentId}.duplicate.${execution.name}`,
      status: 'duplicate',
      runbook: runbook.name,
      mode: runbook.mode,
      trigger: parsed.trigger,
      target: parsed.target,
      reason: `incident ${parsed.incidentId} is already handled by execution ${claim.owner}`,
    };
    logger.info('duplicate delivery', { incidentId: parsed.incidentId, owner: claim.owner });
    countIncident(runbook.name, 'duplicate');
    await record({ ...state, incident }, 'duplicate', actor, { incidentId: parsed.incidentId, owner: claim.owner });
    return incident;
  }

  const dryRun = 'dryRun' in parsed && parsed.dryRun === true;
  const incident: Incident = {
    incidentId: parsed.incidentId,
    status: 'received',
    runbook: runbook.name,
    // A dry run is an observe-mode incident: every check runs, nothing mutates.
    mode: dryRun ? 'observe' : runbook.mode,
    trigger: parsed.trigger,
    target: parsed.target,
    ...(dryRun ? { dryRun } : {}),
  };
  countFor(runbook.name, 'IncidentsReceived');
  await record({ ...state, incident }, 'received', actor, { trigger: parsed.trigger, target: parsed.target, ...(dryRun ? { dryRun } : {}) });
  return incident;
}
