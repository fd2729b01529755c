import * as readline from 'node:readline';
import type { Command } from 'commander';
import { inert, inertJson } from '../../lambdas/shared/inert-text';
import type { ApprovalAnswer, ApprovalClient, EndpointOptions } from './approval-client';
import { renderTable, runs } from './command-kit';
import { EXIT } from './index';
import { shortTime } from './time-range';
import { UsageError } from './usage-error';

/** The options of `medic approve` and `medic reject` (and the global --profile, --region). */
interface DecideOptions extends EndpointOptions {
  readonly comment?: string;
  readonly reason?: string;
  readonly yes?: boolean;
}

/** An approval request as the endpoint shows it (lambdas/approval/http.ts, `viewOf`); every field is untrusted. */
interface ApprovalView {
  readonly incidentId?: string;
  readonly runbook?: string;
  readonly target?: string;
  readonly planHash?: string;
  readonly expiresAt?: string;
  readonly status?: string;
  readonly minApprovals?: number;
  readonly approvals?: Array<{ principal?: string; at?: string; comment?: string }>;
  readonly summary?: string;
  readonly reason?: string;
  readonly plannedCalls?: Array<{ batch?: number; service?: string; operation?: string; target?: string }>;
}

// The endpoint refuses other ids; checked here too, so a typo is a usage error and no id can add path segments.
const INCIDENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$/;
const HASH = /^[0-9a-f]{64}$/;

// Loaded only when a command runs (the SDK's signer and credential chain), so help and usage errors answer at once.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const client = (): typeof import('./approval-client') => require('./approval-client');

/** `medic approvals list`, `medic approve`, `medic reject`: the CLI channel of mode `approve` (docs/operating.md). */
export function registerApprovals(cli: Command): void {
  const approvals = cli.command('approvals').description('the approval requests of runbooks in mode approve');
  withEndpoint(approvals.command('list').description('pending approval requests: incident, runbook, target, plan hash, deadline, approvals so far'))
    .option('--json', 'print one JSON object per request and line, as the endpoint gives it')
    .action(runs(async (command) => list(command.optsWithGlobals<EndpointOptions & { json?: boolean }>())));
  withEndpoint(cli.command('approve').argument('<incident>', 'the incident id').description('show an approval request\'s plan, confirm, and approve exactly that plan (its hash)'))
    .option('--comment <text>', 'a comment recorded with your approval in the ledger')
    .option('--yes', 'do not ask for confirmation (for scripts; required without a terminal)')
    .action(runs(async (command, incident) => decide('approve', incident, command.optsWithGlobals<DecideOptions>())));
  withEndpoint(cli.command('reject').argument('<incident>', 'the incident id').description('show an approval request\'s plan, confirm, and reject it: medic does not act and escalates'))
    .requiredOption('--reason <text>', 'why, recorded in the ledger and passed on with the escalation')
    .option('--yes', 'do not ask for confirmation (for scripts; required without a terminal)')
    .action(runs(async (command, incident) => decide('reject', incident, command.optsWithGlobals<DecideOptions>())));
}

function withEndpoint(command: Command): Command {
  return command
    .option('--stack <name>', 'the medic stack: the endpoint is its ApprovalUrl output (read with cloudformation:DescribeStacks)')
    .option('--url <url>', 'the approval endpoint itself (the ApprovalUrl output), instead of --stack');
}

const print = (line: string) => process.stdout.write(`${line}\n`);
const text = (value: unknown) => inert(value ?? '?');
const approvalCount = (a: ApprovalView) => `${a.approvals?.length ?? 0} of ${a.minApprovals ?? '?'}`;

/** Checks that need no request, so a usage error costs nothing and sends nothing. */
function endpointGiven(options: EndpointOptions): void {
  if (!options.stack && options.url === undefined) throw new UsageError(client().NO_ENDPOINT);
}

async function list(options: EndpointOptions & { json?: boolean }): Promise<number> {
  endpointGiven(options);
  const answer = await (await client().openApprovalClient(options)).get('/approvals');
  if (!ok(answer)) return report(answer);
  const pending = (Array.isArray(answer.body.approvals) ? answer.body.approvals as ApprovalView[] : [])
    .sort((a, b) => String(a.expiresAt).localeCompare(String(b.expiresAt)));
  if (options.json) {
    for (const approval of pending) print(inertJson(approval));
    return EXIT.ok;
  }
  if (pending.length) {
    print(renderTable(['Incident', 'Runbook', 'Target', 'Plan hash', 'Deadline', 'Approvals'], pending.map((a) => [
      text(a.incidentId), text(a.runbook), text(a.target), text(String(a.planHash ?? '?').slice(0, 12)), text(shortTime(a.expiresAt)), approvalCount(a),
    ])));
  }
  return report(answer);
}

/**
 * `approve` / `reject`: reads the request, shows its plan, asks (or takes --yes), then answers
 * with the hash of the plan shown: if the plan changed meanwhile, the endpoint refuses (409)
 * rather than count the answer for a plan the caller did not see.
 */
async function decide(decision: 'approve' | 'reject', incident: string, options: DecideOptions): Promise<number> {
  if (!INCIDENT_ID.test(incident)) throw new UsageError(`${inert(incident)} is not an incident id (medic approvals list shows them)`);
  if (decision === 'reject' && !options.reason?.trim()) throw new UsageError('a rejection needs a reason: --reason <text>');
  endpointGiven(options);
  // Without a terminal nobody can answer the question: refuse before reading anything, so nothing is sent.
  if (!options.yes && !process.stdin.isTTY) throw new UsageError(`not a terminal, so medic cannot ask before it answers: pass --yes to ${decision} the plan shown`);
  const endpoint = await client().openApprovalClient(options);
  const route = `/approvals/${encodeURIComponent(incident)}`;
  const read = await endpoint.get(route);
  if (!ok(read)) return report(read, decision);
  const approval = (read.body.approval ?? {}) as ApprovalView;
  show(approval);
  if (approval.status !== 'pending') {
    print(`the request is ${text(approval.status)}: nothing to ${decision}`);
    return EXIT.failed;
  }
  if (typeof approval.planHash !== 'string' || !HASH.test(approval.planHash)) throw new Error(`the endpoint's plan hash ${text(approval.planHash)} is not a hash: is --url the stack's ApprovalUrl?`);
  if (!options.yes && !(await confirmed(`${decision} this plan (${approval.planHash.slice(0, 12)})? [y/N] `))) {
    print(`not ${decision === 'approve' ? 'approved' : 'rejected'}: nothing sent`);
    return EXIT.failed;
  }
  return answer(endpoint, route, decision, approval.planHash, options);
}

async function answer(endpoint: ApprovalClient, route: string, decision: 'approve' | 'reject', planHash: string, options: DecideOptions): Promise<number> {
  const extra = decision === 'approve' ? (options.comment ? { comment: options.comment } : {}) : { reason: options.reason!.trim() };
  return report(await endpoint.post(route, { decision, planHash, ...extra }), decision);
}

/** The plan a human approves: what the request says it will do, every field inert. */
function show(a: ApprovalView): void {
  const deadline = a.expiresAt ? `${text(shortTime(a.expiresAt))} (${until(a.expiresAt)})` : '?';
  print(`incident   ${text(a.incidentId)}`);
  print(`runbook    ${text(a.runbook)}`);
  print(`target     ${text(a.target)}`);
  print(`status     ${text(a.status)}, deadline ${deadline}`);
  print(`plan hash  ${text(a.planHash)}`);
  print(`summary    ${text(a.summary)}`);
  if (a.reason) print(`reason     ${text(a.reason)}`);
  const calls = Array.isArray(a.plannedCalls) ? a.plannedCalls : [];
  print(`planned calls (${calls.length})`);
  for (const c of calls) print(`  batch ${text(c.batch)}  ${text(c.service)}:${text(c.operation)}  ${text(c.target)}`);
  const votes = Array.isArray(a.approvals) ? a.approvals : [];
  print(`approvals  ${approvalCount(a)}${votes.length ? '' : ' (none yet)'}`);
  for (const v of votes) print(`  ${text(v.principal)} at ${text(shortTime(v.at))}${v.comment ? `: ${text(v.comment)}` : ''}`);
}

/** Time left before an ISO deadline, in minutes: what an approver weighs. */
function until(iso: string): string {
  const minutes = Math.round((Date.parse(iso) - Date.now()) / 60_000);
  if (Number.isNaN(minutes)) return '?';
  return minutes > 0 ? `in ${minutes} min` : 'passed';
}

/** Asks on the terminal; only `y` or `yes` confirms (end of input does not). */
async function confirmed(question: string): Promise<boolean> {
  const prompt = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    const reply = await new Promise<string>((resolve) => {
      prompt.once('close', () => resolve(''));
      prompt.question(question, resolve);
    });
    return /^y(es)?$/i.test(reply.trim());
  } finally {
    prompt.close();
  }
}

const ok = (answer: ApprovalAnswer) => answer.status >= 200 && answer.status < 300;

/**
 * The answer as one line, `HTTP <status>: <message>`: on standard output and exit 0 for 2xx; else
 * on standard error with what to do, exit 1 for 4xx (refused: nothing was decided by you) and 2
 * for anything else (the endpoint failed; its message says whether to retry).
 */
function report(answer: ApprovalAnswer, command?: 'approve' | 'reject'): number {
  const line = `HTTP ${answer.status}: ${inert(answer.message)}`;
  if (ok(answer)) {
    print(line);
    return EXIT.ok;
  }
  const hint = hintFor(answer, command);
  process.stderr.write(`medic: ${line}${hint ? `; ${hint}` : ''}\n`);
  return answer.status >= 400 && answer.status < 500 ? EXIT.failed : EXIT.error;
}

function hintFor(answer: ApprovalAnswer, command: 'approve' | 'reject' | undefined): string | undefined {
  const again = `run medic ${command ?? 'approve'} again`;
  switch (answer.status) {
    case 403: {
      if (!answer.fromMedic) return 'Lambda refused the request: your credentials need lambda:InvokeFunctionUrl on the approval endpoint (platform.grantApprove), for the stack\'s region';
      const approvers = Array.isArray(answer.body.approvers) ? ` (approvers: ${answer.body.approvers.map((a) => inert(a)).join(', ')})` : '';
      return `your principal is not an approver of this runbook${approvers}`;
    }
    case 404:
      return answer.fromMedic ? 'check the incident id: medic approvals list shows the pending requests' : 'is --url the stack\'s ApprovalUrl?';
    case 409:
      if (answer.body.pendingPlanHash !== undefined || /changed while answering/.test(answer.message)) return `the plan changed since you looked: ${again}`;
      return undefined;
    case 410:
      return 'the request expired: medic did not act, and the incident was escalated';
    default:
      return undefined;
  }
}
