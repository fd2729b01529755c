import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { sns } from '../shared/clients';
import { closeDigest } from '../shared/denial-digest';
import { describeError, InvalidStateError } from '../shared/errors';
import { inert } from '../shared/inert-text';
import { actorName, logger } from '../shared/observability';
import { markPaged } from '../shared/page-marks';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { WorkflowState } from '../shared/types';

/** The task the workflow runs after the digest window of the incident that opened it. */
export interface DigestRequest {
  readonly sendDigest: true;
  readonly state: WorkflowState;
}

export interface DigestResult {
  readonly published: boolean;
  readonly denials: number;
  readonly messageId?: string;
}

/**
 * Sends the storm digest the incident opened: one page listing every denial that joined it, and
 * a `digest-sent` entry on the opening incident's chain naming them. Nothing joined: no page.
 */
export async function sendDigest(request: DigestRequest, context?: Context): Promise<DigestResult> {
  const { state } = request;
  if (!state?.incident || !state.runbook) throw new InvalidStateError('the digest request has no incident');
  const settings = platformSettings();
  const closed = await closeDigest(settings.limiterTable, state.runbook.name, state.incident.incidentId);
  const denials = closed.members.length + closed.unlisted;
  // Nothing joined: no page, and nothing to record.
  if (denials === 0) return { published: false, denials };
  const byCategory = new Map<string, number>();
  for (const m of closed.members) byCategory.set(m.category, (byCategory.get(m.category) ?? 0) + 1);
  const subject = inert(`[medic] ${state.runbook.name}: ${denials} more denial(s) in the storm digest`).slice(0, 100);
  const body = [
    `medic runbook ${state.runbook.name}: ${denials} more incident(s) were denied after ${inert(state.incident.incidentId)} (paged at ${closed.openedAt ?? 'the window start'}).`,
    'None of them acted. Each is in the ledger (entry "digested"); this is the only page for them.',
    `BY REASON: ${[...byCategory.entries()].map(([c, n]) => `${c} ${n}`).join(', ')}${closed.unlisted ? `, and ${closed.unlisted} not listed` : ''}`,
    '',
    ...closed.members.map((m) => `  ${inert(m.at)} ${inert(m.incidentId)} ${inert(m.target)}: ${inert(m.category)}: ${inert(m.reason, 200)}`),
    ...(closed.unlisted ? [`  ... and ${closed.unlisted} more (see the ledger's "digested" entries)`] : []),
  ].join('\n');
  const mark = `digest-${state.incident.incidentId}`;
  const marked = await markPaged(settings.pageMarksBucket, mark, { execution: state.execution.id, denials });
  let messageId: string | undefined;
  if (marked.state !== 'exists') {
    try {
      messageId = (await sns().send(new PublishCommand({ TopicArn: settings.topicArn, Subject: subject, Message: body }))).MessageId;
    } catch (error) {
      await record(state, 'digest-sent', actorName(context), { denials, published: false, publishError: describeError(error) }).catch(() => undefined);
      throw new Error(`the storm digest could not be published: ${describeError(error)}`, { cause: error });
    }
  }
  try {
    await record(state, 'digest-sent', actorName(context), {
      denials, published: messageId !== undefined, ...(messageId ? { messageId } : { alreadyPaged: true }), incidents: closed.members.map((m) => m.incidentId),
    });
  } catch (error) {
    logger.error('digest not recorded', { error: describeError(error) });
  }
  return { published: messageId !== undefined, denials, ...(messageId ? { messageId } : {}) };
}
