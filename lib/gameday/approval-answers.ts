import type { InvokeCommandInput, InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { isEmailApprover } from '../../lambdas/approval/principals';
import type { ApproverMessage } from './models/sns';
import type { TimelineEvent } from './scenario';

/** What the approval endpoint or page answered one timeline approve/reject. */
export interface ApprovalAnswer {
  readonly at: string;
  readonly as: string;
  readonly decision: 'approve' | 'reject';
  /** `api` for an IAM principal (`medic approve`), `link` for an email approver's page. */
  readonly channel: 'api' | 'link';
  readonly status: number;
  readonly message: string;
}

type ApprovalEvent = Extract<TimelineEvent, { kind: 'approval' }>;

/** A stale answer names another plan: a hash of the same form, not the one shown. */
const stale = (hash: string): string => [...hash].reverse().join('');

/**
 * A person's answer to an approval request, as it reaches the approval function:
 * - an IAM principal (`as` an ARN) through the approval endpoint (its function URL, signed in as
 *   `as`): lists the pending requests, then POSTs the answer;
 * - an email approver (`as` an address) through the approval page: opens the newest link the
 *   links topic delivered to that address (GET), then submits the page's form (POST), as the page
 *   function forwards them.
 */
export function approvalAnswerer(
  approvalFunction: () => string | undefined,
  invoke: (input: InvokeCommandInput) => Promise<InvokeCommandOutput>,
  linkMessages: () => readonly ApproverMessage[],
  answers: ApprovalAnswer[],
): (event: ApprovalEvent) => Promise<void> {
  const call = async (payload: unknown): Promise<{ status: number; body: string }> => {
    const functionName = approvalFunction();
    if (!functionName) throw new Error('the stack has no approval endpoint (no runbook in mode approve)');
    const out = await invoke({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) });
    const response = JSON.parse(Buffer.from(out.Payload as Uint8Array).toString('utf8') || '{}') as { statusCode?: number; body?: string; errorMessage?: string };
    if (out.FunctionError) throw new Error(`the approval function failed: ${response.errorMessage ?? 'unknown error'}`);
    return { status: response.statusCode ?? 200, body: response.body ?? '' };
  };

  const byApi = async (event: ApprovalEvent, record: (status: number, message: string) => void) => {
    const api = async (method: string, route: string, body?: unknown) => {
      const out = await call(functionUrlEvent(method, route, event.as, body));
      return { status: out.status, body: JSON.parse(out.body || '{}') as Record<string, any> };
    };
    const listed = await api('GET', '/approvals');
    const pending = ((listed.body.approvals ?? []) as Array<{ incidentId: string; runbook: string; planHash: string }>)
      .find((a) => event.runbook === undefined || a.runbook === event.runbook);
    if (!pending) {
      record(listed.status === 200 ? 404 : listed.status, String(listed.body.message ?? `no approval pending${event.runbook ? ` for ${event.runbook}` : ''}`));
      return;
    }
    const planHash = event.decision === 'approve' && event.planHash === 'stale' ? stale(pending.planHash) : pending.planHash;
    const body = event.decision === 'approve' ? { decision: 'approve', planHash, ...(event.comment ? { comment: event.comment } : {}) } : { decision: 'reject', planHash, reason: event.reason };
    const answer = await api('POST', `/approvals/${encodeURIComponent(pending.incidentId)}`, body);
    record(answer.status, String(answer.body.message ?? ''));
  };

  const byLink = async (event: ApprovalEvent, record: (status: number, message: string) => void) => {
    const messages = linkMessages().filter((m) => m.approver === event.as.toLowerCase() && (event.runbook === undefined || m.subject?.includes(` ${event.runbook}:`)));
    const link = /https:\/\/\S+\/links\/\S+/.exec(messages.at(-1)?.message ?? '')?.[0];
    if (!link) {
      record(404, `no approval link was sent to ${event.as}${event.runbook ? ` for ${event.runbook}` : ''}`);
      return;
    }
    const path = new URL(link).pathname;
    const page = await call({ action: 'page', method: 'GET', path });
    if (page.status !== 200) {
      record(page.status, noticeOf(page.body));
      return;
    }
    const shown = /name="planHash" value="([0-9a-f]{64})"/.exec(page.body)?.[1] ?? '';
    const planHash = event.decision === 'approve' && event.planHash === 'stale' ? stale(shown) : shown;
    const fields: Record<string, string> = event.decision === 'approve'
      ? { decision: 'approve', planHash, ...(event.comment ? { comment: event.comment } : {}) }
      : { decision: 'reject', planHash, reason: event.reason ?? '' };
    const answer = await call({ action: 'page', method: 'POST', path, body: new URLSearchParams(fields).toString(), isBase64Encoded: false });
    record(answer.status, noticeOf(answer.body));
  };

  return async (event) => {
    const channel = isEmailApprover(event.as) ? 'link' : 'api';
    const record = (status: number, message: string) => answers.push({ at: new Date().toISOString(), as: event.as, decision: event.decision, channel, status, message });
    await (channel === 'link' ? byLink(event, record) : byApi(event, record));
  };
}

/** The one message of a notice page (the answer, or why the link shows no form), as text. */
function noticeOf(html: string): string {
  const text = /<p class="notice"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? html.slice(0, 200);
  return text.replace(/<[^>]+>/g, '').replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

/** A function URL request (payload 2.0) signed in as `principal`, as AWS_IAM auth passes it on. */
function functionUrlEvent(method: string, path: string, principal: string, body?: unknown): Record<string, unknown> {
  const accountId = principal.split(':')[4] ?? '';
  return {
    version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '', headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId, requestId: `gameday-${Date.now()}`, http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'medic-gameday' },
      authorizer: { iam: { accessKey: 'ASIAGAMEDAY', accountId, callerId: 'gameday', principalOrgId: null, userArn: principal, userId: 'gameday' } },
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }), isBase64Encoded: false,
  };
}
