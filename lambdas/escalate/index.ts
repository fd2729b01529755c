import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { sns } from '../shared/clients';
import { joinDigest, type DigestRole } from '../shared/denial-digest';
import { describeError } from '../shared/errors';
import { readIncident, type LedgerEntry } from '../shared/ledger';
import { releaseIncidentLeases } from '../shared/leases';
import { actorName, countFor, countIncident, logger } from '../shared/observability';
import { markPaged, unmarkPaged, type MarkOutcome } from '../shared/page-marks';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { WorkflowState } from '../shared/types';
import { parseEvent } from '../validate/parse';
import { actionRecord } from './action-record';
import { sendDigest, type DigestRequest } from './digest';
import { composeEscalation, type RawEventFacts } from './message';

export interface EscalationResult {
  readonly published: boolean;
  readonly recorded: boolean;
  readonly headline: string;
  readonly diagnosis: string;
  /** The SNS message id, when this invocation published. */
  readonly messageId?: string;
  /** This incident's page was already sent (a redelivery, or a retry after publishing). */
  readonly alreadyPaged?: boolean;
  /** Set when the denial opened or joined the runbook's storm digest. */
  readonly digest?: DigestRole;
}

/** Admission denials that a storm produces many of; a guard that could not be read (DynamoDB down) never joins a digest. */
const DIGESTED_CATEGORIES = new Set(['kill-switch', 'change-freeze', 'target-busy', 'blast-radius', 'rate-limit', 'mode']);
const DEFAULT_DIGEST_SECONDS = 600;

/** With no incident in the state (Validate failed: the ledger may be down), what fired is read from the raw event. */
function rawEventFacts(state: WorkflowState): RawEventFacts {
  if (state.incident) return {};
  try {
    const parsed = parseEvent(state.event, state.runbook, state.execution);
    return parsed.ok ? { trigger: parsed.trigger, target: parsed.target, incidentId: parsed.incidentId } : {};
  } catch {
    return {};
  }
}

async function ledgerEntries(state: WorkflowState, ledgerTable: string): Promise<{ entries?: LedgerEntry[]; error?: string }> {
  if (!state.incident) return { error: 'the workflow stopped before the incident was recorded' };
  try {
    return { entries: await readIncident(ledgerTable, state.incident.incidentId) };
  } catch (error) {
    return { error: describeError(error) };
  }
}

/** Whether this escalation is an admission denial a storm digest can take, and which digest it joins. */
async function digestRole(state: WorkflowState, limiterTable: string): Promise<DigestRole | undefined> {
  const { admission, incident, runbook } = state;
  if (!incident?.target || admission?.admitted !== false || state.error || !DIGESTED_CATEGORIES.has(admission.category ?? '')) return undefined;
  try {
    return await joinDigest(limiterTable, runbook.name, {
      incidentId: incident.incidentId, target: incident.target.id, category: admission.category!, reason: (admission.reason ?? '').slice(0, 300), at: new Date().toISOString(),
    }, runbook.policy.denialDigestSeconds ?? DEFAULT_DIGEST_SECONDS);
  } catch (error) {
    // Without the digest, this denial pages on its own: a page too many beats one too few.
    logger.warn('storm digest unavailable', { error: describeError(error) });
    return undefined;
  }
}

/**
 * "Escalate": tells a human, then records what happened. The page says what the ledger proves
 * medic did; it is published once per incident (a page mark in S3, independent of the ledger);
 * the `escalated` entry is written after publishing and holds the message id or the failure. A
 * denial during a storm joins the runbook's digest instead of paging on its own. Leases are
 * released whatever else fails; the step fails only when nobody could be told.
 */
export async function handler(request: WorkflowState | DigestRequest, context?: Context): Promise<EscalationResult | Awaited<ReturnType<typeof sendDigest>>> {
  if ('sendDigest' in request) return sendDigest(request, context);
  const state = request;
  const settings = platformSettings();
  const actor = actorName(context);
  const raw = rawEventFacts(state);
  const { entries, error: ledgerError } = await ledgerEntries(state, settings.ledgerTable);
  const facts = actionRecord(entries, state, ledgerError);
  const digest = await digestRole(state, settings.limiterTable);

  if (digest?.role === 'member') {
    const escalation = composeEscalation(state, settings.ledgerTable, facts, raw);
    let recorded = false;
    try {
      await record(state, 'digested', actor, { headline: escalation.headline, diagnosis: escalation.diagnosis, digestOwner: digest.owner, sentBy: digest.until });
      recorded = true;
    } catch (error) {
      logger.warn('digest membership not recorded', { error: describeError(error) });
    }
    await releaseLeases(state, settings.limiterTable);
    countFor(state.runbook.name, 'Escalations');
    countIncident(state.runbook.name, 'escalated');
    return { published: false, recorded, headline: escalation.headline, diagnosis: escalation.diagnosis, digest };
  }

  const extra = digest?.role === 'owner'
    ? [`STORM DIGEST: further denials of ${state.runbook.name} until ${digest.until} are sent as one digest page, not one page each.`] : [];
  const escalation = composeEscalation(state, settings.ledgerTable, facts, raw, extra);
  // One page per incident. Deliveries that failed before the incident was claimed (the ledger down)
  // share a mark of their own: the execution that later claims the incident still pages if it escalates.
  const mark = state.incident ? state.incident.incidentId
    : raw.incidentId ? `unclaimed-${raw.incidentId}` : `execution-${state.execution.name}`;
  const marked: MarkOutcome = await markPaged(settings.pageMarksBucket, mark, { execution: state.execution.id, headline: escalation.headline, at: new Date().toISOString() });
  let published = false;
  let messageId: string | undefined;
  let publishError: string | undefined;
  if (marked.state !== 'exists') {
    try {
      const body = entries || state.incident ? escalation.body : `${escalation.body}\n\nALSO: the ledger could not be read or written (${ledgerError}); this page is built from the event and the workflow state.`;
      messageId = (await sns().send(new PublishCommand({ TopicArn: settings.topicArn, Subject: escalation.subject, Message: body }))).MessageId;
      published = true;
    } catch (error) {
      publishError = describeError(error);
      if (marked.state === 'new') await unmarkPaged(settings.pageMarksBucket, mark).catch((e: unknown) => logger.error('page mark not removed', { error: describeError(e) }));
    }
  }
  let recorded = false;
  if (state.incident) {
    try {
      await record(state, 'escalated', actor, {
        headline: escalation.headline, diagnosis: escalation.diagnosis, action: escalation.action, error: state.error,
        published, ...(messageId ? { messageId } : {}), ...(publishError ? { publishError } : {}),
        ...(marked.state === 'exists' ? { alreadyPaged: 'a page for this incident was already sent; not sent again' } : {}),
        ...(marked.state === 'unavailable' ? { pageMark: marked.reason } : {}),
        ...(digest ? { digestUntil: digest.until } : {}),
      });
      recorded = true;
    } catch (error) {
      logger.error('escalation not recorded', { error: describeError(error) });
    }
  }
  await releaseLeases(state, settings.limiterTable);
  if (!published && marked.state !== 'exists') {
    logger.error('escalation failed', { publishError });
    throw new Error(`escalation failed: the notification could not be published: ${publishError}`);
  }
  // Counted only once a human was told: the "failed without escalation" self-alarm subtracts
  // Escalations from the state machine's failed executions (lib/platform/self-monitoring.ts).
  countFor(state.runbook.name, 'Escalations');
  // A rejected event already counted as its own outcome in Validate.
  if (state.incident?.status !== 'rejected') countIncident(state.runbook.name, 'escalated');
  return {
    published, recorded, headline: escalation.headline, diagnosis: escalation.diagnosis,
    ...(messageId ? { messageId } : {}), ...(marked.state === 'exists' ? { alreadyPaged: true } : {}), ...(digest ? { digest } : {}),
  };
}

async function releaseLeases(state: WorkflowState, limiterTable: string): Promise<void> {
  try {
    await releaseIncidentLeases(state, limiterTable);
  } catch (error) {
    // Unreleased leases expire after the policy's leaseSeconds.
    logger.warn('leases not released', { error: describeError(error) });
  }
}
