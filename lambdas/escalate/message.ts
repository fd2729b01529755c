import { describeTrigger } from '../shared/trigger';
import type { WorkflowState } from '../shared/types';

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

/** What went wrong, from the most specific evidence in the state. */
function diagnose(state: WorkflowState): { headline: string; diagnosis: string } {
  const { incident, admission, plan, verify, rollback, error } = state;
  if (error) {
    const cause = causeText(error.Cause);
    if (error.Error === 'Medic.KillSwitchEngaged') return { headline: 'stopped by the kill switch', diagnosis: cause ?? error.Error };
    if (error.Error === 'Medic.ActOutcomeUnknown') return { headline: 'action outcome unknown', diagnosis: cause ?? error.Error };
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

const MAX_MEASURED_CHARS = 1500;

function consoleUrl(executionArn: string, region: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** A message a tired human can act on: what fired, what medic saw, did, and what failed, and where to look. */
export function composeEscalation(state: WorkflowState, ledgerTable: string): Escalation {
  const { runbook, incident, plan, act, verify, execution } = state;
  const { headline, diagnosis } = diagnose(state);
  const target = incident?.target ? `${incident.target.type} ${incident.target.id}` : 'unknown target';
  const trigger = incident?.trigger;
  const incidentId = incident?.incidentId ?? '(no incident)';
  const briefing = verify?.briefing ?? plan?.briefing;
  const lines = [
    `medic runbook ${runbook.name}: ${headline}`,
    '',
    ...(briefing ? [`WHAT TO DO: ${briefing.action}`, ''] : []),
    `WHAT FIRED: ${describeTrigger(trigger)}`,
    `TARGET: ${target}${incident?.target ? ` (${incident.target.arn})` : ''}`,
    `MODE: ${incident?.mode ?? runbook.mode}`,
    `WHAT MEDIC SAW: ${plan ? `${plan.reason}; plan: ${plan.summary}` : 'no plan was made'}`,
    `WHAT MEDIC DID: ${act ? act.summary : 'nothing: no mutating call was made'}`,
    ...(verify ? [`VERIFICATION: ${verify.status} after ${verify.checks} check(s): ${verify.reason}`] : []),
    ...(verify?.lastReadings && Object.keys(verify.lastReadings).length > 0
      ? [`MEASURED: ${JSON.stringify(verify.lastReadings).slice(0, MAX_MEASURED_CHARS)}`] : []),
    `WHAT FAILED: ${diagnosis}`,
    ...(briefing && briefing.facts.length > 0 ? ['', 'ABOUT THE TARGET:', ...briefing.facts.map((fact) => `  ${fact}`)] : []),
    '',
    'LOOK IT UP:',
    `  incident ${incidentId}`,
    `  aws dynamodb query --table-name ${ledgerTable} --key-condition-expression "pk = :pk" ` +
      `--expression-attribute-values '{":pk":{"S":"INCIDENT#${incidentId}"}}'`,
    `  execution ${execution.id}`,
    `  ${consoleUrl(execution.id, runbook.region)}`,
  ];
  const subject = `[medic] ${runbook.name}: ${headline} (${incident?.target?.id ?? 'no target'})`;
  return { subject: subject.length > 100 ? `${subject.slice(0, 97)}...` : subject, headline, diagnosis, action: briefing?.action, body: lines.join('\n') };
}
