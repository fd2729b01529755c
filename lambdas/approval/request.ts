import { PublishCommand } from '@aws-sdk/client-sns';
import { canonicalJson } from '../shared/canonical-json';
import { sns } from '../shared/clients';
import { InvalidStateError } from '../shared/errors';
import { logger } from '../shared/observability';
import { planHash } from '../shared/plan-hash';
import { platformSettings } from '../shared/settings';
import type { WorkflowState } from '../shared/types';
import { describeTrigger } from '../shared/trigger';
import { chatNotification } from './chat-message';
import { checkLinksCanBeSent, sendLinks } from './links';
import { composeRequest } from './request-message';
import { approvalKey, createApproval, readApproval, updateApproval, type ApprovalItem } from './store';
import { recordOn } from './trail';

/** What Step Functions sends with `.waitForTaskToken`. */
export interface ApprovalRequest {
  readonly action: 'request';
  readonly taskToken: string;
  readonly state: WorkflowState;
  /** The approval page's URL (given by the workflow when the runbook has email approvers). */
  readonly pageUrl?: string;
}

/** Answered requests and expired ones are kept a day past the deadline, then TTL removes them. */
const KEEP_AFTER_DEADLINE_SECONDS = 86400;
/** Evidence kept on the item for the API; larger evidence is read from the ledger. */
const MAX_ITEM_DETAILS_BYTES = 16 * 1024;

function checkRequest(request: ApprovalRequest): void {
  const { state } = request;
  if (typeof request.taskToken !== 'string' || request.taskToken === '') throw new InvalidStateError('an approval request needs the task token');
  if (!state?.runbook?.approval) throw new InvalidStateError('an approval request needs a runbook with an approval gate');
  if (state.incident?.status !== 'received' || !state.incident.target) throw new InvalidStateError('an approval request needs a received incident with a target');
  if (state.admission?.admitted !== true) throw new InvalidStateError('an approval request needs an admitted incident');
  if (state.plan?.decision !== 'act') throw new InvalidStateError('only a plan that decided to act needs an approval');
  checkLinksCanBeSent(state.runbook.name, state.runbook.approval.approvers, request.pageUrl);
}

function newItem(request: ApprovalRequest, now: number): ApprovalItem {
  const { state, taskToken } = request;
  const { approval } = state.runbook;
  const incident = state.incident!;
  const plan = state.plan!;
  const deadline = now + approval!.timeoutSeconds * 1000;
  const detailsFit = Buffer.byteLength(canonicalJson(plan.details ?? {}), 'utf8') <= MAX_ITEM_DETAILS_BYTES;
  return {
    pk: approvalKey(incident.incidentId),
    incidentId: incident.incidentId,
    taskToken,
    planHash: planHash(state),
    runbook: state.runbook.name,
    target: incident.target!.arn,
    targetId: incident.target!.id,
    mode: incident.mode,
    execution: state.execution.id,
    approvers: [...approval!.approvers],
    minApprovals: approval!.minApprovals,
    requestedAt: new Date(now).toISOString(),
    deadline: new Date(deadline).toISOString(),
    expiresAt: Math.floor(deadline / 1000) + KEEP_AFTER_DEADLINE_SECONDS,
    status: 'pending',
    approvals: {},
    decision: plan.decision,
    summary: plan.summary,
    reason: plan.reason,
    plannedCalls: plan.plannedCalls ?? [],
    fired: describeTrigger(incident.trigger),
    ...(approval!.onTimeout === 'act' ? { onTimeout: 'act' as const } : {}),
    ...(detailsFit ? { details: plan.details ?? {} } : {}),
  };
}

/**
 * A retried request task (Step Functions retries a Lambda service error) for the same execution
 * and plan takes over the stored request with its new token; anything else is a second request
 * for one incident, which is refused.
 */
async function resume(table: string, fresh: ApprovalItem): Promise<ApprovalItem> {
  const existing = await readApproval(table, fresh.incidentId);
  if (!existing || existing.execution !== fresh.execution || existing.planHash !== fresh.planHash || existing.status !== 'pending') {
    throw new InvalidStateError(`an approval request for incident ${fresh.incidentId} exists already (${existing?.status ?? 'gone'}, plan ${existing?.planHash ?? '?'}); not asking again`);
  }
  const updated = await updateApproval(table, fresh.incidentId, 'SET taskToken = :token', '#status = :pending', { ':token': fresh.taskToken, ':pending': 'pending' });
  if (!updated) throw new InvalidStateError(`the approval request for incident ${fresh.incidentId} was answered while it was being asked again`);
  return updated;
}

/**
 * The `request` entry: stores the request (conditional on none existing), records
 * `approval-requested`, and publishes the request to the escalation topic. Step Functions then
 * waits for the token; nothing returned here is used.
 */
export async function requestApproval(request: ApprovalRequest, actor: string, now = Date.now()): Promise<{ planHash: string; deadline: string }> {
  checkRequest(request);
  const settings = platformSettings();
  const fresh = newItem(request, now);
  const item = (await createApproval(settings.limiterTable, fresh)) ? fresh : await resume(settings.limiterTable, fresh);
  if (!item.recordedAt) {
    await recordOn(item, 'approval-requested', actor, {
      planHash: item.planHash, approvers: item.approvers, minApprovals: item.minApprovals, requestedAt: item.requestedAt, expiresAt: item.deadline,
      plannedCalls: item.plannedCalls, summary: item.summary,
    });
    await updateApproval(settings.limiterTable, item.incidentId, 'SET recordedAt = :at', 'attribute_exists(pk)', { ':at': new Date().toISOString() });
  }
  if (!item.notifiedAt) {
    const message = composeRequest(request.state, item, settings.stackName, settings.ledgerTable);
    const out = await sns().send(new PublishCommand({ TopicArn: settings.topicArn, Subject: message.subject, Message: message.body }));
    // Chat topics: the same request as an Amazon Q Developer custom notification; email subscribers get the text.
    const chat = chatNotification(request.state, item, settings.stackName);
    for (const topicArn of request.state.runbook.approval?.topicArns ?? []) {
      await sns().send(new PublishCommand({
        TopicArn: topicArn, Subject: message.subject, MessageStructure: 'json', Message: JSON.stringify({ default: chat, email: message.body }),
      }));
    }
    logger.info('approval requested', { incidentId: item.incidentId, planHash: item.planHash, messageId: out.MessageId });
    await updateApproval(settings.limiterTable, item.incidentId, 'SET notifiedAt = :at', 'attribute_exists(pk)', { ':at': new Date().toISOString() });
  }
  await sendLinks(request.state, item, request.pageUrl);
  return { planHash: item.planHash, deadline: item.deadline };
}
