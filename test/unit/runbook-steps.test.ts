import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetCalendarStateCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readActClaim } from '../../lambdas/shared/act-claim';
import { resourceLeaseKey } from '../../lambdas/shared/admission';
import { dynamo } from '../../lambdas/shared/clients';
import { readIncident, type LedgerEntry } from '../../lambdas/shared/ledger';
import { acquireLease, admitWithinRate } from '../../lambdas/shared/limiter';
import type { MutationGate } from '../../lambdas/shared/mutation-gate';
import {
  runbookHandler, STATE_LIMIT_BYTES, type ActOutput, type CheckResult, type RollbackOutput, type RunbookSteps, type StepName,
} from '../../lambdas/shared/runbook-steps';
import type { Admission, CheckVerdict, Mode, Plan, VerifyState, WorkflowState } from '../../lambdas/shared/types';
import { LocalDynamo } from '../../lib/local/dynalite';
import { freshTables } from '../support/tables';
import { ALARM, INCIDENT_ID, alarmTrigger, ecsRunbookSpec, ecsTarget, workflowState } from '../support/fixtures';

/**
 * The framework around every runbook step, against a real DynamoDB API (dynalite): the act
 * claim, the guards before every mutating call, the ledger entries and the page-facing records,
 * under concurrent invocations and injected faults. The runbook's own steps are fakes whose
 * mutations go through the gate like a real runbook's.
 */

const ssm = mockClient(SSMClient);
const cloudWatch = mockClient(CloudWatchClient);
const local = new LocalDynamo();

const GLOBAL_SWITCH = '/medic/kill-switch';
const RUNBOOK_SWITCH = '/medic/api-restart/kill-switch';
const CALENDAR = 'medic-freeze';
const TARGET_ARN = ecsTarget().arn;
const EVENT_AT = new Date(Date.now() - 60_000);

// ---- the fake runbook: each "mutation" is a call through the gate ------------------------------

interface FakeCall { readonly target: string; readonly fails?: Error; readonly wait?: Promise<void> }

let mutations: string[] = [];
let script: FakeCall[] = [];
const fake = {
  plan: jest.fn<Promise<Plan>, [WorkflowState]>(),
  check: jest.fn<Promise<CheckResult>, [WorkflowState]>(),
};

async function actThroughGate(state: WorkflowState, gate: MutationGate): Promise<ActOutput> {
  const batch = (state.act?.batch ?? -1) + 1;
  for (const call of script) {
    await gate.call({ service: 'ecs', operation: 'StopTask', target: call.target, parameters: { task: call.target } }, async () => {
      await call.wait;
      if (call.fails) throw call.fails;
      mutations.push(call.target);
      return { $metadata: { requestId: `req-${call.target}` } };
    });
  }
  return { summary: `stopped ${script.length} task(s)`, batch, moreBatches: false, details: {} };
}

async function rollBackThroughGate(_state: WorkflowState, gate: MutationGate): Promise<RollbackOutput> {
  const parameters = { AutoScalingGroupName: 'web-asg', HealthCheckType: 'EC2', HealthCheckGracePeriod: 0 };
  await gate.call({ service: 'autoscaling', operation: 'UpdateAutoScalingGroup', target: 'web-asg', parameters }, async () => {
    if (script[0]?.fails) throw script.shift()!.fails;
    mutations.push('rollback');
    return { $metadata: { requestId: 'req-rollback' } };
  });
  return { status: 'rolled-back', summary: 'restored web-asg to EC2 health checks' };
}

const steps: RunbookSteps = { plan: fake.plan, act: actThroughGate, check: fake.check, rollback: rollBackThroughGate };
const handler = runbookHandler(steps);

const ACT_PLAN: Plan = {
  decision: 'act', reason: 'service is stable', summary: 'StopTask on t1, t2', details: {},
  plannedCalls: [{ batch: 0, service: 'ecs', operation: 'StopTask', target: 't1' }, { batch: 0, service: 'ecs', operation: 'StopTask', target: 't2' }],
};

// ---- state builders ----------------------------------------------------------------------------

interface StateOptions {
  mode?: Mode;
  admission?: Admission | null;
  plan?: Plan;
  act?: WorkflowState['act'];
  verify?: VerifyState;
  changeCalendar?: string;
  incidentId?: string;
}

let incidentCounter = 0;
let incidentId = INCIDENT_ID;

function state(options: StateOptions = {}): WorkflowState {
  const base = workflowState({
    mode: options.mode,
    runbook: ecsRunbookSpec({
      verification: { initialDelaySeconds: 0, intervalSeconds: 0, maxChecks: 3, requiredConsecutiveSuccesses: 2 },
      killSwitch: { global: GLOBAL_SWITCH, runbook: RUNBOOK_SWITCH },
      changeCalendar: options.changeCalendar,
    }),
    admission: options.admission === null ? undefined : options.admission ?? { admitted: true, leases: [] },
    plan: options.plan,
    act: options.act,
    verify: options.verify,
  });
  return { ...base, incident: { ...base.incident!, incidentId: options.incidentId ?? incidentId, trigger: alarmTrigger({ at: EVENT_AT.toISOString() }) } };
}

const run = (step: StepName, s: WorkflowState, remainingMs?: number) =>
  handler({ step, state: s }, remainingMs === undefined ? undefined : ({ getRemainingTimeInMillis: () => remainingMs } as never));

const entries = (): Promise<LedgerEntry[]> => readIncident(process.env.MEDIC_LEDGER_TABLE!, incidentId);
const phasesOf = async (): Promise<string[]> => (await entries()).map((e) => e.phase);
const detailOf = async (phase: string): Promise<Record<string, any>> => {
  const entry = (await entries()).find((e) => e.phase === phase);
  if (!entry) throw new Error(`no ${phase} entry`);
  return JSON.parse(entry.detail);
};

const switches = (values: Record<string, string>): void => {
  ssm.on(GetParametersCommand).resolves({ Parameters: Object.entries(values).map(([Name, Value]) => ({ Name, Value })) });
};
const alarmIs = (StateValue: string, since: Date | undefined = EVENT_AT): void => {
  cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: ALARM, StateValue: StateValue as never, StateTransitionedTimestamp: since }] });
};

async function expectRejection(promise: Promise<unknown>, name: string): Promise<Error> {
  const error = await promise.then(() => undefined, (e: unknown) => e as Error);
  expect(error).toBeInstanceOf(Error);
  expect(error!.name).toBe(name);
  return error!;
}

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'req-throttled' } });
const serverError = () => Object.assign(new Error('We encountered an internal error'), { name: 'ServerException', $fault: 'server', $metadata: { httpStatusCode: 500, requestId: 'req-500' } });
const timedOut = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });

/** The incident's target lease, taken as Admit takes it: the admission that holds it, with its epoch. */
async function admittedWithLease(): Promise<Admission> {
  const lease = await acquireLease(process.env.MEDIC_LIMITER_TABLE!, resourceLeaseKey(TARGET_ARN), incidentId, 1, 7200);
  return { admitted: true, leases: [resourceLeaseKey(TARGET_ARN)], epochs: { [resourceLeaseKey(TARGET_ARN)]: lease.epoch! } };
}

beforeAll(async () => {
  await local.start();
});
afterAll(async () => {
  ssm.restore();
  cloudWatch.restore();
  dynamo().destroy();
  await local.stop();
});
beforeEach(async () => {
  jest.resetAllMocks();
  ssm.reset();
  cloudWatch.reset();
  await freshTables(local, 'steps');
  incidentId = `${INCIDENT_ID}-${++incidentCounter}`;
  mutations = [];
  script = [{ target: 't1' }, { target: 't2' }];
  switches({ [GLOBAL_SWITCH]: 'off', [RUNBOOK_SWITCH]: 'off' });
  ssm.on(GetCalendarStateCommand).resolves({ State: 'OPEN' });
  alarmIs('ALARM');
});

// ---- plan: the trigger is read again before planning ---------------------------------------------

describe('plan re-reads the alarm before planning', () => {
  test('still in ALARM since the event: the runbook plans, and the plan is recorded', async () => {
    fake.plan.mockResolvedValue(ACT_PLAN);
    expect(await run('plan', state())).toEqual(ACT_PLAN);
    expect(fake.plan).toHaveBeenCalledTimes(1);
    expect(await phasesOf()).toEqual(['planned']);
  });

  test('observe mode records what it would do', async () => {
    fake.plan.mockResolvedValue(ACT_PLAN);
    await run('plan', state({ mode: 'observe' }));
    expect(await detailOf('planned')).toMatchObject({ decision: 'act', wouldAct: ACT_PLAN.summary });
  });

  test('back to OK: recovered before action, nothing planned, nothing to do', async () => {
    alarmIs('OK', new Date(EVENT_AT.getTime() + 30_000));
    const plan = (await run('plan', state())) as Plan;
    expect(plan.decision).toBe('noop');
    expect(plan.reason).toMatch(/^recovered before action: alarm prod-api-5xx is back to OK since /);
    expect(fake.plan).not.toHaveBeenCalled();
    expect(await detailOf('planned')).toMatchObject({ decision: 'noop', details: { recoveredBeforeAction: true } });
  });

  test('INSUFFICIENT_DATA now: no action on the old evidence', async () => {
    alarmIs('INSUFFICIENT_DATA', new Date(EVENT_AT.getTime() + 30_000));
    expect(((await run('plan', state())) as Plan).decision).toBe('noop');
    expect(fake.plan).not.toHaveBeenCalled();
  });

  test('in ALARM again since a later transition: this event is superseded', async () => {
    alarmIs('ALARM', new Date(EVENT_AT.getTime() + 120_000));
    const plan = (await run('plan', state())) as Plan;
    expect(plan).toMatchObject({ decision: 'noop', reason: expect.stringMatching(/changed state after this event/) });
    expect(fake.plan).not.toHaveBeenCalled();
  });

  test('an event claiming a transition CloudWatch never made (a made-up time) is escalated, not acted on', async () => {
    alarmIs('ALARM', new Date(EVENT_AT.getTime() - 3600_000));
    const plan = (await run('plan', state())) as Plan;
    expect(plan).toMatchObject({ decision: 'escalate', reason: expect.stringMatching(/does not describe this alarm's transition/) });
    expect(fake.plan).not.toHaveBeenCalled();
  });

  test.each([
    ['unreadable', () => cloudWatch.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' })), /could not be read again before acting \(failing closed\)/],
    ['gone', () => cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] }), /no longer exists/],
    ['without a transition time', () => cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: ALARM, StateValue: 'ALARM' }] }), /did not say when .* \(failing closed\)/],
  ])('an alarm that is %s fails closed: escalated', async (_, arrange, why) => {
    arrange();
    const plan = (await run('plan', state())) as Plan;
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toMatch(why);
    expect(fake.plan).not.toHaveBeenCalled();
  });

  test('refuses to plan for an incident that was not admitted', async () => {
    await expectRejection(run('plan', state({ admission: { admitted: false, reason: 'rate limit', leases: [] } })), 'Medic.InvalidState');
    expect(fake.plan).not.toHaveBeenCalled();
  });

  test('a plan that would not fit the workflow state fails the step instead of the execution', async () => {
    fake.plan.mockResolvedValue({ ...ACT_PLAN, details: { padding: 'x'.repeat(STATE_LIMIT_BYTES) } });
    const error = await expectRejection(run('plan', state()), 'Medic.StateTooLarge');
    expect(error.message).toMatch(/over the \d+-byte budget/);
  });
});

describe('plan admits the resources an action covers besides its target', () => {
  const INSTANCE = (n: number) => `arn:aws:ec2:eu-west-1:111111111111:instance/i-${n}`;
  const fleetPlan: Plan = { ...ACT_PLAN, resources: [INSTANCE(1), INSTANCE(2)] };

  test('free resources: their leases are taken (with epochs) and their budgets counted', async () => {
    fake.plan.mockResolvedValue(fleetPlan);
    const plan = (await run('plan', state())) as Plan;
    expect(plan.decision).toBe('act');
    expect(plan.leases).toEqual([resourceLeaseKey(INSTANCE(1)), resourceLeaseKey(INSTANCE(2))]);
    expect(Object.keys(plan.epochs ?? {})).toHaveLength(2);
    const budget = await admitWithinRate(process.env.MEDIC_LIMITER_TABLE!, INSTANCE(1), 'someone-else', 1, 3600, Date.now(), false);
    expect(budget).toMatchObject({ admitted: false, inWindow: 1 });
  });

  test('a resource another incident holds (an instance prune on one of the fleet): escalated, nothing kept', async () => {
    await acquireLease(process.env.MEDIC_LIMITER_TABLE!, resourceLeaseKey(INSTANCE(2)), 'disk-prune-instance-incident', 1, 7200);
    fake.plan.mockResolvedValue(fleetPlan);
    const plan = (await run('plan', state())) as Plan;
    expect(plan).toMatchObject({ decision: 'escalate', reason: expect.stringMatching(/^not admitted: another incident is in flight on .*i-2: disk-prune-instance-incident/) });
    expect(plan.leases).toBeUndefined();
    expect(await phasesOf()).toEqual(['denied', 'planned']);
    expect(await detailOf('denied')).toMatchObject({ stage: 'plan', category: 'target-busy' });
    // The lease on i-1 taken on the way was given back.
    const item = await dynamo().send(new GetCommand({ TableName: process.env.MEDIC_LIMITER_TABLE!, Key: { pk: `LEASE#${resourceLeaseKey(INSTANCE(1))}` }, ConsistentRead: true }));
    expect(item.Item?.holders ?? {}).toEqual({});
  });

  test('observe mode takes nothing and says a real run would be denied', async () => {
    await acquireLease(process.env.MEDIC_LIMITER_TABLE!, resourceLeaseKey(INSTANCE(1)), 'other', 1, 7200);
    fake.plan.mockResolvedValue(fleetPlan);
    const plan = (await run('plan', state({ mode: 'observe' }))) as Plan;
    expect(plan.decision).toBe('act');
    expect(plan.reason).toMatch(/a real run would be denied/);
  });
});

// ---- act: refusals ----------------------------------------------------------------------------

describe('act refuses without the preconditions', () => {
  test.each<Mode>(['observe', 'approve'])('in mode %s', async (mode) => {
    const error = await expectRejection(run('act', state({ mode, plan: ACT_PLAN })), 'Medic.InvalidState');
    expect(error.message).toContain(mode);
    expect(mutations).toEqual([]);
  });

  test('without an admission, or with a denied one', async () => {
    await expectRejection(run('act', state({ admission: null, plan: ACT_PLAN })), 'Medic.InvalidState');
    await expectRejection(run('act', state({ admission: { admitted: false, reason: 'frozen', leases: [] }, plan: ACT_PLAN })), 'Medic.InvalidState');
    expect(mutations).toEqual([]);
  });

  test.each(['defer', 'noop', 'escalate'] as const)('when the plan decided %s', async (decision) => {
    await expectRejection(run('act', state({ plan: { ...ACT_PLAN, decision } })), 'Medic.InvalidState');
    expect(mutations).toEqual([]);
  });

  test('for a rejected incident', async () => {
    const s = state({ plan: ACT_PLAN });
    await expectRejection(run('act', { ...s, incident: { ...s.incident!, status: 'rejected' } }), 'Medic.InvalidState');
    expect(mutations).toEqual([]);
  });
});

// ---- act: every guard before every call --------------------------------------------------------

describe('act re-checks every guard right before every mutating call', () => {
  test('all guards pass: each call is recorded with its outcome and request id', async () => {
    const result = await run('act', state({ plan: ACT_PLAN }));
    expect(mutations).toEqual(['t1', 't2']);
    expect(result).toMatchObject({ calls: [{ target: 't1', outcome: 'succeeded', requestId: 'req-t1' }, { target: 't2', outcome: 'succeeded', requestId: 'req-t2' }] });
    expect(await phasesOf()).toEqual(['acting', 'acted']);
    expect((await detailOf('acting')).planned).toEqual(ACT_PLAN.plannedCalls);
    // Both switches read before each of the two calls.
    expect(ssm).toHaveReceivedCommandTimes(GetParametersCommand, 2);
  });

  const engaged: Array<[string, Record<string, string>, RegExp]> = [
    ['the global switch "on"', { [GLOBAL_SWITCH]: 'on', [RUNBOOK_SWITCH]: 'off' }, /\/medic\/kill-switch is "on"/],
    ['the runbook switch "on"', { [GLOBAL_SWITCH]: 'off', [RUNBOOK_SWITCH]: 'on' }, /api-restart\/kill-switch is "on"/],
    ['"Off" (only exactly "off" passes)', { [GLOBAL_SWITCH]: 'Off', [RUNBOOK_SWITCH]: 'off' }, /is "Off", which is not exactly "off"/],
    ['" off" with a space', { [GLOBAL_SWITCH]: 'off', [RUNBOOK_SWITCH]: ' off' }, /is " off", which is not exactly "off"/],
    ['"off" and a newline', { [GLOBAL_SWITCH]: 'off\n', [RUNBOOK_SWITCH]: 'off' }, /is "off\\n", which is not exactly "off"/],
    ['"of"', { [GLOBAL_SWITCH]: 'off', [RUNBOOK_SWITCH]: 'of' }, /is "of"/],
    ['the runbook parameter missing', { [GLOBAL_SWITCH]: 'off' }, /api-restart\/kill-switch is missing/],
  ];
  test.each(engaged)('kill switch %s: denied, recorded, nothing mutated', async (_, values, why) => {
    switches(values);
    const error = await expectRejection(run('act', state({ plan: ACT_PLAN })), 'Medic.KillSwitchEngaged');
    expect(error.message).toMatch(why);
    expect(mutations).toEqual([]);
    expect(await phasesOf()).toEqual(['acting', 'denied']);
    expect(await detailOf('denied')).toMatchObject({ stage: 'act', category: 'kill-switch', notExecuted: true, calls: [{ target: 't1', outcome: 'not-made' }] });
  });

  test('SSM unreadable: fails closed', async () => {
    ssm.on(GetParametersCommand).rejects(throttled());
    await expectRejection(run('act', state({ plan: ACT_PLAN })), 'Medic.KillSwitchEngaged');
    expect(mutations).toEqual([]);
  });

  test('kill switch flipped between two calls of a batch: the first is recorded done, the second not made', async () => {
    ssm.on(GetParametersCommand)
      .resolvesOnce({ Parameters: [{ Name: GLOBAL_SWITCH, Value: 'off' }, { Name: RUNBOOK_SWITCH, Value: 'off' }] })
      .resolves({ Parameters: [{ Name: GLOBAL_SWITCH, Value: 'on' }, { Name: RUNBOOK_SWITCH, Value: 'off' }] });
    await expectRejection(run('act', state({ plan: ACT_PLAN })), 'Medic.KillSwitchEngaged');
    expect(mutations).toEqual(['t1']);
    expect((await detailOf('denied')).calls).toMatchObject([{ target: 't1', outcome: 'succeeded', requestId: 'req-t1' }, { target: 't2', outcome: 'not-made' }]);
    // The batch is settled as failed: a retry must not act again.
    expect((await readActClaim(process.env.MEDIC_LIMITER_TABLE!, incidentId, 0))?.state).toBe('failed');
  });

  test('change calendar CLOSED right before the call: denied, nothing mutated', async () => {
    ssm.on(GetCalendarStateCommand).resolves({ State: 'CLOSED' });
    const error = await expectRejection(run('act', state({ plan: ACT_PLAN, changeCalendar: CALENDAR })), 'Medic.ChangeFrozen');
    expect(error.message).toMatch(/medic-freeze is CLOSED/);
    expect(mutations).toEqual([]);
    expect(await detailOf('denied')).toMatchObject({ stage: 'act', category: 'change-freeze', notExecuted: true });
  });

  test('change calendar closes before a later batch: that batch is not made', async () => {
    const s = state({ plan: ACT_PLAN, changeCalendar: CALENDAR });
    await run('act', s);
    ssm.on(GetCalendarStateCommand).resolves({ State: 'CLOSED' });
    const batch1 = { summary: 'batch 1', calls: [], batch: 0, moreBatches: true, details: {} };
    await expectRejection(run('act', { ...s, act: batch1 }), 'Medic.ChangeFrozen');
    expect(mutations).toEqual(['t1', 't2']);
  });

  test('change calendar unreadable: fails closed', async () => {
    ssm.on(GetCalendarStateCommand).rejects(serverError());
    await expectRejection(run('act', state({ plan: ACT_PLAN, changeCalendar: CALENDAR })), 'Medic.ChangeFrozen');
    expect(mutations).toEqual([]);
  });

  test('holding the target lease: acts', async () => {
    await run('act', state({ plan: ACT_PLAN, admission: await admittedWithLease() }));
    expect(mutations).toEqual(['t1', 't2']);
  });

  test('the lease expired and another incident took the target over: the old incident does not act', async () => {
    const admission = await admittedWithLease();
    // Another incident takes the target after this incident's lease ran out (its clock is 3 hours ahead).
    const later = Date.now() + 3 * 3600_000;
    await acquireLease(process.env.MEDIC_LIMITER_TABLE!, resourceLeaseKey(TARGET_ARN), 'newer-incident', 1, 7200, later);
    const error = await expectRejection(run('act', state({ plan: ACT_PLAN, admission })), 'Medic.LeaseLost');
    expect(error.message).toMatch(/no longer held by this incident \(now held by newer-incident\)/);
    expect(mutations).toEqual([]);
    expect(await detailOf('denied')).toMatchObject({ stage: 'act', category: 'target-busy' });
  });

  test('a lease granted again under a new epoch (released and re-taken) does not let the old holder act', async () => {
    const admission = await admittedWithLease();
    await dynamo().send(new PutCommand({
      TableName: process.env.MEDIC_LIMITER_TABLE!,
      Item: { pk: `LEASE#${resourceLeaseKey(TARGET_ARN)}`, version: 9, holders: { [incidentId]: { expiry: Date.now() + 3600_000, epoch: 9 } }, expiresAt: 0 },
    }));
    await expectRejection(run('act', state({ plan: ACT_PLAN, admission })), 'Medic.LeaseLost');
    expect(mutations).toEqual([]);
  });
});

// ---- act: at most once ------------------------------------------------------------------------

describe('act is at most once per batch', () => {
  test('two overlapping invocations of the same batch: exactly one set of mutations, both return its result', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    script = [{ target: 't1', wait: gate }, { target: 't2' }];
    const s = state({ plan: ACT_PLAN });
    const first = run('act', s);
    // The second starts only once the first has claimed the batch and is inside its first call.
    while ((await readActClaim(process.env.MEDIC_LIMITER_TABLE!, incidentId, 0))?.state !== 'acting') await new Promise((r) => setImmediate(r));
    const second = run('act', s);
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(mutations).toEqual(['t1', 't2']);
    expect(b).toEqual(a);
    expect(await phasesOf()).toEqual(['acting', 'acted']);
  });

  test('a retry after the batch was acted returns the recorded result without acting', async () => {
    const s = state({ plan: ACT_PLAN });
    const first = await run('act', s);
    const again = await run('act', s);
    expect(again).toEqual(first);
    expect(mutations).toEqual(['t1', 't2']);
  });

  test('an attempt that claimed the batch and never settled (crashed mid-call) is never repeated: ActOutcomeUnknown', async () => {
    const s = state({ plan: ACT_PLAN });
    await dynamo().send(new PutCommand({
      TableName: process.env.MEDIC_LIMITER_TABLE!,
      Item: { pk: `ACT#${incidentId}#0`, owner: 'crashed-invocation', state: 'acting', attempt: 1, claimedAt: new Date().toISOString() },
    }));
    const error = await expectRejection(run('act', s, 5600), 'Medic.ActOutcomeUnknown');
    expect(error.message).toMatch(/another attempt \(crashed-invocation\) has been acting on batch 0 .* not acting twice/);
    expect(mutations).toEqual([]);
  });

  test('the owner recorded "acted" but could not settle its claim: a retry takes the ledger\'s result, no second call', async () => {
    const s = state({ plan: ACT_PLAN });
    const first = await run('act', s);
    await dynamo().send(new PutCommand({
      TableName: process.env.MEDIC_LIMITER_TABLE!,
      Item: { pk: `ACT#${incidentId}#0`, owner: 'the-first-invocation', state: 'acting', attempt: 1, claimedAt: new Date().toISOString() },
    }));
    expect(await run('act', s, 5600)).toEqual(first);
    expect(mutations).toEqual(['t1', 't2']);
  });

  test('the first call throttled (refused, not executed): the claim is released and a retry acts once', async () => {
    script = [{ target: 't1', fails: throttled() }, { target: 't2' }];
    const s = state({ plan: ACT_PLAN });
    await expectRejection(run('act', s), 'ThrottlingException');
    expect(await detailOf('act-failed')).toMatchObject({ notExecuted: true, calls: [{ target: 't1', outcome: 'refused', requestId: 'req-throttled' }] });
    script = [{ target: 't1' }, { target: 't2' }];
    await run('act', s);
    expect(mutations).toEqual(['t1', 't2']);
  });

  test('a 5xx after the first call succeeded: outcome unknown, never retried, every call recorded', async () => {
    script = [{ target: 't1' }, { target: 't2', fails: serverError() }];
    const s = state({ plan: ACT_PLAN });
    const error = await expectRejection(run('act', s), 'Medic.ActOutcomeUnknown');
    expect(error.message).toMatch(/StopTask t1: succeeded \(request req-t1\); StopTask t2: unknown/);
    expect(await detailOf('act-failed')).toMatchObject({
      notExecuted: false,
      calls: [{ target: 't1', outcome: 'succeeded', requestId: 'req-t1' }, { target: 't2', outcome: 'unknown', requestId: 'req-500' }],
    });
    script = [{ target: 't1' }, { target: 't2' }];
    await expectRejection(run('act', s, 5600), 'Medic.ActOutcomeUnknown');
    expect(mutations).toEqual(['t1']);
  });

  test('a timeout on the only call is outcome unknown, not "not executed"', async () => {
    script = [{ target: 't1', fails: timedOut() }];
    await expectRejection(run('act', state({ plan: ACT_PLAN })), 'Medic.ActOutcomeUnknown');
    expect(await detailOf('act-failed')).toMatchObject({ notExecuted: false, calls: [{ target: 't1', outcome: 'unknown' }] });
  });

  test('throttled after the first call succeeded: ActIncomplete (not retried), the done call recorded', async () => {
    script = [{ target: 't1' }, { target: 't2', fails: throttled() }];
    const error = await expectRejection(run('act', state({ plan: ACT_PLAN })), 'Medic.ActIncomplete');
    expect(error.message).toMatch(/after part of the batch was done/);
    expect(mutations).toEqual(['t1']);
  });

  test('the ledger is down when "acting" would be written: no call is made and the claim is released', async () => {
    const s = state({ plan: ACT_PLAN });
    const ledger = process.env.MEDIC_LEDGER_TABLE;
    process.env.MEDIC_LEDGER_TABLE = 'no-such-table';
    try {
      await expectRejection(run('act', s), 'ResourceNotFoundException');
    } finally {
      process.env.MEDIC_LEDGER_TABLE = ledger;
    }
    expect(mutations).toEqual([]);
    expect((await readActClaim(process.env.MEDIC_LIMITER_TABLE!, incidentId, 0))?.state).toBe('refused');
    await run('act', s);
    expect(mutations).toEqual(['t1', 't2']);
  });
});

// ---- rollback ---------------------------------------------------------------------------------

describe('rollback', () => {
  const rollbackState = (options: StateOptions = {}) => state({ plan: ACT_PLAN, act: { summary: 'set ELB', calls: [], batch: 0, moreBatches: false, details: {} }, ...options });

  test('rolls back and records the call with its request id', async () => {
    const result = await run('rollback', rollbackState());
    expect(result).toMatchObject({ status: 'rolled-back', calls: [{ operation: 'UpdateAutoScalingGroup', outcome: 'succeeded', requestId: 'req-rollback' }] });
    expect(await phasesOf()).toEqual(['rolled-back']);
  });

  test('during a change freeze it proceeds (undoing medic\'s own change) and says so', async () => {
    ssm.on(GetCalendarStateCommand).resolves({ State: 'CLOSED' });
    const result = await run('rollback', rollbackState({ changeCalendar: CALENDAR }));
    expect(mutations).toEqual(['rollback']);
    expect(result).toMatchObject({ notes: [expect.stringMatching(/^rolled back during a change freeze \(change calendar medic-freeze is CLOSED/)] });
  });

  test('the kill switch stops it: recorded with the exact values it would have restored', async () => {
    switches({ [GLOBAL_SWITCH]: 'on', [RUNBOOK_SWITCH]: 'off' });
    await expectRejection(run('rollback', rollbackState()), 'Medic.KillSwitchEngaged');
    expect(mutations).toEqual([]);
    expect(await detailOf('rollback-failed')).toMatchObject({
      retryable: false,
      calls: [{ operation: 'UpdateAutoScalingGroup', outcome: 'not-made', parameters: { AutoScalingGroupName: 'web-asg', HealthCheckType: 'EC2', HealthCheckGracePeriod: 0 } }],
    });
  });

  test.each([
    ['throttling', throttled()],
    ['ResourceContentionFault', Object.assign(new Error('contention'), { name: 'ResourceContentionFault', $fault: 'server', $metadata: { httpStatusCode: 500 } })],
    ['a 5xx', serverError()],
    ['a timeout', timedOut()],
  ])('%s: recorded, and failed as retryable for the state machine to retry', async (_, error) => {
    script = [{ target: 'rollback', fails: error }];
    await expectRejection(run('rollback', rollbackState()), 'Medic.RollbackRetryable');
    expect(await detailOf('rollback-failed')).toMatchObject({ retryable: true });
    // The retry succeeds.
    await run('rollback', rollbackState());
    expect(mutations).toEqual(['rollback']);
  });

  test('a refusal that retrying cannot fix (validation error) is not retried', async () => {
    script = [{ target: 'rollback', fails: Object.assign(new Error('bad value'), { name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 } }) }];
    await expectRejection(run('rollback', rollbackState()), 'ValidationError');
    expect(await detailOf('rollback-failed')).toMatchObject({ retryable: false });
  });

  test('a runbook without a rollback: invalid state', async () => {
    const noRollback = runbookHandler({ ...steps, rollback: undefined });
    await expectRejection(noRollback({ step: 'rollback', state: rollbackState() }), 'Medic.InvalidState');
  });
});

// ---- check: counting --------------------------------------------------------------------------

describe('check counts readings into a verification', () => {
  const acted = (batch = 0) => ({ summary: `did batch ${batch}`, calls: [], batch, moreBatches: false, details: {} });

  /** Feeds verdicts one by one, carrying the returned VerifyState forward like the state machine does. */
  async function verifyWith(verdicts: CheckVerdict[], act = acted(), initial?: VerifyState): Promise<VerifyState[]> {
    const results: VerifyState[] = [];
    let verify = initial;
    for (const [i, verdict] of verdicts.entries()) {
      fake.check.mockResolvedValueOnce({ verdict, reason: `reading ${i + 1}: ${verdict}`, readings: { n: i + 1 } });
      verify = (await run('check', state({ plan: ACT_PLAN, act, verify }))) as VerifyState;
      results.push(verify);
    }
    return results;
  }

  test('success, success: succeeded on the second check', async () => {
    const [first, second] = await verifyWith(['success', 'success']);
    expect(first).toMatchObject({ status: 'pending', checks: 1, consecutiveSuccesses: 1 });
    expect(second).toMatchObject({ status: 'succeeded', checks: 2, consecutiveSuccesses: 2, lastVerdict: 'success', lastReadings: { n: 2 } });
    expect(await phasesOf()).toEqual(['checked', 'checked', 'verified']);
  });

  test('success, pending, success: a streak is broken, not verified after 3 checks', async () => {
    const results = await verifyWith(['success', 'pending', 'success']);
    expect(results.map((v) => v.status)).toEqual(['pending', 'pending', 'failed']);
    expect(results.map((v) => v.consecutiveSuccesses)).toEqual([1, 0, 1]);
    expect(results[2].reason).toMatch(/not verified after 3 check/);
    expect(await phasesOf()).toEqual(['checked', 'checked', 'checked', 'verification-failed']);
  });

  test('inconclusive x3: failed, and the reason says inconclusive', async () => {
    const results = await verifyWith(['inconclusive', 'inconclusive', 'inconclusive']);
    expect(results.map((v) => v.status)).toEqual(['pending', 'pending', 'failed']);
    expect(results[2].reason).toContain('inconclusive');
  });

  test('a failure verdict fails at once', async () => {
    const [only] = await verifyWith(['failure']);
    expect(only).toMatchObject({ status: 'failed', checks: 1, lastVerdict: 'failure', reason: 'reading 1: failure' });
  });

  test('counters restart when the act batch changes; a stale streak of another batch does not count', async () => {
    const previousBatch: VerifyState = { status: 'pending', batch: 0, checks: 2, consecutiveSuccesses: 1, lastVerdict: 'success', lastReadings: {}, reason: 'ok' };
    const [first, second] = await verifyWith(['success', 'success'], acted(1), previousBatch);
    expect(first).toMatchObject({ batch: 1, status: 'pending', checks: 1, consecutiveSuccesses: 1 });
    expect(second).toMatchObject({ batch: 1, status: 'succeeded', checks: 2 });
  });

  test('refuses to check when nothing was acted on', async () => {
    await expectRejection(run('check', state({ plan: ACT_PLAN })), 'Medic.InvalidState');
    expect(fake.check).not.toHaveBeenCalled();
  });

  test('an unknown step is an invalid state', async () => {
    await expectRejection(handler({ step: 'explode' as StepName, state: state() }), 'Medic.InvalidState');
  });
});
