import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isInert } from '../../lambdas/shared/inert-text';
import { FakeCloudFormation } from './fake-aws';
import { runCli } from './run-cli';

/**
 * `medic approvals list`, `medic approve`, `medic reject` run as a user runs them (child processes,
 * no terminal) against a fake approval endpoint on loopback that, like a function URL with
 * AuthType AWS_IAM, refuses what is not SigV4-signed for the service `lambda`.
 */

const INCIDENT = 'api-restart-20261122T031722Z-1a2b3c4d5e6f';
const HASH = 'a'.repeat(64);
const DEADLINE = new Date(Date.now() + 20 * 60_000).toISOString();
/** A hostile text: ESC sequence (clear screen), forged line, bidi override. */
const HOSTILE = 'ok\x1b[2J\nWHAT MEDIC DID: nothing\u202e';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly authorization: string;
  readonly date: string;
  readonly body: string;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

class FakeApprovalEndpoint {
  private server?: http.Server;
  endpoint = '';
  readonly requests: Seen[] = [];
  /** The answer to each route, by `<METHOD> <path>`. */
  readonly replies = new Map<string, Reply>();

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const seen = {
          method: request.method ?? '', path: request.url ?? '', body: Buffer.concat(chunks).toString('utf8'),
          authorization: String(request.headers.authorization ?? ''), date: String(request.headers['x-amz-date'] ?? ''),
        };
        this.requests.push(seen);
        const signed = /^AWS4-HMAC-SHA256 Credential=AKIDTESTONLY\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/.test(seen.authorization);
        // Lambda's own refusal of an unsigned request: before the function runs, in its own shape.
        const reply = signed && /^\d{8}T\d{6}Z$/.test(seen.date)
          ? this.replies.get(`${seen.method} ${seen.path}`) ?? { status: 404, body: { statusCode: 404, message: `${seen.method} ${seen.path} is not a route` } }
          : { status: 403, body: { Message: 'Forbidden' } };
        response.writeHead(reply.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.endpoint = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const fake = new FakeApprovalEndpoint();
const cloudFormation = new FakeCloudFormation();
const medic = (...args: string[]) => runCli([...args, '--url', fake.endpoint, '--region', 'eu-west-1'], { AWS_REGION: undefined });
const posts = () => fake.requests.filter((r) => r.method === 'POST');

function view(overrides: Record<string, unknown> = {}) {
  return {
    incidentId: INCIDENT, runbook: 'api-restart', target: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/api', targetId: 'prod/api',
    planHash: HASH, requestedAt: '2026-11-22T03:17:27Z', expiresAt: DEADLINE, status: 'pending', minApprovals: 2,
    approvals: [{ principal: 'arn:aws:iam::123456789012:role/oncall', at: '2026-11-22T03:18:00Z', comment: 'looks right' }],
    approvers: ['arn:aws:iam::123456789012:role/oncall', 'arn:aws:iam::123456789012:role/sre'],
    decision: 'act', summary: 'UpdateService forceNewDeployment on prod/api (4 desired, 4 running)', reason: 'alarm api-5xx',
    plannedCalls: [{ batch: 1, service: 'ecs', operation: 'UpdateService', target: 'prod/api' }],
    ...overrides,
  };
}

function answerGet(approval: Record<string, unknown> = view()): void {
  fake.replies.set(`GET /approvals/${INCIDENT}`, { status: 200, body: { statusCode: 200, message: `approval request for ${INCIDENT}: pending`, approval } });
}

beforeAll(async () => {
  await fake.start();
  await cloudFormation.start();
  cloudFormation.stacks.set('MedicTest', { ApprovalUrl: `${fake.endpoint}/`, LedgerTableName: 'medic-ledger' });
  cloudFormation.stacks.set('OldMedic', { LedgerTableName: 'medic-ledger' });
});

beforeEach(() => {
  fake.requests.length = 0;
  fake.replies.clear();
});

afterAll(async () => {
  await fake.stop();
  await cloudFormation.stop();
});

test('approvals list prints the pending requests (signed for lambda in eu-west-1), and --json the endpoint\'s objects', async () => {
  const summary = { ...view(), approvers: undefined, summary: undefined, plannedCalls: undefined };
  fake.replies.set('GET /approvals', { status: 200, body: { statusCode: 200, message: '1 approval request(s) pending', approvals: [summary] } });

  const listed = await medic('approvals', 'list');
  expect(listed).toMatchObject({ code: 0, stderr: '' });
  expect(fake.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/approvals', authorization: expect.stringContaining('/eu-west-1/lambda/aws4_request') })]);
  const row = listed.stdout.split('\n').find((line) => line.includes(INCIDENT))!;
  expect(row.split('│').slice(1, 7).map((cell) => cell.trim())).toEqual([
    INCIDENT, 'api-restart', 'arn:aws:ecs:eu-west-1:123456789012:service/prod/api', 'aaaaaaaaaaaa', DEADLINE.replace(/\.\d+Z$/, 'Z'), '1 of 2',
  ]);
  expect(listed.stdout).toContain('HTTP 200: 1 approval request(s) pending');

  const json = await medic('approvals', 'list', '--json');
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject({ incidentId: INCIDENT, planHash: HASH, minApprovals: 2 });
});

test('approve --yes shows the plan, then POSTs decision approve with the hash it read, and prints the answer', async () => {
  answerGet();
  fake.replies.set(`POST /approvals/${INCIDENT}`, { status: 200, body: { statusCode: 200, message: 'approved: 2 of 2 approval(s); medic proceeds', planHash: HASH } });

  const run = await medic('approve', INCIDENT, '--yes', '--comment', 'checked the dashboard');
  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /approvals/${INCIDENT}`, `POST /approvals/${INCIDENT}`]);
  for (const request of fake.requests) expect(request.authorization).toMatch(/Credential=AKIDTESTONLY\/\d{8}\/eu-west-1\/lambda\/aws4_request/);
  expect(JSON.parse(posts()[0].body)).toEqual({ decision: 'approve', planHash: HASH, comment: 'checked the dashboard' });
  expect(run.stdout).toContain(`plan hash  ${HASH}`);
  expect(run.stdout).toContain('summary    UpdateService forceNewDeployment on prod/api (4 desired, 4 running)');
  expect(run.stdout).toContain('batch 1  ecs:UpdateService  prod/api');
  expect(run.stdout).toContain('approvals  1 of 2');
  expect(run.stdout).toContain('arn:aws:iam::123456789012:role/oncall at 2026-11-22T03:18:00Z: looks right');
  expect(run.stdout.trim().split('\n').pop()).toBe('HTTP 200: approved: 2 of 2 approval(s); medic proceeds');
});

test('a plan that changed since the GET: the 409 exits 1 with what to do', async () => {
  answerGet();
  fake.replies.set(`POST /approvals/${INCIDENT}`, {
    status: 409, body: { statusCode: 409, message: `you answered plan ${HASH}, but the pending plan is ${'b'.repeat(64)}: read the request again`, yourPlanHash: HASH, pendingPlanHash: 'b'.repeat(64) },
  });

  const run = await medic('approve', INCIDENT, '--yes');
  expect(run.code).toBe(1);
  expect(run.stderr).toBe(`medic: HTTP 409: you answered plan ${HASH}, but the pending plan is ${'b'.repeat(64)}: read the request again; the plan changed since you looked: run medic approve again\n`);
});

test('a principal that is not an approver: 403 exits 1 and says so', async () => {
  answerGet();
  fake.replies.set(`POST /approvals/${INCIDENT}`, { status: 403, body: { statusCode: 403, message: 'arn:aws:sts::123456789012:assumed-role/dev/me is not an approver of runbook api-restart', approvers: ['arn:aws:iam::123456789012:role/sre'] } });

  const run = await medic('approve', INCIDENT, '--yes');
  expect(run.code).toBe(1);
  expect(run.stderr).toContain('your principal is not an approver of this runbook (approvers: arn:aws:iam::123456789012:role/sre)');
});

test('reject --yes POSTs decision reject with the reason; without --reason it is a usage error', async () => {
  answerGet();
  fake.replies.set(`POST /approvals/${INCIDENT}`, { status: 200, body: { statusCode: 200, message: 'rejected by me: medic will not act on this plan and escalates', planHash: HASH } });
  const run = await medic('reject', INCIDENT, '--yes', '--reason', 'deploy in progress');
  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(posts()[0].body)).toEqual({ decision: 'reject', planHash: HASH, reason: 'deploy in progress' });

  fake.requests.length = 0;
  const noReason = await medic('reject', INCIDENT, '--yes');
  expect(noReason.code).toBe(2);
  expect(noReason.stderr).toContain('--reason');
  expect(fake.requests).toEqual([]);
});

test('approve without a terminal and without --yes is refused before anything is sent', async () => {
  answerGet();
  const run = await medic('approve', INCIDENT);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('pass --yes');
  expect(fake.requests).toEqual([]);
});

test('a request that is no longer pending is shown, and not answered', async () => {
  answerGet(view({ status: 'approved' }));
  const run = await medic('approve', INCIDENT, '--yes');
  expect(run.code).toBe(1);
  expect(run.stdout).toContain('the request is approved: nothing to approve');
  expect(posts()).toEqual([]);
});

test('hostile text from the endpoint is printed inert', async () => {
  answerGet(view({ summary: HOSTILE, runbook: HOSTILE, approvals: [{ principal: HOSTILE, at: '2026-11-22T03:18:00Z', comment: HOSTILE }] }));
  fake.replies.set(`POST /approvals/${INCIDENT}`, { status: 410, body: { statusCode: 410, message: `expired ${HOSTILE}` } });
  fake.replies.set('GET /approvals', { status: 200, body: { statusCode: 200, message: HOSTILE, approvals: [view({ target: HOSTILE, incidentId: HOSTILE })] } });

  const approve = await medic('approve', INCIDENT, '--yes');
  expect(approve.code).toBe(1);
  expect(approve.stderr).toContain('the request expired');
  const listed = await medic('approvals', 'list');
  const json = await medic('approvals', 'list', '--json');
  for (const out of [approve.stdout, approve.stderr, listed.stdout, json.stdout]) {
    for (const line of out.split('\n')) expect(isInert(line)).toBe(true);
    expect(out).not.toContain('\x1b');
    expect(out.split('\n').some((line) => line.startsWith('WHAT MEDIC DID'))).toBe(false);
  }
  expect(approve.stdout).toContain('summary    ok\\x1b[2J\\nWHAT MEDIC DID: nothing\\u202e');
});

test('an unsigned request is refused by Lambda: the hint names lambda:InvokeFunctionUrl; no credentials: a one-line hint', async () => {
  const noCredentials = await runCli(['approvals', 'list', '--url', fake.endpoint, '--region', 'eu-west-1'], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
  expect(noCredentials.code).toBe(2);
  expect(noCredentials.stderr).toBe('medic: no AWS credentials: run aws configure or aws sso login, then pass --profile <name> (or set AWS_PROFILE)\n');
  expect(fake.requests).toEqual([]);

  const otherRegion = await runCli(['approvals', 'list', '--url', fake.endpoint, '--region', 'us-east-1']);
  expect(otherRegion.code).toBe(1);
  expect(otherRegion.stderr).toContain('HTTP 403: Forbidden; Lambda refused the request: your credentials need lambda:InvokeFunctionUrl');
});

test('neither --stack nor --url, or an endpoint that does not answer: usage error, one-line hint', async () => {
  const none = await runCli(['approvals', 'list']);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('give --stack <stack name> (its ApprovalUrl output) or --url <approval url>');

  const plain = await runCli(['approvals', 'list', '--url', 'http://approvals.example.com/']);
  expect(plain.code).toBe(2);
  expect(plain.stderr).toContain('must be https://');

  // A port nothing listens on: one that was free a moment ago.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const closed = await runCli(['approvals', 'list', '--url', `http://127.0.0.1:${port}`, '--region', 'eu-west-1']);
  expect(closed.code).toBe(2);
  expect(closed.stderr).toBe(`medic: cannot reach the approval endpoint 127.0.0.1:${port} (ECONNREFUSED): check --url, or --stack and --region, and your network\n`);
});

test('--stack reads the endpoint from the stack\'s ApprovalUrl output', async () => {
  fake.replies.set('GET /approvals', { status: 200, body: { statusCode: 200, message: '0 approval request(s) pending', approvals: [] } });
  const env = { AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint };
  const listed = await runCli(['approvals', 'list', '--stack', 'MedicTest'], env);
  expect(listed).toMatchObject({ code: 0, stdout: 'HTTP 200: 0 approval request(s) pending\n', stderr: '' });
  expect(fake.requests.map((r) => r.path)).toEqual(['/approvals']);

  const old = await runCli(['approvals', 'list', '--stack', 'OldMedic'], env);
  expect(old.code).toBe(2);
  expect(old.stderr).toBe('medic: stack OldMedic has no ApprovalUrl output: deploy this version of medic, or give --url\n');
});
