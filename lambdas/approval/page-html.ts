import { createHash } from 'node:crypto';
import { inert, inertJson } from '../shared/inert-text';
import type { PlannedCall } from '../shared/types';
import { blastRadius } from './request-message';

/** An HTML response of the page (a function URL result). */
export interface PageResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What the approval page shows of a pending request. */
export interface PageView {
  readonly approver: string;
  readonly runbook: string;
  readonly target: string;
  readonly fired?: string;
  readonly reason: string;
  readonly summary: string;
  readonly details?: Record<string, unknown>;
  readonly plannedCalls: readonly PlannedCall[];
  readonly planHash: string;
  readonly deadline: string;
  readonly minApprovals: number;
  readonly approvals: number;
  /** The request's line on what happens without an answer (see whatHappens). */
  readonly whatHappens: string;
}

const STYLE = [
  'body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#111;background:#fff}',
  'h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}',
  'code,pre{font:14px/1.4 ui-monospace,monospace;background:#f3f3f3;padding:.1rem .3rem;overflow-wrap:anywhere;white-space:pre-wrap}',
  'table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}',
  'form{margin:1rem 0;padding:1rem;border:1px solid #ccc}textarea{width:100%;box-sizing:border-box}',
  'button{font:inherit;padding:.5rem 1.2rem;margin-top:.5rem}.approve{background:#0a6b2d;color:#fff;border:0}.reject{background:#a11;color:#fff;border:0}',
  '.notice{padding:.8rem 1rem;border-left:4px solid #555;background:#f6f6f6}',
].join('');
const STYLE_HASH = createHash('sha256').update(STYLE, 'utf8').digest('base64');

/**
 * The page's headers: no script may run (none is sent, and the policy forbids any), forms post
 * only back to the page, it cannot be framed, is not cached, and sends no Referer (the link's
 * secret is in the URL).
 */
const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'x-robots-tag': 'noindex, nofollow',
};

/** Text for HTML: inert first (no control characters), then every markup character escaped. */
export function html(text: unknown, maxChars?: number): string {
  return escapeMarkup(inert(text, maxChars));
}

const escapeMarkup = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function document(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<meta name="referrer" content="no-referrer"><title>${html(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

export function pageResponse(statusCode: number, title: string, body: string): PageResponse {
  return { statusCode, headers: HEADERS, body: document(title, body) };
}

/** A page with one message: the answer to a POST, or why a link shows no form. */
export function noticePage(statusCode: number, title: string, message: string, context?: string): PageResponse {
  return pageResponse(statusCode, `medic: ${title}`,
    `<h1>${html(title)}</h1><p class="notice" id="answer">${html(message.charAt(0).toUpperCase() + message.slice(1))}</p>${context ? `<p>${html(context)} You can close this page.</p>` : ''}`);
}

/** The plan and the two forms. Both post back to this URL; nothing is decided by opening it. */
export function approvalPage(view: PageView): PageResponse {
  const radius = blastRadius(view.plannedCalls);
  const rows = view.plannedCalls.map((c) => `<tr><td>${c.batch + 1}</td><td><code>${html(c.service)} ${html(c.operation)}</code></td><td><code>${html(c.target)}</code></td></tr>`).join('');
  const hidden = `<input type="hidden" name="planHash" value="${html(view.planHash)}">`;
  const body = [
    `<h1>Approval needed: runbook ${html(view.runbook)}</h1>`,
    `<p class="notice">${html(view.whatHappens)} ${view.approvals} of ${view.minApprovals} approval(s) so far. You answer as <strong>${html(view.approver)}</strong>, once.</p>`,
    '<h2>What fired</h2>', `<p><code>${html(view.fired ?? 'unknown')}</code></p>`,
    '<h2>Target</h2>', `<p><code>${html(view.target)}</code></p>`,
    '<h2>Evidence</h2>', `<p>${html(view.reason, 2000)}</p>`,
    ...(view.details && Object.keys(view.details).length ? [`<pre>${escapeMarkup(inertJson(view.details, 4000))}</pre>`] : []),
    '<h2>Plan</h2>', `<p>${html(view.summary, 2000)}</p>`,
    `<table><caption>Planned calls</caption><thead><tr><th scope="col">Batch</th><th scope="col">Call</th><th scope="col">On</th></tr></thead><tbody>${rows || '<tr><td colspan="3">none listed</td></tr>'}</tbody></table>`,
    `<p>Blast radius: ${view.plannedCalls.length} call(s) in ${radius.batches} batch(es) on ${radius.targets.length} resource(s).</p>`,
    `<p>Plan hash: <code id="plan-hash">${html(view.planHash)}</code>. The plan is made again right before acting; if it changed, medic does not act and escalates.</p>`,
    `<form method="post" id="approve" aria-label="Approve this plan">${hidden}<input type="hidden" name="decision" value="approve">`
      + '<label for="comment">Comment (optional)</label><textarea id="comment" name="comment" rows="2" maxlength="1000"></textarea>'
      + '<button type="submit" class="approve">Approve this plan</button></form>',
    `<form method="post" id="reject" aria-label="Reject this plan">${hidden}<input type="hidden" name="decision" value="reject">`
      + '<label for="reason">Reason (required to reject)</label><textarea id="reason" name="reason" rows="2" maxlength="1000" required></textarea>'
      + '<button type="submit" class="reject">Reject</button></form>',
  ].join('\n');
  return pageResponse(200, `medic: approve ${view.runbook}?`, body);
}
