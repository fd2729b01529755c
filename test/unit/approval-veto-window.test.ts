import 'aws-sdk-client-mock-jest';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/approval/index';
import { readApproval } from '../../lambdas/approval/store';
import { dynamo } from '../../lambdas/shared/clients';
import { readIncident, type LedgerEntry } from '../../lambdas/shared/ledger';
import { planHash } from '../../lambdas/shared/plan-hash';
import { runbookHandler, type RunbookSteps } from '../../lambdas/shared/runbook-steps';
import type { ApprovalGranted, ApprovalSpec, Plan, StepError, WorkflowState } from '../../lambdas/shared/types';
import { LocalDynamo } from '../../lib/local/dynalite';
import { freshTables } from '../support/tables';
import { ecsRunbookSpec, receivedIncident, workflowState } from '../support/fixtures';
import { ACCOUNT } from '../support/synth';

/**
 * The veto window of the approval gate (`approval.onTimeout: 'act'`), against a real DynamoDB API
 * (dynalite) with Step Functions and SNS mocked: what the expiry returns and records both ways,
 * how it fails closed, and Act's check of the grant it returns.
 */

const sfn = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const local = new LocalDynamo();

const ROLE = `arn:aws:iam::${ACCOUNT}:role/medic-approvers`;
const ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/medic-approvers/alice`;
const TOKEN = 'task-token-veto';

const PLAN: Plan = {
  decision: 'act', reason: 'service unhealthy', summary: 'StopTask on t1', details: { unhealthy: ['t1'] },
  plannedCalls: [{ batch: 0, service: 'ecs', operation: 'StopTask', target: 't1' }],
};

let incidents = 0;
function approvalState(onTimeout?: ApprovalSpec['onTimeout'], minApprovals = 2): WorkflowState {
  const approval: ApprovalSpec = { approvers: [ROLE, `arn:aws:iam::${ACCOUNT}:user/carol`], minApprovals, timeoutSeconds: 1800, ...(onTimeout ? { onTimeout } : {}) };
  return workflowState({
    runbook: ecsRunbookSpec({ mode: 'approve', approval }),
    incident: receivedIncident({ incidentId: `api-restart-20261122T031722Z-veto${++incidents}`, mode: 'approve' }),
    plan: PLAN,
  });
}

const request = (state: WorkflowState) => handler({ action: 'request', taskToken: TOKEN, state });
const expire = (state: WorkflowState) => handler({ action: 'expired', state });
const answer = async (state: WorkflowState, caller: string, body: Record<string, unknown>) => {
  const out = (await handler({
    version: '2.0', routeKey: '$default', rawPath: `/approvals/${state.incident!.incidentId}`, rawQueryString: '', headers: {}, isBase64Encoded: false,
    body: JSON.stringify(body),
    requestContext: {
      accountId: ACCOUNT, apiId: 'url', domainName: 'x', domainPrefix: 'x', requestId: 'r', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0,
      http: { method: 'POST', path: `/approvals/${state.incident!.incidentId}`, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
      authorizer: { iam: { userArn: caller, accessKey: 'AKID', accountId: ACCOUNT, callerId: 'AROA', cognitoIdentity: null, principalOrgId: '', userId: 'AROA:x' } },
    },
  } as never)) as { statusCode: number };
  return out.statusCode;
};
const approve = (state: WorkflowState) => answer(state, ALICE, { decision: 'approve', planHash: planHash(state) });
const reject = (state: WorkflowState) => answer(state, ALICE, { decision: 'reject', planHash: planHash(state), reason: 'deploy in progress' });

const entriesOf = (state: WorkflowState): Promise<LedgerEntry[]> => readIncident(process.env.MEDIC_LEDGER_TABLE!, state.incident!.incidentId);
const expiredDetail = async (state: WorkflowState): Promise<Record<string, any>> => {
  const entries = (await entriesOf(state)).filter((e) => e.phase === 'approval-expired');
  expect(entries).toHaveLength(1);
  return JSON.parse(entries[0].detail) as Record<string, any>;
};
const statusOf = async (state: WorkflowState) => (await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))?.status;

/** Points the handlers at a ledger table that does not exist, for the rest of the test. */
const breakLedger = () => {
  process.env.MEDIC_LEDGER_TABLE = 'no-such-ledger';
};

beforeAll(() => local.start());
afterAll(async () => {
  sfn.restore();
  snsMock.restore();
  dynamo().destroy();
  await local.stop();
});
beforeEach(async () => {
  await freshTables(local, 'veto');
  sfn.reset();
  snsMock.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
});

describe('expiry with onTimeout "act" (a veto window)', () => {
  test('nobody rejected: the grant for $.approval, with the stored plan hash and the approvals so far; recorded and marked expired', async () => {
    const state = approvalState('act');
    await request(state);
    expect(await approve(state)).toBe(200); // 1 of 2: not enough to proceed
    const out = (await expire(state)) as ApprovalGranted;
    const item = (await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!;
    expect(out).toEqual({
      approved: true, planHash: planHash(state), approvals: [expect.objectContaining({ principal: ALICE })], by: 'veto-window', deadline: item.deadline,
    });
    expect(item.status).toBe('expired');
    expect(await expiredDetail(state)).toMatchObject({
      onTimeout: 'act', expiresAt: item.deadline, planHash: planHash(state), received: 1, minApprovals: 2, vetoWindow: expect.stringMatching(/^passed: nobody rejected/),
    });
    // The window is closed: a rejection now cannot land, and the decision is not sent to Step Functions.
    expect(await reject(state)).toBe(410);
    expect(await statusOf(state)).toBe('expired');
    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 0);
  });

  test('a retried expiry gives the same grant (the request is already expired, not rejected)', async () => {
    const state = approvalState('act');
    await request(state);
    const first = await expire(state);
    expect(await expire(state)).toEqual(first);
    expect((first as ApprovalGranted).by).toBe('veto-window');
  });

  test('a rejection stored before the expiry ran: not acted, Medic.ApprovalExpired naming the rejection', async () => {
    const state = approvalState('act');
    await request(state);
    expect(await reject(state)).toBe(200);
    await expect(expire(state)).rejects.toMatchObject({
      name: 'Medic.ApprovalExpired', message: expect.stringMatching(new RegExp(`the plan was rejected by ${ALICE.replace(/[/]/g, '\\/')} \\(deploy in progress\\); not acted$`)),
    });
    expect(await statusOf(state)).toBe('rejected');
    expect(await expiredDetail(state)).toMatchObject({ onTimeout: 'act', acted: false, rejected: true });
  });

  test('no stored request: fails closed', async () => {
    const state = approvalState('act');
    await expect(expire(state)).rejects.toMatchObject({ name: 'Medic.ApprovalExpired', message: expect.stringContaining('no approval request is stored') });
    expect(await entriesOf(state)).toEqual([]);
  });

  test('a stored request of another plan (or with no plan hash) fails closed', async () => {
    const state = approvalState('act');
    await request(state);
    const changed = { ...state, plan: { ...PLAN, summary: 'StopTask on t1, t2' } };
    await expect(expire(changed)).rejects.toMatchObject({ name: 'Medic.ApprovalExpired', message: expect.stringContaining('is not of this execution\'s plan') });
    expect(await expiredDetail(changed)).toMatchObject({ acted: false, vetoWindow: expect.stringMatching(/^not passed/) });

    const unknownHash = approvalState('act');
    await request(unknownHash);
    await dynamo().send(new UpdateCommand({
      TableName: process.env.MEDIC_LIMITER_TABLE!, Key: { pk: `APPROVAL#${unknownHash.incident!.incidentId}` }, UpdateExpression: 'REMOVE planHash',
    }));
    await expect(expire(unknownHash)).rejects.toMatchObject({ name: 'Medic.ApprovalExpired', message: expect.stringContaining('plan unknown') });
  });

  test('a stored request of another execution fails closed', async () => {
    const state = approvalState('act');
    await request(state);
    const other = { ...state, execution: { ...state.execution, id: `${state.execution.id}-other` } };
    await expect(expire(other)).rejects.toMatchObject({ name: 'Medic.ApprovalExpired' });
  });

  test('a ledger that cannot be written fails closed: medic does not act unapproved without a trail', async () => {
    const state = approvalState('act');
    await request(state);
    breakLedger();
    await expect(expire(state)).rejects.toMatchObject({ name: 'Medic.ApprovalExpired', message: expect.stringContaining('could not be recorded in the ledger') });
  });
});

describe('expiry with onTimeout "escalate" (the default) is unchanged', () => {
  test.each([['absent', undefined], ['escalate', 'escalate']] as const)('onTimeout %s: the Medic.ApprovalExpired error, never a grant', async (_why, onTimeout) => {
    const state = approvalState(onTimeout);
    await request(state);
    const out = (await expire(state)) as StepError;
    const item = (await readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId))!;
    expect(out).toEqual({ Error: 'Medic.ApprovalExpired', Cause: `no approval before ${item.deadline} (0 of 2 approval(s) received); not acted` });
    expect(item.status).toBe('expired');
    expect(await expiredDetail(state)).not.toHaveProperty('onTimeout');
  });

  test('a ledger that cannot be written still returns the error (the page is not stopped)', async () => {
    const state = approvalState();
    await request(state);
    breakLedger();
    expect(await expire(state)).toMatchObject({ Error: 'Medic.ApprovalExpired' });
  });

  test('no stored request: still the error', async () => {
    expect(await expire(approvalState())).toEqual({ Error: 'Medic.ApprovalExpired', Cause: 'no approval before the deadline (0 of 2 approval(s) received); not acted' });
  });
});

describe('Act\'s check of a veto-window grant', () => {
  const act = jest.fn<ReturnType<RunbookSteps['act']>, Parameters<RunbookSteps['act']>>();
  const steps: RunbookSteps = { plan: jest.fn(), act, check: jest.fn() };
  const step = runbookHandler(steps);
  const grant = (state: WorkflowState, extra: Record<string, unknown> = {}) => ({
    ...state, approval: { approved: true as const, planHash: planHash(state), approvals: [], by: 'veto-window' as const, deadline: '2026-11-22T03:47:22.000Z', ...extra },
  });
  beforeEach(() => {
    act.mockReset();
    act.mockResolvedValue({ summary: 'stopped t1', batch: 0, moreBatches: false, details: {} });
  });

  test('acts when the runbook\'s spec says onTimeout "act" and the grant is of this plan', async () => {
    const state = approvalState('act');
    await expect(step({ step: 'act', state: grant(state) })).resolves.toMatchObject({ summary: 'stopped t1', batch: 0 });
    expect(act).toHaveBeenCalledTimes(1);
  });

  test.each([['absent', undefined], ['escalate', 'escalate']] as const)('refuses when onTimeout is %s: a forged or stale grant never acts', async (_why, onTimeout) => {
    await expect(step({ step: 'act', state: grant(approvalState(onTimeout)) })).rejects.toThrow(/refusing to act on an expired approval: runbook api-restart does not act when nobody answers/);
    expect(act).not.toHaveBeenCalled();
  });

  test('refuses a grant of another plan, even with onTimeout "act"', async () => {
    await expect(step({ step: 'act', state: grant(approvalState('act'), { planHash: 'f'.repeat(64) }) })).rejects.toThrow(/the approval is of plan f{64}, not of the plan in the state/);
    expect(act).not.toHaveBeenCalled();
  });

  test('refuses an approval of an unknown kind', async () => {
    await expect(step({ step: 'act', state: grant(approvalState('act'), { by: 'silence' }) })).rejects.toThrow(/unknown approval kind "silence"/);
    expect(act).not.toHaveBeenCalled();
  });
});
