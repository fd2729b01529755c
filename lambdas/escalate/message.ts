import { APPROVAL_ERRORS, NOT_ACTED_ERRORS } from '../shared/errors';
import { inert } from '../shared/inert-text';
import { describeTrigger } from '../shared/trigger';
import type { Trigger, Target, WorkflowState } from '../shared/types';
import { describeActions, rollbackFailedLines, type ActionRecord } from './action-record';

export interface Escalation {
  readonly subject: string;
  readonly headline: string;
  readonly diagnosis: string;
  /** The one thing a human must do, when the runbook said. */
  readonly action?: string;
  readonly body: string;
}

/**
 * Step Functions reports a Lambda error's Cause as the runtime's JSON
 * (`{"errorType","errorMessage","trace"}`); a human needs the message, not the stack trace.
 */
export function causeText(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is already text
  }
  return cause;
}

/** What fired and what it targets, when the state has no incident: read from the raw event (the ledger may be down). */
export interface RawEventFacts {
  readonly trigger?: Trigger;
  readonly target?: Target;
  readonly incidentId?: string;
}

/** What went wrong, from the most specific evidence in the state and the ledger. */
function diagnose(state: WorkflowState, record: ActionRecord): { headline: string; diagnosis: string } {
  const { incident, admission, plan, verify, rollback, error } = state;
  const cause = causeText(error?.Cause);
  // After a failed verification the only step that can fail is Roll back.
  if (record.rollbackFailed || (error && verify?.status === 'failed' && !rollback)) {
    return { headline: 'ROLLBACK FAILED', diagnosis: `verification failed (${verify?.reason ?? 'see the ledger'}) and the rollback did not complete: ${record.rollbackFailed?.error ?? `${error!.Error}: ${cause}`}` };
  }
  if (error) {
    const gate = approvalGateDiagnosis(error.Error, error.Cause, cause);
    if (gate) return gate;
    if (error.Error === 'Medic.KillSwitchEngaged') return { headline: 'stopped by the kill switch', diagnosis: cause ?? error.Error };
    if (error.Error === 'Medic.ChangeFrozen') return { headline: 'stopped by a change freeze', diagnosis: cause ?? error.Error };
    if (error.Error === 'Medic.LeaseLost') return { headline: 'stopped: the target is no longer this incident\'s', diagnosis: cause ?? error.Error };
    if (error.Error === 'Medic.ActOutcomeUnknown') return { headline: 'action outcome unknown', diagnosis: cause ?? error.Error };
    if (error.Error === 'Medic.ActIncomplete') return { headline: 'action stopped part-way', diagnosis: cause ?? error.Error };
    return { headline: 'a step failed', diagnosis: `${error.Error}: ${cause ?? 'no cause given'}` };
  }
  if (incident?.status === 'rejected') return { headline: 'event rejected', diagnosis: incident.reason ?? 'no reason given' };
  if (admission && !admission.admitted) return { headline: 'needs a human (not admitted)', diagnosis: admission.reason ?? 'denied' };
  if (plan?.decision === 'escalate') return { headline: 'needs a human (runbook cannot act)', diagnosis: plan.reason };
  if (verify?.status === 'failed') {
    const undo = rollback ? ` Rollback: ${rollback.summary}.` : ' The action is not reversible; nothing was rolled back.';
    return { headline: 'verification failed', diagnosis: `${verify.reason}.${undo}` };
  }
  return { headline: 'escalated', diagnosis: 'the workflow escalated without a recorded reason' };
}

/** How much of an approver's free-text reason a headline (and the page's subject) carries. */
const MAX_REASON_CHARS = 200;

/**
 * The approval gate's endings: each happens before Act, so the headline says nothing was acted
 * on. The principal and reason come from the rejecting caller: the page shows the headline
 * inert, like every other untrusted text.
 */
function approvalGateDiagnosis(name: string, rawCause: string | undefined, cause: string | undefined): { headline: string; diagnosis: string } | undefined {
  if (name === APPROVAL_ERRORS.expired) return { headline: 'APPROVAL EXPIRED: not acted', diagnosis: cause ?? 'no approval before the deadline; nothing was done' };
  if (name === APPROVAL_ERRORS.drifted) return { headline: 'plan changed after approval: not acted', diagnosis: cause ?? 'the plan made again before acting is not the one approved; nothing was done' };
  if (name !== APPROVAL_ERRORS.rejected) return undefined;
  let principal = 'an approver';
  let reason = 'no reason given';
  try {
    const parsed = JSON.parse(rawCause ?? '') as { principal?: unknown; reason?: unknown };
    if (typeof parsed?.principal === 'string' && parsed.principal) principal = parsed.principal;
    if (typeof parsed?.reason === 'string' && parsed.reason) reason = parsed.reason;
  } catch {
    if (cause) reason = cause;
  }
  const shortReason = reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}...` : reason;
  const headline = `REJECTED by ${principal}: ${shortReason}; not acted`;
  return { headline, diagnosis: `the plan was rejected by ${principal} (${reason}); nothing was done` };
}

const MAX_MEASURED_CHARS = 1500;

function consoleUrl(executionArn: string, region: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** Whether this execution could have made a mutating call (it got past admission to an acting plan). */
export function reachedAct(state: WorkflowState): boolean {
  // The approval gate's errors are raised before Act: such an execution never reached it.
  if (NOT_ACTED_ERRORS.has(state.error?.Error ?? '')) return false;
  const acting = state.incident?.mode === 'auto' || (state.incident?.mode === 'approve' && state.approval?.approved === true);
  return state.admission?.admitted === true && state.plan?.decision === 'act' && acting;
}

/**
 * A message a tired human can act on: what fired, what medic saw, what the ledger proves it did,
 * what failed, and where to look. Every value that comes from outside medic (alarm names and
 * reasons, dimensions, error messages) is made inert, so it cannot forge a line or drive a terminal.
 */
export function composeEscalation(state: WorkflowState, ledgerTable: string, record: ActionRecord, raw: RawEventFacts = {}, extra: string[] = []): Escalation {
  const { runbook, incident, plan, verify, execution } = state;
  const { headline, diagnosis } = diagnose(state, record);
  const targetOf = incident?.target ?? raw.target;
  const target = targetOf ? `${inert(targetOf.type)} ${inert(targetOf.id)} (${inert(targetOf.arn)})` : 'unknown target';
  const trigger = incident?.trigger ?? raw.trigger;
  const incidentId = inert(incident?.incidentId ?? raw.incidentId ?? '(no incident)');
  const briefing = verify?.briefing ?? plan?.briefing;
  const lines = [
    // A rejection's headline carries the approver's own words.
    `medic runbook ${runbook.name}: ${inert(headline)}`,
    '',
    ...(record.rollbackFailed ? [...rollbackFailedLines(record.rollbackFailed).map((l) => inert(l)), ''] : []),
    ...(briefing ? [`WHAT TO DO: ${inert(briefing.action)}`, ''] : []),
    `WHAT FIRED: ${inert(describeTrigger(trigger))}`,
    `TARGET: ${target}`,
    `MODE: ${inert(incident?.mode ?? runbook.mode)}`,
    `WHAT MEDIC SAW: ${plan ? inert(`${plan.reason}; plan: ${plan.summary}`) : 'no plan was made'}`,
    ...describeActions(record, reachedAct(state)).map((l) => inert(l)),
    ...(verify ? [`VERIFICATION: ${verify.status} after ${verify.checks} check(s): ${inert(verify.reason)}`] : []),
    ...(verify?.lastReadings && Object.keys(verify.lastReadings).length > 0
      ? [`MEASURED: ${inert(JSON.stringify(verify.lastReadings), MAX_MEASURED_CHARS)}`] : []),
    `WHAT FAILED: ${inert(diagnosis)}`,
    ...extra.map((l) => inert(l)),
    ...(briefing && briefing.facts.length > 0 ? ['', 'ABOUT THE TARGET:', ...briefing.facts.map((fact) => `  ${inert(fact)}`)] : []),
    '',
    'LOOK IT UP:',
    `  incident ${incidentId}`,
    `  aws dynamodb query --table-name ${ledgerTable} --key-condition-expression "pk = :pk" ` +
      `--expression-attribute-values '{":pk":{"S":"INCIDENT#${incidentId}"}}'`,
    `  execution ${execution.id}`,
    `  ${consoleUrl(execution.id, runbook.region)}`,
  ];
  const subject = inert(`[medic] ${runbook.name}: ${headline} (${targetOf?.id ?? 'no target'})`);
  return { subject: subject.length > 100 ? `${subject.slice(0, 97)}...` : subject, headline, diagnosis, action: briefing?.action, body: lines.join('\n') };
}
