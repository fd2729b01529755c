import 'aws-sdk-client-mock-jest';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/approval/index';
import { matchingApprover } from '../../lambdas/approval/principals';
import { readApproval, updateApproval } from '../../lambdas/approval/store';
import { dynamo } from '../../lambdas/shared/clients';
import * as ledgerModule from '../../lambdas/shared/ledger';
import { readIncident, type LedgerEntry } from '../../lambdas/shared/ledger';
import { planHash } from '../../lambdas/shared/plan-hash';
import type { Plan, WorkflowState } from '../../lambdas/shared/types';
import { LocalDynamo } from '../../lib/local/dynalite';
import { freshTables } from '../support/tables';
import { ecsRunbookSpec, receivedIncident, workflowState } from '../support/fixtures';
import { ACCOUNT } from '../support/synth';

/**
 * The approval function against a real DynamoDB API (dynalite), with Step Functions and SNS
 * mocked: the request it stores and publishes, every rule of the answer API, and the expiry.
 */

const sfn = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const cloudWatch = mockClient(CloudWatchClient);
const local = new LocalDynamo();

const ROLE = `arn:aws:iam::${ACCOUNT}:role/medic-approvers`;
const PATH_ROLE = `arn:aws:iam::${ACCOUNT}:role/ops/oncall-lead`;
const USER = `arn:aws:iam::${ACCOUNT}:user/carol`;
const ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/medic-approvers/alice`;
const BOB = `arn:aws:sts::${ACCOUNT}:assumed-role/medic-approvers/bob`;
const LEAD = `arn:aws:sts::${ACCOUNT}:assumed-role/oncall-lead/dave`;
const MALLORY = `arn:aws:sts::${ACCOUNT}:assumed-role/developers/mallory`;
const TOKEN = 'task-token-1';

const PLAN: Plan = {
  decision: 'act', reason: 'service unhealthy: 2 of 4 tasks failing health checks', summary: 'StopTask on t1, t2',
  details: { running: 4, unhealthy: ['t1', 't2'] },
  plannedCalls: [{ batch: 0, service: 'ecs', operation: 'StopTask', target: 't1' }, { batch: 0, service: 'ecs', operation: 'StopTask', target: 't2' }],
};

let incidents = 0;

function approvalState(minApprovals = 1, timeoutSeconds = 1800): WorkflowState {
  const incidentId = `api-restart-20261122T031722Z-appr${++incidents}`;
  return workflowState({
    runbook: ecsRunbookSpec({ mode: 'approve', approval: { approvers: [ROLE, PATH_ROLE, USER], minApprovals, timeoutSeconds } }),
    incident: receivedIncident({ incidentId, mode: 'approve' }),
    plan: PLAN,
  });
}

const request = (state: WorkflowState, taskToken = TOKEN) => handler({ action: 'request', taskToken, state });

function http(method: string, path: string, caller: string | undefined, body?: unknown): LambdaFunctionURLEventWithIAMAuthorizer {
  return {
    version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '', headers: {}, isBase64Encoded: false,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    requestContext: {
      accountId: ACCOUNT, apiId: 'url', domainName: 'x.lambda-url.eu-west-1.on.aws', domainPrefix: 'x', requestId: 'r', routeKey: '$default', stage: '$default',
      time: '', timeEpoch: 0, http: { method, path, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
      authorizer: { iam: caller === undefined ? undefined : { userArn: caller, accessKey: 'AKID', accountId: ACCOUNT, callerId: 'AROA', cognitoIdentity: null, principalOrgId: '', userId: 'AROA:x' } },
    },
  } as unknown as LambdaFunctionURLEventWithIAMAuthorizer;
}

async function call(method: string, path: string, caller: string | undefined, body?: unknown): Promise<{ statusCode: number; message: string } & Record<string, any>> {
  const out = (await handler(http(method, path, caller, body))) as { statusCode: number; body: string };
  const parsed = JSON.parse(out.body) as { statusCode: number; message: string };
  expect(parsed.statusCode).toBe(out.statusCode);
  expect(typeof parsed.message).toBe('string');
  expect(parsed.message).not.toContain('\n');
  return parsed;
}

const decide = (state: WorkflowState, caller: string, body: Record<string, unknown>) => call('POST', `/approvals/${state.incident!.incidentId}`, caller, body);
const approveAs = (state: WorkflowState, caller: string, extra: Record<string, unknown> = {}) => decide(state, caller, { decision: 'approve', planHash: planHash(state), ...extra });

const phases = async (state: WorkflowState): Promise<LedgerEntry[]> => readIncident(process.env.MEDIC_LEDGER_TABLE!, state.incident!.incidentId);
const detailOf = (entries: LedgerEntry[], phase: string) => JSON.parse(entries.find((e) => e.phase === phase)!.detail) as Record<string, any>;
const taskError = (name: string) => Object.assign(new Error(name), { name });

/** Polls until `condition` holds (each poll is a DynamoDB read; no fixed sleep). */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('condition not met');
}

beforeAll(() => local.start());
afterAll(async () => {
  sfn.restore();
  snsMock.restore();
  cloudWatch.restore();
  dynamo().destroy();
  await local.stop();
});
beforeEach(async () => {
  await freshTables(local, 'approval');
  sfn.reset();
  snsMock.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
});

describe('request', () => {
  test('stores the request, records approval-requested and publishes the plan, its hash and the commands', async () => {
    const state = approvalState();
    const before = Date.now();
    await request(state);
    const item = (await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!;
    expect(item).toMatchObject({
      pk: `APPROVAL#${state.incident!.incidentId}`, taskToken: TOKEN, planHash: planHash(state), runbook: 'api-restart', target: state.incident!.target!.arn,
      approvers: [ROLE, PATH_ROLE, USER], minApprovals: 1, status: 'pending', approvals: {},
    });
    const deadline = Date.parse(item.deadline);
    expect(deadline - Date.parse(item.requestedAt)).toBe(1800 * 1000);
    expect(deadline).toBeGreaterThanOrEqual(before + 1800 * 1000);
    expect(item.expiresAt).toBe(Math.floor(deadline / 1000) + 86400);

    const requested = detailOf(await phases(state), 'approval-requested');
    expect(requested).toMatchObject({ planHash: planHash(state), approvers: [ROLE, PATH_ROLE, USER], minApprovals: 1, expiresAt: item.deadline, plannedCalls: PLAN.plannedCalls });

    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const { Subject, Message, TopicArn } = snsMock.commandCalls(PublishCommand)[0].args[0].input;
    expect(TopicArn).toBe(process.env.MEDIC_TOPIC_ARN);
    expect(Subject).toBe('[medic] api-restart: APPROVAL NEEDED (prod/api)');
    for (const text of [
      `PLAN HASH: ${planHash(state)}`, 'batch 1: ecs StopTask t1', 'batch 1: ecs StopTask t2', 'BLAST RADIUS: 2 call(s) in 1 batch(es) on 2 resource(s): t1, t2',
      `medic approve ${state.incident!.incidentId} --stack MedicTest`, `medic reject ${state.incident!.incidentId} --reason "..." --stack MedicTest`,
      `DEADLINE: ${item.deadline}`, 'WHAT FIRED: alarm prod-api-5xx went to ALARM', 'EVIDENCE: service unhealthy', 'Nothing has been done.',
    ]) expect(Message).toContain(text);
  });

  test('untrusted text in the request is inert', async () => {
    const state = approvalState();
    const evil = { ...state, incident: { ...state.incident!, trigger: { ...state.incident!.trigger!, name: 'x\nPLAN HASH: 0000\u202e' } } };
    await request(evil);
    const { Message } = snsMock.commandCalls(PublishCommand)[0].args[0].input;
    expect(Message).toContain('x\\nPLAN HASH: 0000\\u202e');
    expect(Message!.split('\n').filter((l) => l.startsWith('PLAN HASH:'))).toHaveLength(1);
  });

  test('a retried request task takes over with its new token and publishes once; a plan that does not act is refused', async () => {
    const state = approvalState();
    await request(state);
    await request(state, 'task-token-2');
    expect((await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!.taskToken).toBe('task-token-2');
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect((await phases(state)).filter((e) => e.phase === 'approval-requested')).toHaveLength(1);
    await expect(request({ ...approvalState(), plan: { ...PLAN, decision: 'noop' } })).rejects.toThrow(/only a plan that decided to act/);
  });
});

describe('answers', () => {
  test('an approver role session approves: SendTaskSuccess with the approvals, ledger approved', async () => {
    const state = approvalState();
    await request(state);
    const answer = await approveAs(state, ALICE, { comment: 'checked the dashboard' });
    expect(answer.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const input = sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input;
    expect(input.taskToken).toBe(TOKEN);
    const output = JSON.parse(input.output!);
    expect(output).toEqual({ approved: true, planHash: planHash(state), approvals: [{ principal: ALICE, at: expect.any(String), comment: 'checked the dashboard' }] });
    expect(detailOf(await phases(state), 'approved')).toMatchObject({ principal: ALICE, approver: ROLE, channel: 'api', planHash: planHash(state), comment: 'checked the dashboard' });
    expect((await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!.status).toBe('approved');
    // Answered: a second answer is a conflict, not a second send.
    expect((await approveAs(state, BOB)).statusCode).toBe(409);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  test('a role with a path and a user approve; a session of another role is 403', async () => {
    expect(matchingApprover(LEAD, [PATH_ROLE])).toBe(PATH_ROLE);
    expect(matchingApprover(`arn:aws:sts::222222222222:assumed-role/medic-approvers/eve`, [ROLE])).toBeUndefined();
    expect(matchingApprover(`arn:aws-cn:sts::${ACCOUNT}:assumed-role/medic-approvers/eve`, [ROLE])).toBeUndefined();
    expect(matchingApprover(USER, [USER])).toBe(USER);
    expect(matchingApprover(`arn:aws:iam::${ACCOUNT}:user/carol2`, [USER])).toBeUndefined();
    const state = approvalState();
    await request(state);
    const answer = await approveAs(state, MALLORY);
    expect(answer).toMatchObject({ statusCode: 403 });
    expect(answer.message).toContain('is not an approver');
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
    expect((await phases(state)).some((e) => e.phase === 'approved')).toBe(false);
  });

  test('a wrong plan hash is 409 with both hashes, and sends nothing', async () => {
    const state = approvalState();
    await request(state);
    const other = 'f'.repeat(64);
    const answer = await decide(state, ALICE, { decision: 'approve', planHash: other });
    expect(answer).toMatchObject({ statusCode: 409, yourPlanHash: other, pendingPlanHash: planHash(state) });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
  });

  test('two-person rule: the first approval waits, the same principal again is 409, a second principal sends exactly once', async () => {
    const state = approvalState(2);
    await request(state);
    const first = await approveAs(state, ALICE);
    expect(first.statusCode).toBe(200);
    expect(first.message).toContain('1 of 2');
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
    const again = await approveAs(state, ALICE);
    expect(again.statusCode).toBe(409);
    expect(again.message).toContain('already approved by you');
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
    const [second, late] = await Promise.all([approveAs(state, BOB), approveAs(state, LEAD)]);
    // The later of the two either joins the completed count or finds it answered; it never sends again.
    for (const answer of [second, late]) expect([200, 409]).toContain(answer.statusCode);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const output = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);
    expect(output.approvals.map((a: { principal: string }) => a.principal)).toEqual(expect.arrayContaining([ALICE]));
    expect(output.approvals.length).toBeGreaterThanOrEqual(2);
  });

  test('reject: SendTaskFailure with Medic.ApprovalRejected and the reason, ledger approval-rejected', async () => {
    const state = approvalState();
    await request(state);
    const answer = await decide(state, ALICE, { decision: 'reject', planHash: planHash(state), reason: 'deploy in progress' });
    expect(answer.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TOKEN, error: 'Medic.ApprovalRejected', cause: JSON.stringify({ principal: ALICE, reason: 'deploy in progress' }) });
    expect(detailOf(await phases(state), 'approval-rejected')).toMatchObject({ principal: ALICE, reason: 'deploy in progress', planHash: planHash(state) });
    expect((await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!.status).toBe('rejected');
    expect((await approveAs(state, BOB)).statusCode).toBe(409);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
  });

  test('expired: past the deadline, or the token gone at Step Functions, is 410', async () => {
    const state = approvalState();
    await request(state);
    await dynamo().send(new UpdateCommand({
      TableName: process.env.MEDIC_LIMITER_TABLE!, Key: { pk: `APPROVAL#${state.incident!.incidentId}` },
      UpdateExpression: 'SET deadline = :past', ExpressionAttributeValues: { ':past': new Date(Date.now() - 1000).toISOString() },
    }));
    expect((await approveAs(state, ALICE)).statusCode).toBe(410);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);

    for (const name of ['TaskTimedOut', 'TaskDoesNotExist']) {
      const timedOut = approvalState();
      await request(timedOut);
      sfn.on(SendTaskSuccessCommand).rejects(taskError(name));
      const answer = await approveAs(timedOut, ALICE);
      expect(answer.statusCode).toBe(410);
      expect((await readApproval(process.env.MEDIC_LIMITER_TABLE!, timedOut.incident!.incidentId))!.status).toBe('expired');
    }
  });

  test('another Step Functions failure puts the request back to pending: approving again sends', async () => {
    const state = approvalState();
    await request(state);
    sfn.on(SendTaskSuccessCommand).rejectsOnce(taskError('ServiceUnavailable')).resolves({});
    expect((await approveAs(state, ALICE)).statusCode).toBe(503);
    expect((await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!.status).toBe('pending');
    expect((await approveAs(state, BOB)).statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 2);
  });

  test('after a failed send, the same approver approving again (as the 503 tells them) sends, once', async () => {
    const state = approvalState();
    await request(state);
    sfn.on(SendTaskSuccessCommand).rejectsOnce(taskError('ServiceUnavailable')).resolves({});
    const first = await approveAs(state, ALICE);
    expect(first).toMatchObject({ statusCode: 503, message: expect.stringContaining('approve again to retry') });
    expect((await approveAs(state, ALICE)).statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 2);
    expect((await approveAs(state, ALICE)).statusCode).toBe(409);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 2);
  });

  test('a vote whose ledger entry fails is withdrawn and does not count; approving again records it', async () => {
    const state = approvalState();
    await request(state);
    const append = jest.spyOn(ledgerModule, 'appendEntry').mockRejectedValueOnce(taskError('ProvisionedThroughputExceededException'));
    try {
      const failed = await approveAs(state, ALICE);
      expect(failed).toMatchObject({ statusCode: 503, message: expect.stringContaining('so it does not count') });
      expect((await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!.approvals).toEqual({});
      expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
      expect((await approveAs(state, ALICE)).statusCode).toBe(200);
      expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    } finally {
      append.mockRestore();
    }
  });

  test('a vote still being recorded does not count: another approver meanwhile cannot complete the count with it', async () => {
    const state = approvalState(2);
    await request(state);
    let failAlice!: (error: Error) => void;
    const real = ledgerModule.appendEntry;
    const append = jest.spyOn(ledgerModule, 'appendEntry').mockImplementation((input) => (
      input.phase === 'approved' && (input.detail as { principal?: string }).principal === ALICE
        ? new Promise((_, reject) => { failAlice = reject; })
        : real(input)));
    try {
      const alice = approveAs(state, ALICE);
      // Alice's vote is stored, her ledger entry not yet written.
      await waitFor(async () => (await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!.approvals[ALICE] !== undefined && failAlice !== undefined);
      const bob = await approveAs(state, BOB);
      expect(bob).toMatchObject({ statusCode: 200, message: expect.stringContaining('1 of 2 approval(s); waiting for 1 more') });
      expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
      failAlice(taskError('InternalServerError'));
      expect((await alice).statusCode).toBe(503);
      expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
      expect(Object.keys((await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!.approvals)).toEqual([BOB]);
    } finally {
      append.mockRestore();
    }
    expect((await approveAs(state, ALICE)).statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const output = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!) as { approvals: Array<{ principal: string }> };
    expect(output.approvals.map((v) => v.principal).sort()).toEqual([ALICE, BOB].sort());
    expect((await phases(state)).filter((e) => e.phase === 'approved')).toHaveLength(2);
  });

  test('the same approver submitting twice at once: one vote, one ledger entry, one send', async () => {
    const state = approvalState();
    await request(state);
    const answers = await Promise.all([approveAs(state, ALICE), approveAs(state, ALICE)]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect((await phases(state)).filter((e) => e.phase === 'approved')).toHaveLength(1);
  });

  test('a vote left unrecorded by an invocation that died is recorded when its approver approves again', async () => {
    const state = approvalState();
    await request(state);
    const longAgo = new Date(Date.now() - 5 * 60_000).toISOString();
    await updateApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId, 'SET approvals.#p = :vote', 'attribute_exists(pk)',
      { ':vote': { at: longAgo, approver: ROLE, recorded: false } }, { '#p': ALICE });
    expect((await call('GET', `/approvals/${state.incident!.incidentId}`, ALICE)).approval.approvals).toEqual([]);
    expect((await approveAs(state, ALICE)).statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(detailOf(await phases(state), 'approved')).toMatchObject({ principal: ALICE, at: longAgo });
  });

  test('malformed requests are 400 with a message, never a crash', async () => {
    const state = approvalState();
    await request(state);
    const id = state.incident!.incidentId;
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['POST', `/approvals/${id}`, 'not json', /not JSON/],
      ['POST', `/approvals/${id}`, undefined, /must be JSON/],
      ['POST', `/approvals/${id}`, [1, 2], /JSON object/],
      ['POST', `/approvals/${id}`, { planHash: planHash(state) }, /"decision"/],
      ['POST', `/approvals/${id}`, { decision: 'approve' }, /"planHash"/],
      ['POST', `/approvals/${id}`, { decision: 'approve', planHash: planHash(state), comment: 7 }, /"comment"/],
      ['POST', `/approvals/${id}`, { decision: 'reject', planHash: planHash(state) }, /needs a "reason"/],
      ['DELETE', `/approvals/${id}`, undefined, /not a route/],
      ['POST', '/approvals', undefined, /not a route/],
      ['GET', '/elsewhere', undefined, /not a route/],
      ['GET', '/approvals/%E0%A4%A', undefined, /URL encoding/],
      ['GET', '/approvals/..%2F..', undefined, /not an incident id/],
    ];
    for (const [method, path, body, message] of cases) {
      const answer = await call(method, path, ALICE, body);
      expect({ path, body, statusCode: answer.statusCode }).toEqual({ path, body, statusCode: 400 });
      expect(answer.message).toMatch(message);
    }
    expect((await call('GET', '/approvals', undefined)).statusCode).toBe(403);
    expect((await call('POST', '/approvals/nobody-asked', ALICE, { decision: 'approve', planHash: planHash(state) })).statusCode).toBe(404);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
  });

  test('GET lists pending requests and shows one with its plan, never its token', async () => {
    const state = approvalState(2);
    await request(state);
    await approveAs(state, ALICE);
    const list = await call('GET', '/approvals', BOB);
    const mine = list.approvals.find((a: { incidentId: string }) => a.incidentId === state.incident!.incidentId);
    expect(mine).toMatchObject({ runbook: 'api-restart', target: state.incident!.target!.arn, planHash: planHash(state), approvals: [{ principal: ALICE }] });
    const one = await call('GET', `/approvals/${state.incident!.incidentId}/`, BOB);
    expect(one.approval).toMatchObject({ summary: PLAN.summary, plannedCalls: PLAN.plannedCalls, status: 'pending' });
    expect(JSON.stringify([list, one])).not.toContain(TOKEN);
  });
});

describe('expired', () => {
  test('marks the request expired, records approval-expired and returns Medic.ApprovalExpired', async () => {
    const state = approvalState(2);
    await request(state);
    await approveAs(state, ALICE);
    const out = await handler({ action: 'expired', state });
    const item = (await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!;
    expect(out).toEqual({ Error: 'Medic.ApprovalExpired', Cause: `no approval before ${item.deadline} (1 of 2 approval(s) received); not acted` });
    expect(item.status).toBe('expired');
    expect(detailOf(await phases(state), 'approval-expired')).toMatchObject({ expiresAt: item.deadline, received: 1, approvals: [{ principal: ALICE }] });
    expect((await approveAs(state, BOB)).statusCode).toBe(410);
  });

  test('an unknown action is refused', async () => {
    await expect(handler({ action: 'approve' } as never)).rejects.toThrow(/unknown approval action/);
  });
});
