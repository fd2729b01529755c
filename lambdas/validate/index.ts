import type { Context } from 'aws-lambda';
import { executionDeadline } from '../shared/ledger-completeness';
import { claimIncident } from '../shared/limiter';
import { actorName, countFor, countIncident, logger } from '../shared/observability';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { Incident, WorkflowState } from '../shared/types';
import { InvalidStateError } from '../shared/errors';
import { inputKind, parseEvent } from './parse';

/**
 * How long a claimed incident id stays claimed: longer than every redelivery (EventBridge retries
 * for up to 24 hours) and redrive window (Step Functions redrives an execution for up to 14 days).
 */
export const CLAIM_SECONDS = 15 * 86400;
/** An event dated this far in the future is refused (clocks disagree by less than this). */
export const MAX_CLOCK_SKEW_SECONDS = 120;
/** Default for a runbook's `maxEventAge`. */
export const DEFAULT_MAX_EVENT_AGE_SECONDS = 900;

/**
 * Why an event's time makes it unusable as evidence, or undefined. An event older than the
 * runbook's `maxEventAge` describes a state that may long be gone; one dated in the future comes
 * from a skewed clock or a made-up body.
 */
export function staleness(at: string, runbook: WorkflowState['runbook'], now = Date.now()): string | undefined {
  const age = (now - Date.parse(at)) / 1000;
  const maxAge = runbook.policy.maxEventAgeSeconds ?? DEFAULT_MAX_EVENT_AGE_SECONDS;
  if (age > maxAge) {
    return `stale event: it reports a change at ${at}, ${Math.round(age / 60)} minute(s) before medic read it, older than the runbook's maxEventAge of `
      + `${Math.round(maxAge / 60)} minute(s); medic does not act on old evidence: look at the target's state now`;
  }
  if (-age > MAX_CLOCK_SKEW_SECONDS) {
    return `event dated in the future: it reports a change at ${at}, ${Math.round(-age)}s after medic's clock (at most ${MAX_CLOCK_SKEW_SECONDS}s of clock skew is accepted)`;
  }
  return undefined;
}

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
 * "Validate event": normalises the alarm event (or a manual run's input) into an incident, claims it (so a redelivered
 * event is recognised as a duplicate and acts at most once) and records `received`,
 * `duplicate` or `rejected`.
 */
export async function handler(state: WorkflowState, context?: Context): Promise<Incident> {
  const { runbook, execution } = state;
  if (!runbook?.name || !execution?.id) throw new InvalidStateError('the workflow state has no runbook or execution (the state machine injects both)');
  const settings = platformSettings();
  const actor = actorName(context);
  const parsed = parseEvent(state.event, runbook, execution);
  const stale = parsed.ok && parsed.trigger.kind !== 'manual' && parsed.trigger.kind !== 'schedule' ? staleness(parsed.trigger.at, runbook) : undefined;

  if (!parsed.ok || stale) {
    const reason = parsed.ok ? stale! : parsed.reason;
    // A mistyped hand start (the console's default input, a typo) is told to whoever started it, not paged.
    const refused = !parsed.ok && inputKind(state.event, runbook) === 'manual';
    if (refused) countFor(runbook.name, 'InputsRefused');
    const incident: Incident = {
      incidentId: `${runbook.name}-rejected-${execution.name}`,
      status: refused ? 'refused' : 'rejected',
      runbook: runbook.name,
      mode: runbook.mode,
      reason,
      // A stale event still says what fired: the page names it.
      ...(parsed.ok ? { trigger: parsed.trigger, target: parsed.target } : {}),
    };
    logger.warn('event rejected', { reason });
    countIncident(runbook.name, 'rejected');
    await record({ ...state, incident }, 'rejected', actor, { reason, eventPreview: preview(state.event) });
    return incident;
  }

  if ('suppressed' in parsed && parsed.suppressed) {
    const incident: Incident = {
      incidentId: `${parsed.incidentId}.suppressed.${execution.name}`,
      status: 'suppressed',
      runbook: runbook.name,
      mode: runbook.mode,
      trigger: parsed.trigger,
      target: parsed.target,
      reason: `${parsed.suppressed}: medic does not act, as the alarm's own actions do not`,
    };
    countIncident(runbook.name, 'suppressed');
    await record({ ...state, incident }, 'suppressed', actor, { reason: incident.reason, trigger: parsed.trigger, target: parsed.target });
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
  const deadline = executionDeadline(execution.startedAt, runbook.timeoutSeconds);
  await record({ ...state, incident }, 'received', actor, {
    trigger: parsed.trigger, target: parsed.target, ...(dryRun ? { dryRun } : {}), ...(deadline ? { deadline } : {}),
  });
  return incident;
}
