import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as approvalHandler } from '../../lambdas/approval/index';
import { pendingApprovals } from '../../lambdas/approval/store';
import { verifyChain, type LedgerEntry } from '../../lambdas/shared/ledger';
import type { MedicConfig } from '../../lib/config';
import { phases } from '../support/ledger-reader';
import { ACCOUNT, alarmArn, testConfig } from '../support/synth';
import { WorkflowHarness } from './harness';

/*
 * The veto window (`approval.onTimeout: 'act'`, low-risk runbooks only) run through the
 * synthesized definition with the real handlers: no answer by the deadline is recorded and goes
 * through the same recheck as an approval to Act; a rejection within the window, or a runbook
 * without a veto window, escalates without acting.
 */

const ON_CALL = `arn:aws:iam::${ACCOUNT}:role/on-call`;
const ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/on-call/alice`;
const config: MedicConfig = {
  ...testConfig,
  runbooks: {
    ...testConfig.runbooks,
    ecsTaskRestart: [
      ...testConfig.runbooks.ecsTaskRestart!,
      {
        name: 'api-veto',
        mode: 'approve',
        approval: { approvers: [ON_CALL], minApprovals: 1, timeoutMinutes: 20, onTimeout: 'act' },
        policy: { lowRisk: true },
        alarmArns: [alarmArn('prod-api-veto')],
        services: [{ clusterName: 'prod', serviceName: 'api' }],
      },
    ],
  },
};

const h = new WorkflowHarness(config);
const sfn = mockClient(SFNClient);
beforeAll(() => h.start());
afterAll(async () => {
  sfn.restore();
  await h.stop();
});
beforeEach(async () => {
  await h.freshWorld();
  h.aws.addService('prod', 'api', 4);
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

const detailOf = (entries: LedgerEntry[], phase: string): Record<string, any> => {
  const entry = entries.find((e) => e.phase === phase);
  if (!entry) throw new Error(`no ${phase} entry in ${phases(entries).join(',')}`);
  return JSON.parse(entry.detail);
};
const timedOut = () => Object.assign(new Error('no answer'), { name: 'States.Timeout' });

/** An approver rejects the pending request through the approval function URL, as `medic reject` does. */
async function rejectPending(): Promise<{ statusCode: number }> {
  const [item] = await pendingApprovals(h.limiterTable);
  const path = `/approvals/${item.incidentId}`;
  const out = (await approvalHandler({
    version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '', headers: {}, isBase64Encoded: false,
    body: JSON.stringify({ decision: 'reject', planHash: item.planHash, reason: 'deploy in progress' }),
    requestContext: {
      accountId: ACCOUNT, apiId: 'url', domainName: 'x', domainPrefix: 'x', requestId: 'r', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0,
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
      authorizer: { iam: { userArn: ALICE, accessKey: 'AKID', accountId: ACCOUNT, callerId: 'AROA', cognitoIdentity: null, principalOrgId: '', userId: 'AROA:x' } },
    },
  } as never)) as { statusCode: number };
  return out;
}

describe('approval onTimeout "act" (a veto window), synthesized definition and real handlers', () => {
  test('nobody answers: approval-expired is recorded, the plan is checked again, medic acts and verifies', async () => {
    const waited: Array<number | undefined> = [];
    const workflow = h.workflowWith('api-veto', {
      waitForToken: async (_token, timeoutSeconds) => {
        waited.push(timeoutSeconds);
        throw timedOut();
      },
    });
    const run = await workflow.run(h.fire('prod-api-veto'));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('resolved');
    expect(waited).toEqual([20 * 60]);
    expect(run.output?.approval).toMatchObject({ approved: true, by: 'veto-window', approvals: [] });
    expect(h.aws.mutations()).toEqual([{ operation: 'UpdateService', input: { cluster: 'prod', service: 'api', forceNewDeployment: true } }]);
    const entries = await h.incident('api-veto-');
    expect(phases(entries)).toEqual([
      'received', 'admitted', 'planned', 'approval-requested', 'approval-expired', 'planned', 'acting', 'acted', 'checked', 'checked', 'verified', 'completed',
    ]);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
    const planHash = detailOf(entries, 'approval-requested').planHash as string;
    expect(detailOf(entries, 'approval-expired')).toMatchObject({ onTimeout: 'act', planHash, received: 0 });
    // The recheck compared the plan made again with the one nobody vetoed.
    expect(JSON.parse(entries[5].detail)).toMatchObject({ recheck: true, status: 'unchanged', approvedPlanHash: planHash });
    // The request was paged; nothing escalated.
    expect(h.aws.published().map((p) => p.Subject)).toEqual([expect.stringContaining('APPROVAL NEEDED')]);
  });

  test('nobody answers but the target changed meanwhile (the alarm is OK again): the recheck escalates, not acted', async () => {
    const workflow = h.workflowWith('api-veto', {
      waitForToken: async () => {
        h.aws.setAlarm('prod-api-veto', 'OK');
        throw timedOut();
      },
    });
    const run = await workflow.run(h.fire('prod-api-veto'));
    expect(run.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(0);
    const entries = await h.incident('api-veto-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'approval-requested', 'approval-expired', 'planned', 'escalated']);
    expect(h.aws.published().map((p) => p.Subject)).toEqual([expect.stringContaining('APPROVAL NEEDED'), expect.stringContaining('plan changed after approval: not acted')]);
  });

  test('an approver rejects within the window: escalated, not acted, no expiry recorded', async () => {
    const workflow = h.workflowWith('api-veto', {
      waitForToken: async () => {
        expect((await rejectPending()).statusCode).toBe(200);
        // What SendTaskFailure does to the waiting task.
        const [failure] = sfn.commandCalls(SendTaskFailureCommand);
        throw Object.assign(new Error(failure.args[0].input.cause), { name: failure.args[0].input.error });
      },
    });
    const run = await workflow.run(h.fire('prod-api-veto'));
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('Medic.Escalated');
    expect(h.aws.mutations()).toHaveLength(0);
    const entries = await h.incident('api-veto-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'approval-requested', 'approval-rejected', 'escalated']);
    expect(h.aws.published().map((p) => p.Subject)).toEqual([expect.stringContaining('APPROVAL NEEDED'), expect.stringContaining('REJECTED by')]);
  });

  test('a rejection stored as the window closes (its answer to Step Functions too late): escalated, not acted', async () => {
    const workflow = h.workflowWith('api-veto', {
      waitForToken: async () => {
        expect((await rejectPending()).statusCode).toBe(200);
        throw timedOut();
      },
    });
    const run = await workflow.run(h.fire('prod-api-veto'));
    expect(run.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(0);
    const entries = await h.incident('api-veto-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'approval-requested', 'approval-rejected', 'approval-expired', 'escalated']);
    expect(detailOf(entries, 'approval-expired')).toMatchObject({ onTimeout: 'act', acted: false, rejected: true });
    const [, page] = h.aws.published();
    expect(page.Subject).toContain('APPROVAL EXPIRED: not acted');
    expect(page.Message).toContain('the plan was rejected by');
  });

  test('the same timeout on a runbook without a veto window (onTimeout "escalate") escalates without acting', async () => {
    const workflow = h.workflowWith('api-approve', { waitForToken: async () => { throw timedOut(); } });
    const run = await workflow.run(h.fire('prod-api-errors'));
    expect(run.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(0);
    const entries = await h.incident('api-approve-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'approval-requested', 'approval-expired', 'escalated']);
    expect(detailOf(entries, 'approval-expired')).not.toHaveProperty('onTimeout');
    expect(h.aws.published().map((p) => p.Subject)).toEqual([expect.stringContaining('APPROVAL NEEDED'), expect.stringContaining('APPROVAL EXPIRED')]);
  });
});
