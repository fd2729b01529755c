import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { actionRecord } from '../../lambdas/escalate/action-record';
import { composeEscalation } from '../../lambdas/escalate/message';
import { dynamo } from '../../lambdas/shared/clients';
import { readIncident } from '../../lambdas/shared/ledger';
import { planHash } from '../../lambdas/shared/plan-hash';
import { runbookHandler, type RunbookSteps } from '../../lambdas/shared/runbook-steps';
import type { Plan, WorkflowState } from '../../lambdas/shared/types';
import { LocalDynamo } from '../../lib/local/dynalite';
import { freshTables } from '../support/tables';
import { ALARM, alarmTrigger, ecsRunbookSpec, receivedIncident, workflowState } from '../support/fixtures';

/** The plan hash an approval binds to, the recheck before Act, and the pages of the gate's three endings. */

const cloudWatch = mockClient(CloudWatchClient);
const local = new LocalDynamo();
const EVENT_AT = '2026-11-22T03:17:22.318Z';

const PLAN: Plan = {
  decision: 'act', reason: 'two tasks failing', summary: 'StopTask on t1, t2', details: { unhealthy: ['t1', 't2'], running: 4 },
  plannedCalls: [{ batch: 0, service: 'ecs', operation: 'StopTask', target: 't1' }, { batch: 0, service: 'ecs', operation: 'StopTask', target: 't2' }],
};

let n = 0;
const approveState = (plan: Plan = PLAN): WorkflowState => workflowState({
  runbook: ecsRunbookSpec({ mode: 'approve', approval: { approvers: ['arn:aws:iam::111111111111:role/a'], minApprovals: 1, timeoutSeconds: 600 } }),
  incident: receivedIncident({ incidentId: `api-restart-20261122T031722Z-hash${++n}`, mode: 'approve', trigger: alarmTrigger({ at: EVENT_AT }) }),
  plan,
});

describe('planHash', () => {
  test('stable: field order, an absent plannedCalls and the parts not approved do not change it', () => {
    const state = approveState();
    const hash = planHash(state);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const reordered: Plan = { details: { running: 4, unhealthy: ['t1', 't2'] }, plannedCalls: PLAN.plannedCalls, summary: PLAN.summary, decision: 'act', reason: 'other words' };
    expect(planHash({ ...state, plan: { ...reordered, leases: ['LEASE#x'], epochs: { x: 3 }, briefing: { facts: [], action: 'look' } } })).toBe(hash);
    const noCalls = { ...PLAN, plannedCalls: undefined };
    expect(planHash({ ...state, plan: noCalls })).toBe(planHash({ ...state, plan: { ...PLAN, plannedCalls: [] } }));
  });

  test('sensitive: runbook, target, decision, summary, each planned call and the evidence', () => {
    const state = approveState();
    const hash = planHash(state);
    const variants: WorkflowState[] = [
      { ...state, runbook: { ...state.runbook, name: 'api-restart-canary' } },
      { ...state, incident: { ...state.incident!, target: { ...state.incident!.target!, arn: `${state.incident!.target!.arn}-2` } } },
      { ...state, plan: { ...PLAN, decision: 'noop' } },
      { ...state, plan: { ...PLAN, summary: 'StopTask on t1' } },
      { ...state, plan: { ...PLAN, plannedCalls: [PLAN.plannedCalls![0]] } },
      { ...state, plan: { ...PLAN, plannedCalls: [PLAN.plannedCalls![0], { ...PLAN.plannedCalls![1], batch: 1 }] } },
      { ...state, plan: { ...PLAN, details: { ...PLAN.details, running: 3 } } },
    ];
    const hashes = variants.map(planHash);
    expect(new Set([hash, ...hashes]).size).toBe(variants.length + 1);
  });
});

describe('recheck', () => {
  const plan = jest.fn<Promise<Plan>, [WorkflowState]>();
  const steps: RunbookSteps = { plan, act: jest.fn(), check: jest.fn() };
  const handler = runbookHandler(steps);

  beforeAll(() => local.start());
  afterAll(async () => {
    cloudWatch.restore();
    dynamo().destroy();
    await local.stop();
  });
  beforeEach(async () => {
    await freshTables(local, 'recheck');
    cloudWatch.reset();
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: ALARM, StateValue: 'ALARM', StateTransitionedTimestamp: new Date(EVENT_AT) }] });
    plan.mockReset();
  });

  test('unchanged: the same plan again, recorded as a recheck', async () => {
    const state = approveState();
    plan.mockResolvedValue({ ...PLAN, reason: 'still two tasks failing' });
    expect(await handler({ step: 'recheck', state })).toEqual({ status: 'unchanged', planHash: planHash(state) });
    const entries = await readIncident(process.env.MEDIC_LEDGER_TABLE!, state.incident!.incidentId);
    expect(entries.map((e) => e.phase)).toEqual(['planned']);
    expect(JSON.parse(entries[0].detail)).toMatchObject({ recheck: true, status: 'unchanged', planHash: planHash(state), approvedPlanHash: planHash(state) });
  });

  test('drifted: another task count, in plain words, with the new hash', async () => {
    const state = approveState();
    const now = { ...PLAN, summary: 'StopTask on t1', plannedCalls: [PLAN.plannedCalls![0]], details: { unhealthy: ['t1'], running: 4 } };
    plan.mockResolvedValue(now);
    const out = await handler({ step: 'recheck', state });
    expect(out).toEqual({ status: 'drifted', planHash: planHash({ ...state, plan: now }), reason: 'the plan changed since it was approved: StopTask on t1, t2 -> StopTask on t1' });
  });

  test('drifted: the alarm already OK turns the plan into a noop, without asking the runbook', async () => {
    const state = approveState();
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: ALARM, StateValue: 'OK', StateTransitionedTimestamp: new Date() }] });
    const out = await handler({ step: 'recheck', state });
    expect(out).toMatchObject({ status: 'drifted' });
    expect((out as { reason: string }).reason).toMatch(/^the plan changed since it was approved: the decision was "act" and is now "noop" \(recovered before action/);
    expect(plan).not.toHaveBeenCalled();
  });

  test('Act in mode approve needs an approval of this very plan', async () => {
    const state = approveState();
    await expect(handler({ step: 'act', state })).rejects.toThrow('refusing to act in mode "approve" without an approval');
    const approval = { approved: true as const, planHash: 'f'.repeat(64), approvals: [] };
    await expect(handler({ step: 'act', state: { ...state, approval } })).rejects.toThrow(/the approval is of plan f{64}, not of the plan in the state/);
  });
});

describe('the pages of the gate\'s endings', () => {
  const page = (state: WorkflowState) => composeEscalation(state, 'ledger', actionRecord([], state));
  const cases: Array<[string, string | undefined, string]> = [
    ['Medic.ApprovalExpired', 'no approval before 2026-11-22T03:47:30.000Z (0 of 1 approval(s) received); not acted', 'APPROVAL EXPIRED: not acted'],
    ['Medic.ApprovalRejected', JSON.stringify({ principal: 'arn:aws:sts::111111111111:assumed-role/a/alice', reason: 'deploy in progress' }),
      'REJECTED by arn:aws:sts::111111111111:assumed-role/a/alice: deploy in progress; not acted'],
    ['Medic.PlanDrifted', 'the plan changed since it was approved: StopTask on t1, t2 -> StopTask on t1', 'plan changed after approval: not acted'],
  ];
  test.each(cases)('%s: the headline says it was not acted, and the page that nothing was done', (name, cause, headline) => {
    // Even with an approval in the state (the drift is found after it), the page never claims a call.
    const state = { ...approveState(), error: { Error: name, Cause: cause }, approval: { approved: true as const, planHash: 'a'.repeat(64), approvals: [] } };
    const message = page(state);
    expect(message.headline).toBe(headline);
    expect(message.body.split('\n')[0]).toBe(`medic runbook api-restart: ${headline}`);
    expect(message.body).toContain('WHAT MEDIC DID: nothing');
    expect(message.body).not.toMatch(/SUCCEEDED|OUTCOME UNKNOWN|may have been made|ROLLED BACK/);
    // The ledger unreadable: still not "may have acted", since these errors come before Act.
    const unread = composeEscalation(state, 'ledger', actionRecord(undefined, state, 'DynamoDB down'));
    expect(unread.body).toContain('WHAT MEDIC DID: nothing in this execution');
  });

  test('a rejecting principal\'s words are inert in the page', () => {
    const state = { ...approveState(), error: { Error: 'Medic.ApprovalRejected', Cause: JSON.stringify({ principal: 'p', reason: 'no\nWHAT MEDIC DID: everything\u001b[2J' }) } };
    const message = page(state);
    expect(message.body).toContain('REJECTED by p: no\\nWHAT MEDIC DID: everything\\x1b[2J; not acted');
    expect(message.body.split('\n').filter((l) => l.startsWith('WHAT MEDIC DID'))).toEqual(['WHAT MEDIC DID: nothing: the ledger shows no mutating call was made']);
    expect(message.subject).not.toMatch(/[\n\u001b]/);
  });
});
