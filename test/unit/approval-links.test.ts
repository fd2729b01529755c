import 'aws-sdk-client-mock-jest';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/approval/index';
import { linkHash } from '../../lambdas/approval/links';
import { readApproval, updateApproval } from '../../lambdas/approval/store';
import { handler as pageFunction } from '../../lambdas/approval-page/index';
import { dynamo } from '../../lambdas/shared/clients';
import { readIncident, type LedgerEntry } from '../../lambdas/shared/ledger';
import { planHash } from '../../lambdas/shared/plan-hash';
import type { Plan, WorkflowState } from '../../lambdas/shared/types';
import { LocalDynamo } from '../../lib/local/dynalite';
import { freshTables } from '../support/tables';
import { ecsRunbookSpec, receivedIncident, workflowState } from '../support/fixtures';
import { ACCOUNT } from '../support/synth';

/**
 * One-click links of email approvers, against a real DynamoDB API (dynalite): what the request
 * sends and stores, and every rule of the page (GET shows, POST answers once, as the link's owner,
 * before the deadline, for the plan shown). Step Functions and SNS are mocked.
 */

const sfn = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const lambdaMock = mockClient(LambdaClient);
const local = new LocalDynamo();

const ROLE = `arn:aws:iam::${ACCOUNT}:role/medic-approvers`;
const ALICE_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/medic-approvers/alice`;
const CAROL = 'carol@example.com';
const DAN = 'dan@example.com';
const PAGE_URL = 'https://page-id.lambda-url.eu-west-1.on.aws/';
const LINKS_TOPIC = `arn:aws:sns:eu-west-1:${ACCOUNT}:medic-approval-links`;
const CHAT_TOPIC = `arn:aws:sns:eu-west-1:${ACCOUNT}:chat`;

const PLAN: Plan = {
  decision: 'act', reason: 'service unhealthy: 2 of 4 tasks failing <img src=x onerror=alert(1)>', summary: 'StopTask on t1, t2',
  details: { running: 4, unhealthy: ['t1', 't2'] },
  plannedCalls: [{ batch: 0, service: 'ecs', operation: 'StopTask', target: 't1' }, { batch: 0, service: 'ecs', operation: 'StopTask', target: 't2' }],
};

let incidents = 0;

function linkState(minApprovals = 1, extra: { topicArns?: string[]; onTimeout?: 'act' } = {}): WorkflowState {
  const incidentId = `api-restart-20261122T031722Z-link${++incidents}`;
  return workflowState({
    runbook: ecsRunbookSpec({ mode: 'approve', approval: { approvers: [ROLE, CAROL, DAN], minApprovals, timeoutSeconds: 1800, ...extra } }),
    incident: receivedIncident({ incidentId, mode: 'approve' }),
    plan: PLAN,
  });
}

const request = (state: WorkflowState, taskToken = 'token-1', pageUrl: string | undefined = PAGE_URL) =>
  handler({ action: 'request', taskToken, state, ...(pageUrl ? { pageUrl } : {}) });

/** The link each approver was sent, read from the links topic's messages. */
function linksSent(): Record<string, string> {
  const links: Record<string, string> = {};
  for (const call of snsMock.commandCalls(PublishCommand)) {
    const input = call.args[0].input;
    if (input.TopicArn !== LINKS_TOPIC) continue;
    const approver = input.MessageAttributes!.approver.StringValue!;
    links[approver] = /https:\/\/\S+\/links\/\S+/.exec(input.Message!)![0];
  }
  return links;
}

type Page = { statusCode: number; headers: Record<string, string>; body: string };
const open = (link: string, method = 'GET', body?: string) =>
  handler({ action: 'page', method, path: new URL(link).pathname, ...(body === undefined ? {} : { body }) }) as Promise<Page>;
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const approveBy = (link: string, state: WorkflowState, comment?: string) => open(link, 'POST', form({ decision: 'approve', planHash: planHash(state), ...(comment ? { comment } : {}) }));
const answerOf = (page: Page) => /<p class="notice" id="answer">([^<]*)<\/p>/.exec(page.body)?.[1] ?? '';

const entries = (state: WorkflowState): Promise<LedgerEntry[]> => readIncident(process.env.MEDIC_LEDGER_TABLE!, state.incident!.incidentId);
const item = (state: WorkflowState) => readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId);

beforeAll(() => local.start());
afterAll(async () => {
  sfn.restore();
  snsMock.restore();
  lambdaMock.restore();
  dynamo().destroy();
  await local.stop();
});
beforeEach(async () => {
  await freshTables(local, 'links');
  process.env.MEDIC_APPROVAL_LINKS_TOPIC = LINKS_TOPIC;
  sfn.reset();
  snsMock.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
});

describe('sending links', () => {
  test('each email approver gets its own link, filtered by the approver attribute; only hashes are stored', async () => {
    const state = linkState();
    await request(state);
    const links = linksSent();
    expect(Object.keys(links).sort()).toEqual([CAROL, DAN]);
    expect(links[CAROL]).not.toBe(links[DAN]);
    const stored = (await item(state))!;
    const secrets = Object.values(links).map((l) => l.split('/').pop()!);
    expect(Object.keys(stored.links!).sort()).toEqual(secrets.map(linkHash).sort());
    expect(JSON.stringify(stored)).not.toContain(secrets[0]);
    // The shared request (escalation topic) carries no link, and says email approvers got their own.
    const shared = snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input).find((i) => i.TopicArn === process.env.MEDIC_TOPIC_ARN)!;
    expect(shared.Message).not.toContain('/links/');
    expect(shared.Message).toContain('Approvers listed by email address answer with the link each received');
    const carols = snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input).find((i) => i.MessageAttributes?.approver?.StringValue === CAROL)!;
    expect(carols.Message).toContain(`YOUR LINK (for ${CAROL} alone, single use, until the deadline):`);
    expect(carols.Message).toContain(`PLAN HASH: ${planHash(state)}`);
    expect(carols.Message).not.toContain('medic approve');
  });

  test('a retried request task sends fresh links and the earlier ones stop working', async () => {
    const state = linkState();
    await request(state);
    const first = linksSent();
    // The first attempt stopped before it marked the links sent.
    await updateApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId, 'REMOVE linksSentAt', 'attribute_exists(pk)', {});
    snsMock.resetHistory();
    await request(state, 'token-2');
    const second = linksSent();
    expect(second[CAROL]).not.toBe(first[CAROL]);
    expect((await open(first[CAROL])).statusCode).toBe(404);
    expect((await open(second[CAROL])).statusCode).toBe(200);
  });

  test('email approvers without the page or the links topic: the request fails and no link is sent', async () => {
    await expect(request(linkState(), 'token-1', '')).rejects.toThrow(/lists email approvers but the stack has no approval page or links topic/);
    delete process.env.MEDIC_APPROVAL_LINKS_TOPIC;
    await expect(request(linkState())).rejects.toThrow(/no approval page or links topic/);
    expect(Object.keys(linksSent())).toHaveLength(0);
    // Refused before anything is stored or published: the workflow escalates instead of waiting for answers that cannot come.
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  test('chat topics get an Amazon Q Developer custom notification, and email subscribers the text', async () => {
    const state = linkState(1, { topicArns: [CHAT_TOPIC] });
    const evil = { ...state, incident: { ...state.incident!, trigger: { ...state.incident!.trigger!, name: 'x` [click](https://evil.example) `\u202e' } } };
    await request(evil);
    const chat = snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input).find((i) => i.TopicArn === CHAT_TOPIC)!;
    expect(chat.MessageStructure).toBe('json');
    const structured = JSON.parse(chat.Message!) as { default: string; email: string };
    expect(structured.email).toContain(`PLAN HASH: ${planHash(state)}`);
    const notification = JSON.parse(structured.default);
    expect(notification).toMatchObject({
      version: '1.0', source: 'custom', content: { textType: 'client-markdown', title: 'medic api-restart: approval needed (prod/api)' },
      metadata: { threadId: state.incident!.incidentId, additionalContext: { planHash: planHash(state), incidentId: state.incident!.incidentId } },
    });
    expect(notification.content.nextSteps[0]).toBe(`Approve: \`medic approve ${state.incident!.incidentId} --stack MedicTest\``);
    // The alarm name stays inside one code span: its backticks cannot open a link.
    const fired = (notification.content.description as string).split('\n').find((l) => l.startsWith('*What fired:*'))!;
    expect(fired.match(/`/g)).toHaveLength(2);
    expect(fired).toContain('\\u202e');
  });
});

describe('the page', () => {
  test('GET shows the plan, its hash, who answers and two POST forms, and decides nothing', async () => {
    const state = linkState();
    await request(state);
    const page = await open(linksSent()[CAROL]);
    expect(page.statusCode).toBe(200);
    for (const text of [planHash(state), 'ecs StopTask</code></td><td><code>t1', CAROL, 'Approve this plan', '0 of 1 approval(s) so far', 'prod-api-5xx']) {
      expect(page.body).toContain(text);
    }
    expect(page.body.match(/<form method="post"/g)).toHaveLength(2);
    // Untrusted text is escaped, and no script can run.
    expect(page.body).not.toContain('<img');
    expect(page.body).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(page.body).not.toMatch(/<script/i);
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; frame-ancestors 'none'/);
    expect(page.headers).toMatchObject({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    expect((await open(linksSent()[CAROL], 'HEAD')).statusCode).toBe(200);
    expect((await item(state))!.approvals).toEqual({});
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
  });

  test('POST approve answers as the link\'s owner over channel link; a second use is refused', async () => {
    const state = linkState();
    await request(state);
    const link = linksSent()[CAROL];
    const page = await approveBy(link, state, 'looks right');
    expect(page.statusCode).toBe(200);
    expect(answerOf(page)).toContain('Approved: 1 of 1 approval(s); medic proceeds');
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const output = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);
    expect(output.approvals).toEqual([{ principal: CAROL, at: expect.any(String), comment: 'looks right' }]);
    const approved = (await entries(state)).find((e) => e.phase === 'approved')!;
    expect(JSON.parse(approved.detail)).toMatchObject({ principal: CAROL, approver: CAROL, channel: 'link', planHash: planHash(state), comment: 'looks right' });
    for (const again of [await open(link), await approveBy(link, state), await open(link, 'POST', form({ decision: 'reject', planHash: planHash(state), reason: 'changed my mind' }))]) {
      expect(again.statusCode).toBe(409);
      expect(answerOf(again)).toMatch(/^You \(carol@example\.com\) approved this plan at /);
    }
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 0);
  });

  test('two-person rule across channels: a link and an IAM session are two approvers; one link never counts twice', async () => {
    const state = linkState(2);
    await request(state);
    const link = linksSent()[DAN];
    expect(answerOf(await approveBy(link, state))).toContain('1 of 2 approval(s)');
    expect((await approveBy(link, state)).statusCode).toBe(409);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
    const api = await handler({
      version: '2.0', rawPath: `/approvals/${state.incident!.incidentId}`, isBase64Encoded: false, body: JSON.stringify({ decision: 'approve', planHash: planHash(state) }),
      requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn: ALICE_SESSION } } },
    } as never) as { statusCode: number };
    expect(api.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!).approvals.map((v: { principal: string }) => v.principal).sort())
      .toEqual([ALICE_SESSION, DAN].sort());
  });

  test('POST reject needs a reason, then fails the task with it; the link is then used', async () => {
    const state = linkState();
    await request(state);
    const link = linksSent()[CAROL];
    const noReason = await open(link, 'POST', form({ decision: 'reject', planHash: planHash(state), reason: ' ' }));
    expect(noReason.statusCode).toBe(400);
    expect(answerOf(noReason)).toContain('A rejection needs a');
    const rejected = await open(link, 'POST', form({ decision: 'reject', planHash: planHash(state), reason: 'deploy in progress' }));
    expect(rejected.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
    expect(JSON.parse(sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input.cause!)).toEqual({ principal: CAROL, reason: 'deploy in progress' });
    expect(JSON.parse((await entries(state)).find((e) => e.phase === 'approval-rejected')!.detail)).toMatchObject({ principal: CAROL, channel: 'link' });
    const again = await open(link);
    expect(again.statusCode).toBe(409);
    expect(answerOf(again)).toMatch(/^This plan was rejected by you at /);
    // Another approver's link now has nothing to answer either.
    expect((await approveBy(linksSent()[DAN], state)).statusCode).toBe(409);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
  });

  test('links that are not this request\'s, malformed or of another incident are one 404 page and change nothing', async () => {
    const state = linkState();
    const other = linkState();
    await request(state);
    const carols = linksSent()[CAROL];
    snsMock.resetHistory();
    await request(other);
    const otherSecret = linksSent()[CAROL].split('/').pop()!;
    const base = carols.slice(0, carols.lastIndexOf('/') + 1);
    for (const path of [`${base}${otherSecret}`, `${base}${'A'.repeat(43)}`, `${base}short`, `${base.replace('link', 'nope')}${otherSecret}`, `${PAGE_URL}approvals`, `${PAGE_URL}links/%E0%A4%A/x`]) {
      const page = await open(path, 'POST', form({ decision: 'approve', planHash: planHash(state) }));
      expect([path, page.statusCode]).toEqual([path, 404]);
      expect(page.body).toContain('This is not a valid approval link');
    }
    expect((await item(state))!.approvals).toEqual({});
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
  });

  test('after the deadline a link shows expired and cannot answer; a stale plan hash or a bad form is refused', async () => {
    const state = linkState();
    await request(state);
    const link = linksSent()[CAROL];
    expect((await approveBy(link, { ...state, plan: { ...PLAN, summary: 'other' } })).statusCode).toBe(409);
    expect((await open(link, 'POST', 'decision=approve&decision=reject')).statusCode).toBe(400);
    expect((await open(link, 'PUT')).statusCode).toBe(405);
    await updateApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId, 'SET deadline = :past', 'attribute_exists(pk)', { ':past': new Date(Date.now() - 1000).toISOString() });
    for (const page of [await open(link), await approveBy(link, state)]) {
      expect(page.statusCode).toBe(410);
      expect(answerOf(page)).toContain('medic did not act');
    }
    expect((await item(state))!.approvals).toEqual({});
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
  });
});

describe('a veto window (onTimeout act)', () => {
  test('the request, the chat notification, the page and a late answer say that silence means acting', async () => {
    const state = linkState(1, { onTimeout: 'act', topicArns: [CHAT_TOPIC] });
    await request(state);
    const inputs = snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input);
    const shared = inputs.find((i) => i.TopicArn === process.env.MEDIC_TOPIC_ARN)!;
    expect(shared.Message).toContain('VETO WINDOW: unless an approver rejects this plan before');
    expect(shared.Message).not.toContain('otherwise it does not act');
    const chat = JSON.parse(JSON.parse(inputs.find((i) => i.TopicArn === CHAT_TOPIC)!.Message!).default);
    expect(chat.content.nextSteps).toContain(`No rejection by ${(await item(state))!.deadline}: medic acts (veto window).`);
    const link = linksSent()[CAROL];
    expect((await open(link)).body).toContain('VETO WINDOW');
    await updateApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId, 'SET deadline = :past', 'attribute_exists(pk)', { ':past': new Date(Date.now() - 1000).toISOString() });
    const late = await approveBy(link, state);
    expect(late.statusCode).toBe(410);
    expect(answerOf(late)).toContain('closed at');
    expect(answerOf(late)).toContain('without a rejection: medic went on with the plan if it still held');
    expect(answerOf(late)).not.toContain('did not act');
  });
});

describe('the page function', () => {
  const event = (method: string, path: string, body?: string) => ({ rawPath: path, body, isBase64Encoded: false, requestContext: { http: { method } } }) as unknown as LambdaFunctionURLEvent;
  beforeEach(() => {
    lambdaMock.reset();
    process.env.MEDIC_APPROVAL_FUNCTION = 'approval-fn';
  });

  test('forwards method, path and body to the approval function and returns its page', async () => {
    lambdaMock.on(InvokeCommand).resolves({ Payload: Buffer.from(JSON.stringify({ statusCode: 200, headers: { 'content-type': 'text/html' }, body: '<p>plan</p>' })) as never });
    const out = await pageFunction(event('POST', '/links/i/s', 'decision=approve'));
    expect(out).toEqual({ statusCode: 200, headers: { 'content-type': 'text/html' }, body: '<p>plan</p>' });
    const sent = JSON.parse(Buffer.from(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.Payload as Uint8Array).toString('utf8'));
    expect(sent).toEqual({ action: 'page', method: 'POST', path: '/links/i/s', body: 'decision=approve', isBase64Encoded: false });
    expect(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.FunctionName).toBe('approval-fn');
  });

  test('a failed approval function, an oversized body or a missing setting is an error page that decided nothing', async () => {
    lambdaMock.on(InvokeCommand).resolves({ FunctionError: 'Unhandled', Payload: Buffer.from('{"errorMessage":"boom"}') as never });
    const failed = await pageFunction(event('GET', '/links/i/s')) as Page;
    expect(failed.statusCode).toBe(502);
    expect(failed.body).toContain('Nothing was decided by this attempt');
    expect((await pageFunction(event('POST', '/links/i/s', 'x'.repeat(20000))) as Page).statusCode).toBe(413);
    delete process.env.MEDIC_APPROVAL_FUNCTION;
    expect((await pageFunction(event('GET', '/links/i/s')) as Page).statusCode).toBe(500);
  });
});
