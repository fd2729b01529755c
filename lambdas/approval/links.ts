import { randomBytes } from 'node:crypto';
import { PublishCommand } from '@aws-sdk/client-sns';
import { sha256Hex } from '../shared/canonical-json';
import { sns } from '../shared/clients';
import { InvalidStateError } from '../shared/errors';
import { logger } from '../shared/observability';
import { platformSettings } from '../shared/settings';
import type { WorkflowState } from '../shared/types';
import { isEmailApprover } from './principals';
import { composeRequest } from './request-message';
import { updateApproval, type ApprovalItem } from './store';

/**
 * One-click links: each email approver gets a link of its own to the approval page, holding a
 * random secret (256 bits). Only the secret's SHA-256 is stored (item `links`: hash -> address),
 * so reading the table does not give anyone a link. A link answers as its approver, once (one
 * vote per approver, or the rejection), and only while the request is pending and before its
 * deadline; a GET only shows the plan.
 */

/** The secret in a link: 32 random bytes, base64url (43 characters). */
export const LINK_SECRET = /^[A-Za-z0-9_-]{43}$/;

export const linkHash = (secret: string): string => sha256Hex(secret);

/** The approver a link's secret belongs to, or undefined for a link this request never sent. */
export function linkOwner(item: Pick<ApprovalItem, 'links'>, secret: string): string | undefined {
  if (!LINK_SECRET.test(secret)) return undefined;
  const owner = item.links?.[linkHash(secret)];
  return typeof owner === 'string' ? owner : undefined;
}

export function linkUrl(pageUrl: string, incidentId: string, secret: string): string {
  return `${pageUrl.replace(/\/+$/, '')}/links/${encodeURIComponent(incidentId)}/${secret}`;
}

/** The links topic, when a runbook with email approvers can send links; an error otherwise (never a request nobody can answer). */
export function checkLinksCanBeSent(runbook: string, approvers: readonly string[], pageUrl: string | undefined): string | undefined {
  if (!approvers.some(isEmailApprover)) return undefined;
  const topicArn = process.env.MEDIC_APPROVAL_LINKS_TOPIC;
  if (!pageUrl || !topicArn) {
    throw new InvalidStateError(`runbook ${runbook} lists email approvers but the stack has no approval page or links topic; not asking (redeploy the stack)`);
  }
  return topicArn;
}

/**
 * Sends each email approver its link, in a message published to the links topic with the message
 * attribute `approver` (each address's subscription filters on it, so a link reaches only its
 * approver). New secrets replace the stored hashes first, conditionally on the request still
 * pending and not sent yet: a retried request task sends fresh links, and links of an attempt
 * that did not finish sending stop working. Returns the number of links sent.
 */
export async function sendLinks(state: WorkflowState, item: ApprovalItem, pageUrl: string | undefined): Promise<number> {
  const emails = item.approvers.filter(isEmailApprover);
  if (emails.length === 0 || item.linksSentAt) return 0;
  const settings = platformSettings();
  const topicArn = checkLinksCanBeSent(item.runbook, item.approvers, pageUrl)!;
  const secrets = emails.map((email) => ({ email, secret: randomBytes(32).toString('base64url') }));
  const links = Object.fromEntries(secrets.map(({ email, secret }) => [linkHash(secret), email]));
  const stored = await updateApproval(settings.limiterTable, item.incidentId, 'SET links = :links', '#status = :pending AND attribute_not_exists(linksSentAt)',
    { ':links': links, ':pending': 'pending' });
  if (!stored) return 0; // answered meanwhile, or another attempt sent them
  for (const { email, secret } of secrets) {
    const message = composeRequest(state, stored, settings.stackName, settings.ledgerTable, { approver: email, link: linkUrl(pageUrl!, item.incidentId, secret) });
    await sns().send(new PublishCommand({
      TopicArn: topicArn, Subject: message.subject, Message: message.body,
      MessageAttributes: { approver: { DataType: 'String', StringValue: email } },
    }));
  }
  await updateApproval(settings.limiterTable, item.incidentId, 'SET linksSentAt = :at', 'attribute_exists(pk)', { ':at': new Date().toISOString() });
  logger.info('approval links sent', { incidentId: item.incidentId, links: secrets.length });
  return secrets.length;
}
