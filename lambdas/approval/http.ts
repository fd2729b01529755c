import type { LambdaFunctionURLEventWithIAMAuthorizer, LambdaFunctionURLResult } from 'aws-lambda';
import { describeError } from '../shared/errors';
import { logger } from '../shared/observability';
import { platformSettings } from '../shared/settings';
import { decide, type Decision } from './decide';
import { readApproval, pendingApprovals, votesOf, type ApprovalItem } from './store';

/** What every answer carries: a status code and a one-line message, plus what was asked for. */
export type ApiAnswer = { readonly statusCode: number; readonly message: string } & Record<string, unknown>;

/** The function URL's response: JSON with the status code and the answer. */
export function respond(answer: ApiAnswer): LambdaFunctionURLResult {
  const { statusCode, ...body } = answer;
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statusCode, ...body }) };
}

export const INCIDENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$/;
const HASH = /^[0-9a-f]{64}$/;
const MAX_TEXT = 1000;

const bad = (message: string): ApiAnswer => ({ statusCode: 400, message });

/** Pending requests, without their tokens. */
function summaryOf(item: ApprovalItem) {
  return {
    incidentId: item.incidentId, runbook: item.runbook, target: item.target, targetId: item.targetId, planHash: item.planHash,
    requestedAt: item.requestedAt, expiresAt: item.deadline, status: item.status, minApprovals: item.minApprovals, approvals: votesOf(item),
  };
}

/** One request in full (the plan a human approves), without its token. */
function viewOf(item: ApprovalItem) {
  return {
    ...summaryOf(item), approvers: item.approvers, decision: item.decision, summary: item.summary, reason: item.reason,
    plannedCalls: item.plannedCalls, ...(item.details ? { details: item.details } : {}), ...(item.rejection ? { rejection: item.rejection } : {}),
  };
}

/** The POST body, checked field by field: a bad body is a 400 naming what is wrong. */
function parseDecision(event: LambdaFunctionURLEventWithIAMAuthorizer): Decision | ApiAnswer {
  if (!event.body) return bad('the body must be JSON: { "decision": "approve" | "reject", "planHash": "<64 hex>", "comment"?: "...", "reason"?: "..." }');
  let body: unknown;
  try {
    body = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body);
  } catch {
    return bad('the body is not JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return bad('the body must be a JSON object');
  return checkDecision(body as Record<string, unknown>);
}

/** An answer's fields (from JSON or a form), checked: a decision, the plan hash, and a reason for a rejection. */
export function checkDecision(fields: Record<string, unknown>): Decision | ApiAnswer {
  const { decision, planHash, comment, reason } = fields;
  if (decision !== 'approve' && decision !== 'reject') return bad('"decision" must be "approve" or "reject"');
  if (typeof planHash !== 'string' || !HASH.test(planHash)) return bad('"planHash" must be the plan\'s hash (64 lowercase hex characters) shown with the request');
  for (const [name, value] of [['comment', comment], ['reason', reason]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.length > MAX_TEXT)) return bad(`"${name}" must be a string of at most ${MAX_TEXT} characters`);
  }
  if (decision === 'reject' && (typeof reason !== 'string' || reason.trim() === '')) return bad('a rejection needs a "reason"');
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined);
  return { decision, planHash, comment: text(comment), reason: text(reason) };
}

async function route(event: LambdaFunctionURLEventWithIAMAuthorizer, actor: string): Promise<ApiAnswer> {
  const method = event.requestContext?.http?.method ?? '';
  const path = (event.rawPath ?? event.requestContext?.http?.path ?? '').replace(/\/+$/, '');
  const caller = event.requestContext?.authorizer?.iam?.userArn;
  if (!caller) return { statusCode: 403, message: 'the caller is not known: call with IAM (SigV4) authentication' };
  const { limiterTable } = platformSettings();
  if (path === '/approvals') {
    if (method !== 'GET') return bad(`${method} /approvals is not a route: GET /approvals, GET or POST /approvals/<incidentId>`);
    const now = Date.now();
    const items = (await pendingApprovals(limiterTable)).filter((i) => Date.parse(i.deadline) > now);
    return { statusCode: 200, message: `${items.length} approval request(s) pending`, approvals: items.map(summaryOf) };
  }
  const match = /^\/approvals\/([^/]+)$/.exec(path);
  if (!match) return bad(`${method} ${path || '/'} is not a route: GET /approvals, GET or POST /approvals/<incidentId>`);
  let incidentId: string;
  try {
    incidentId = decodeURIComponent(match[1]);
  } catch {
    return bad('the incident id in the path is not valid URL encoding');
  }
  if (!INCIDENT_ID.test(incidentId)) return bad('the incident id in the path is not an incident id');
  if (method === 'GET') {
    const item = await readApproval(limiterTable, incidentId);
    if (!item) return { statusCode: 404, message: `no approval request for incident ${incidentId}` };
    return { statusCode: 200, message: `approval request for ${incidentId}: ${item.status}`, approval: viewOf(item) };
  }
  if (method !== 'POST') return bad(`${method} /approvals/<incidentId> is not a route: GET or POST`);
  const decision = parseDecision(event);
  if ('statusCode' in decision) return decision;
  return decide(incidentId, caller, decision, actor);
}

/** The function URL entry (payload format 2.0, AuthType AWS_IAM): never throws, every failure is an answer. */
export async function handleHttp(event: LambdaFunctionURLEventWithIAMAuthorizer, actor: string): Promise<LambdaFunctionURLResult> {
  try {
    return respond(await route(event, actor));
  } catch (error) {
    logger.error('approval API failed', { error: describeError(error) });
    return respond({ statusCode: 500, message: `medic could not answer: ${describeError(error)}; read the request (GET) before trying again` });
  }
}
