import { inert, inertJson } from '../shared/inert-text';
import { describeTrigger } from '../shared/trigger';
import type { PlannedCall, WorkflowState } from '../shared/types';
import { isEmailApprover } from './principals';
import type { ApprovalItem } from './store';

const MAX_EVIDENCE_CHARS = 1500;
const MAX_LISTED_CALLS = 40;

/** What the plan would touch: its distinct call targets and covered resources, besides the incident's target. */
export function blastRadius(calls: readonly PlannedCall[], resources: readonly string[] = []): { targets: string[]; batches: number } {
  const targets = [...new Set([...calls.map((c) => c.target), ...resources])];
  return { targets, batches: new Set(calls.map((c) => c.batch)).size };
}

/** What the request waits for and what happens without an answer: a veto window acts on silence. */
export function whatHappens(item: Pick<ApprovalItem, 'minApprovals' | 'deadline' | 'onTimeout'>): string {
  if (item.onTimeout === 'act') {
    return `Nothing has been done yet. VETO WINDOW: unless an approver rejects this plan before ${item.deadline}, medic acts on it then (after making it again: a changed plan is not acted on); `
      + `${item.minApprovals} approval(s) let it act sooner.`;
  }
  return `Nothing has been done. medic acts only if ${item.minApprovals} approver(s) approve this exact plan (hash below) before ${item.deadline}; otherwise it does not act and escalates.`;
}

/**
 * The approval request a human reads: what fired, the evidence, the exact calls, how far they
 * reach, the hash an approval binds to, the deadline, and the commands that answer. Every value
 * from outside medic (alarm names, targets, the plan's readings) is made inert.
 */
export function composeRequest(
  state: WorkflowState, item: ApprovalItem, stackName: string, ledgerTable: string, personal?: { readonly approver: string; readonly link: string },
): { subject: string; body: string } {
  const { runbook, incident, plan } = state;
  const target = incident!.target!;
  const calls = plan!.plannedCalls ?? [];
  const radius = blastRadius(calls, plan!.resources);
  const id = inert(item.incidentId);
  const listed = calls.slice(0, MAX_LISTED_CALLS).map((c) => `  batch ${c.batch + 1}: ${inert(c.service)} ${inert(c.operation)} ${inert(c.target)}`);
  const lines = [
    `medic runbook ${runbook.name}: APPROVAL NEEDED before acting`,
    '',
    whatHappens(item),
    '',
    `WHAT FIRED: ${inert(describeTrigger(incident!.trigger))}`,
    `TARGET: ${inert(target.type)} ${inert(target.id)} (${inert(target.arn)})`,
    `EVIDENCE: ${inert(plan!.reason)}`,
    ...(Object.keys(plan!.details ?? {}).length > 0 ? [`READINGS: ${inertJson(plan!.details, MAX_EVIDENCE_CHARS)}`] : []),
    `PLAN: ${inert(plan!.summary)}`,
    `PLANNED CALLS (${calls.length}):`,
    ...(listed.length ? listed : ['  none listed']),
    ...(calls.length > MAX_LISTED_CALLS ? [`  and ${calls.length - MAX_LISTED_CALLS} more (see the ledger entry "planned")`] : []),
    `BLAST RADIUS: ${calls.length} call(s) in ${radius.batches} batch(es) on ${radius.targets.length} resource(s)`
      + `${radius.targets.length ? `: ${inert(radius.targets.slice(0, 20).join(', '), 1000)}` : ''}`,
    `PLAN HASH: ${item.planHash}`,
    `DEADLINE: ${item.deadline}`,
    `APPROVERS (${item.minApprovals} distinct needed): ${item.approvers.join(', ')}`,
    '',
    ...(personal ? [
      `YOUR LINK (for ${inert(personal.approver)} alone, single use, until the deadline):`,
      `  ${personal.link}`,
      'Opening it only shows the plan; the Approve and Reject buttons on the page answer. Do not forward this message: whoever holds the link answers as you.',
    ] : [
      'TO APPROVE (as one of the approvers):',
      `  medic approve ${id} --stack ${stackName}`,
      'TO REJECT:',
      `  medic reject ${id} --reason "..." --stack ${stackName}`,
      ...(item.approvers.some(isEmailApprover) ? ['Approvers listed by email address answer with the link each received in a message of their own.'] : []),
    ]),
    'The plan is made again right before acting; if it changed, medic does not act and escalates.',
    '',
    'LOOK IT UP:',
    `  incident ${id}`,
    `  aws dynamodb query --table-name ${ledgerTable} --key-condition-expression "pk = :pk" `
      + `--expression-attribute-values '{":pk":{"S":"INCIDENT#${id}"}}'`,
    `  execution ${state.execution.id}`,
  ];
  const subject = inert(`[medic] ${runbook.name}: APPROVAL NEEDED (${target.id})`);
  return { subject: subject.length > 100 ? `${subject.slice(0, 97)}...` : subject, body: lines.join('\n') };
}
