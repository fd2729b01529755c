import { describeError } from '../shared/errors';
import { logger } from '../shared/observability';
import { platformSettings } from '../shared/settings';
import { closedMessage, decide } from './decide';
import { checkDecision, INCIDENT_ID } from './http';
import { linkOwner } from './links';
import { approvalPage, noticePage, type PageResponse } from './page-html';
import { whatHappens } from './request-message';
import { readApproval, votesOf, type ApprovalItem } from './store';

/** What the approval page function forwards of a browser's request (its function URL has no auth). */
export interface PageRequest {
  readonly action: 'page';
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

const LINK_PATH = /^\/links\/([^/]+)\/([^/]+)$/;
const MAX_FORM_BYTES = 8192;

const NOT_A_LINK = noticePage(404, 'Link not valid', 'This is not a valid approval link, or its request was removed (a day after its deadline). Nothing was done.');

/** The link's request and approver, or the page that says why there is none. */
async function resolveLink(path: string): Promise<{ item: ApprovalItem; approver: string } | PageResponse> {
  const match = LINK_PATH.exec(path);
  if (!match) return NOT_A_LINK;
  let incidentId: string;
  try {
    incidentId = decodeURIComponent(match[1]);
  } catch {
    return NOT_A_LINK;
  }
  if (!INCIDENT_ID.test(incidentId)) return NOT_A_LINK;
  const item = await readApproval(platformSettings().limiterTable, incidentId);
  const approver = item && linkOwner(item, match[2]);
  return item && approver ? { item, approver } : NOT_A_LINK;
}

/** Why this link shows no form any more (used, decided, expired), or undefined while it may answer. */
function closed(item: ApprovalItem, approver: string, now: number): PageResponse | undefined {
  const vote = item.approvals?.[approver];
  if (vote) return noticePage(409, 'Link already used', `You (${approver}) approved this plan at ${vote.at}. A link answers once. The request is ${item.status}.`);
  if (item.status === 'rejected') {
    const by = item.rejection?.principal === approver ? 'you' : item.rejection?.principal ?? 'an approver';
    return noticePage(409, 'Already rejected', `This plan was rejected by ${by} at ${item.decidedAt ?? 'an earlier time'}: medic did not act on it.`);
  }
  if (item.status === 'expired' || (item.status === 'pending' && now > Date.parse(item.deadline))) {
    return noticePage(410, 'Request expired', `${closedMessage(item)}.`);
  }
  if (item.status === 'approved') return noticePage(409, 'Already approved', `This plan was approved by ${votesOf(item).length} approver(s) at ${item.decidedAt ?? 'an earlier time'}; nothing is left to answer.`);
  return undefined;
}

function formFields(request: PageRequest): Record<string, string> | undefined {
  const raw = request.isBase64Encoded ? Buffer.from(request.body ?? '', 'base64').toString('utf8') : request.body ?? '';
  if (Buffer.byteLength(raw, 'utf8') > MAX_FORM_BYTES) return undefined;
  const fields: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    if (name in fields) return undefined; // a repeated field is not a form this page sends
    fields[name] = value;
  }
  return fields;
}

async function answer(request: PageRequest, actor: string): Promise<PageResponse> {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return noticePage(405, 'Not allowed', 'Open the link to see the plan; answer with the page\'s buttons.');
  const link = await resolveLink(request.path.replace(/\/+$/, ''));
  if ('statusCode' in link) return link;
  const { item, approver } = link;
  const votes = votesOf(item).length;
  const mine = item.approvals?.[approver];
  // Not a second use: completing a count whose send failed, or recording a vote an invocation left unrecorded (decide checks which).
  const retry = item.status === 'pending' && !!mine && (mine.recorded === false || votes >= item.minApprovals);
  const refused = retry && method === 'POST' ? undefined : closed(item, approver, Date.now());
  if (refused) return refused;
  if (method !== 'POST') {
    // Showing the plan never answers it: mail scanners and link previews only GET.
    return approvalPage({
      approver, runbook: item.runbook, target: item.target, fired: item.fired, reason: item.reason, summary: item.summary, details: item.details,
      plannedCalls: item.plannedCalls, planHash: item.planHash, deadline: item.deadline, minApprovals: item.minApprovals, approvals: votes, whatHappens: whatHappens(item),
    });
  }
  const fields = formFields(request);
  if (!fields) return noticePage(400, 'Not understood', 'The form could not be read. Open the link again and use its buttons.');
  const decision = checkDecision(fields);
  if ('statusCode' in decision) return noticePage(decision.statusCode, 'Not answered', decision.message);
  const result = await decide(item.incidentId, approver, decision, actor, 'link');
  const title = result.statusCode === 200 ? (decision.decision === 'approve' ? 'Approved' : 'Rejected') : 'Not answered';
  return noticePage(result.statusCode, title, result.message, `Runbook ${item.runbook}, incident ${item.incidentId}, target ${item.targetId}; you answered as ${approver}.`);
}

/** The approval page (`{ action: 'page' }` from the page function): never throws, every failure is a page. */
export async function handlePage(request: PageRequest, actor: string): Promise<PageResponse> {
  try {
    return await answer(request, actor);
  } catch (error) {
    logger.error('approval page failed', { error: describeError(error) });
    return noticePage(500, 'Not answered', 'medic could not answer just now. Nothing was decided by this attempt; open the link again to see the request\'s state.');
  }
}
