import { inert } from '../shared/inert-text';
import type { WorkflowState } from '../shared/types';
import { isEmailApprover } from './principals';
import { blastRadius, whatHappens } from './request-message';
import type { ApprovalItem } from './store';

const MAX_LISTED_CALLS = 10;
const MAX_DESCRIPTION_CHARS = 3500;

/**
 * Untrusted text inside a markdown code span: inert (no control characters), without backticks
 * (which would end the span), so an alarm or resource name cannot add links or formatting.
 */
const code = (text: unknown, max = 200): string => `\`${inert(text, max).replace(/`/g, "'")}\``;

/**
 * The approval request as an Amazon Q Developer in chat applications custom notification
 * (`version` 1.0, `source` custom, `client-markdown` content), for the extra topics of a runbook's
 * approval. It shows what fired, the plan, its hash and deadline, and how to answer; the answer
 * itself goes through `medic approve`/`medic reject` or an approver's own link, because a chat
 * button runs under the channel's role and cannot tell which person pressed it.
 */
export function chatNotification(state: WorkflowState, item: ApprovalItem, stackName: string): string {
  const calls = item.plannedCalls;
  const radius = blastRadius(calls, state.plan?.resources);
  const listed = calls.slice(0, MAX_LISTED_CALLS).map((c) => `• batch ${c.batch + 1}: ${code(`${c.service} ${c.operation} ${c.target}`, 300)}`);
  const description = [
    whatHappens(item),
    `*What fired:* ${code(item.fired ?? '', 300)}`,
    `*Target:* ${code(item.targetId)}`,
    `*Evidence:* ${code(item.reason, 500)}`,
    `*Plan:* ${code(item.summary, 500)}`,
    `*Planned calls (${calls.length}):*`,
    ...(listed.length ? listed : ['• none listed']),
    ...(calls.length > MAX_LISTED_CALLS ? [`• and ${calls.length - MAX_LISTED_CALLS} more (ledger entry "planned")`] : []),
    `*Blast radius:* ${calls.length} call(s) in ${radius.batches} batch(es) on ${radius.targets.length} resource(s)`,
    `*Plan hash:* \`${item.planHash}\``,
  ].join('\n');
  const id = inert(item.incidentId);
  const emails = item.approvers.some(isEmailApprover);
  return JSON.stringify({
    version: '1.0',
    source: 'custom',
    id: item.incidentId,
    content: {
      textType: 'client-markdown',
      title: `medic ${item.runbook}: approval needed (${inert(item.targetId, 80).replace(/`/g, "'")})`,
      description: description.length > MAX_DESCRIPTION_CHARS ? `${description.slice(0, MAX_DESCRIPTION_CHARS - 1)}…` : description,
      nextSteps: [
        `Approve: \`medic approve ${id} --stack ${stackName}\``,
        `Reject: \`medic reject ${id} --reason "..." --stack ${stackName}\``,
        ...(emails ? ['Approvers listed by email address: use the link sent to you alone.'] : []),
        item.onTimeout === 'act' ? `No rejection by ${item.deadline}: medic acts (veto window).` : `No answer by ${item.deadline}: medic does not act and escalates.`,
      ],
      keywords: ['medic', item.runbook, 'approval'],
    },
    metadata: {
      threadId: item.incidentId,
      summary: `medic ${item.runbook}: approval needed`,
      eventType: 'medic.approval-requested',
      relatedResources: [item.target],
      additionalContext: { incidentId: item.incidentId, runbook: item.runbook, planHash: item.planHash, deadline: item.deadline, execution: item.execution },
      enableCustomActions: true,
    },
  });
}
