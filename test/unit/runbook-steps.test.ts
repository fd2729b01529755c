import 'aws-sdk-client-mock-jest';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { LedgerEntry } from '../../lambdas/shared/ledger';
import { runbookHandler, type CheckResult, type RunbookSteps, type StepName } from '../../lambdas/shared/runbook-steps';
import type { ActResult, Admission, CheckVerdict, Mode, Plan, VerifyState, WorkflowState } from '../../lambdas/shared/types';
import { INCIDENT_ID, ecsRunbookSpec, workflowState } from '../support/fixtures';

const dynamo = mockClient(DynamoDBDocumentClient);
const ssm = mockClient(SSMClient);

const GLOBAL_SWITCH = '/medic/kill-switch';
const RUNBOOK_SWITCH = '/medic/api-restart/kill-switch';

// ---- fakes and builders ---------------------------------------------------------------------

const fake = {
  plan: jest.fn<Promise<Plan>, [WorkflowState]>(),
  act: jest.fn<Promise<ActResult>, [WorkflowState]>(),
  check: jest.fn<Promise<CheckResult>, [WorkflowState]>(),
};
const fakeSteps: RunbookSteps = { plan: fake.plan, act: fake.act, check: fake.check };
const handler = runbookHandler(fakeSteps);

const ACT_PLAN: Plan = { decision: 'act', reason: 'service is stable', summary: 'UpdateService forceNewDeployment on prod/api', details: {} };
const actResult = (batch: number, moreBatches = false): ActResult =>
  ({ summary: `did batch ${batch}`, calls: [{ service: 'ecs', operation: 'UpdateService', parameters: {} }], batch, moreBatches, details: {} });

interface StateOptions {
  mode?: Mode;
  admission?: Admission | null;
  plan?: Plan;
  act?: ActResult;
  verify?: VerifyState;
}

/** The default state, with a runbook that verifies without delays and reads the kill switches above. */
function state(options: StateOptions = {}): WorkflowState {
  return workflowState({
    mode: options.mode,
    runbook: ecsRunbookSpec({
      verification: { initialDelaySeconds: 0, intervalSeconds: 0, maxChecks: 3, requiredConsecutiveSuccesses: 2 },
      killSwitch: { global: GLOBAL_SWITCH, runbook: RUNBOOK_SWITCH },
    }),
    admission: options.admission === null ? undefined : options.admission ?? { admitted: true, leases: [] },
    plan: options.plan,
    act: options.act,
    verify: options.verify,
  });
}

const run = (step: StepName, s: WorkflowState) => handler({ step, state: s });

/** Every ledger entry the handler tried to write, in order. */
const written = (): LedgerEntry[] => dynamo.commandCalls(PutCommand).map((call) => call.args[0].input.Item as LedgerEntry);
const phasesWritten = (): string[] => written().map((entry) => entry.phase);

const switches = (values: Record<string, string>): void => {
  ssm.on(GetParametersCommand).resolves({ Parameters: Object.entries(values).map(([Name, Value]) => ({ Name, Value })) });
};

/** The incident's entries as the ledger returns them; the fork check after each append finds nothing. */
const ledgerHolds = (items: Array<Partial<LedgerEntry>>): void => {
  dynamo.on(QueryCommand).resolves({ Items: items });
  dynamo.on(QueryCommand, { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :seq)' }).resolves({ Items: [] });
};

/** A ledger entry as it sits in the table (only the fields alreadyActed reads matter). */
const ledgerEntry = (seq: number, phase: LedgerEntry['phase'], detail: unknown): Partial<LedgerEntry> =>
  ({ pk: `INCIDENT#${INCIDENT_ID}`, sk: `${String(seq).padStart(6, '0')}#${phase}`, incidentId: INCIDENT_ID, seq, phase, detail: JSON.stringify(detail), hash: 'h'.repeat(64) });

async function expectRejection(promise: Promise<unknown>, name: string): Promise<Error> {
  const error = await promise.then(() => undefined, (e: unknown) => e as Error);
  expect(error).toBeInstanceOf(Error);
  expect(error!.name).toBe(name);
  return error!;
}

beforeEach(() => {
  jest.resetAllMocks();
  dynamo.reset();
  ssm.reset();
  ledgerHolds([]);
  dynamo.on(PutCommand).resolves({});
  switches({ [GLOBAL_SWITCH]: 'off', [RUNBOOK_SWITCH]: 'off' });
});
afterAll(() => {
  dynamo.restore();
  ssm.restore();
});

// ---- plan -----------------------------------------------------------------------------------

describe('plan', () => {
  test('observe mode records a "planned" entry saying what it would do', async () => {
    fake.plan.mockResolvedValue(ACT_PLAN);
    const plan = await run('plan', state({ mode: 'observe' }));
    expect(plan).toEqual(ACT_PLAN);
    const [entry] = written();
    expect(entry.phase).toBe('planned');
    expect(entry.mode).toBe('observe');
    expect(JSON.parse(entry.detail)).toMatchObject({ decision: 'act', wouldAct: ACT_PLAN.summary });
  });

  test('auto mode records the plan without "wouldAct"', async () => {
    fake.plan.mockResolvedValue(ACT_PLAN);
    await run('plan', state({ mode: 'auto' }));
    const [entry] = written();
    expect(entry.phase).toBe('planned');
    expect(JSON.parse(entry.detail)).not.toHaveProperty('wouldAct');
  });

  test('refuses to plan for an incident that was not admitted', async () => {
    await expectRejection(run('plan', state({ admission: { admitted: false, reason: 'rate limit', leases: [] } })), 'Medic.InvalidState');
    expect(fake.plan).not.toHaveBeenCalled();
  });
});

// ---- act: refusals --------------------------------------------------------------------------

describe('act refuses without the preconditions', () => {
  test.each<Mode>(['observe', 'approve'])('in mode %s', async (mode) => {
    const error = await expectRejection(run('act', state({ mode, plan: ACT_PLAN })), 'Medic.InvalidState');
    expect(error.message).toContain(mode);
    expect(fake.act).not.toHaveBeenCalled();
  });

  test('without an admission', async () => {
    await expectRejection(run('act', state({ admission: null, plan: ACT_PLAN })), 'Medic.InvalidState');
    expect(fake.act).not.toHaveBeenCalled();
  });

  test('with a denied admission', async () => {
    await expectRejection(run('act', state({ admission: { admitted: false, reason: 'frozen', leases: [] }, plan: ACT_PLAN })), 'Medic.InvalidState');
    expect(fake.act).not.toHaveBeenCalled();
  });

  test.each(['defer', 'noop', 'escalate'] as const)('when the plan decided %s', async (decision) => {
    await expectRejection(run('act', state({ plan: { ...ACT_PLAN, decision } })), 'Medic.InvalidState');
    expect(fake.act).not.toHaveBeenCalled();
  });

  test('without a plan', async () => {
    await expectRejection(run('act', state()), 'Medic.InvalidState');
    expect(fake.act).not.toHaveBeenCalled();
  });

  test('for a rejected incident', async () => {
    const s = state({ plan: ACT_PLAN });
    await expectRejection(run('act', { ...s, incident: { ...s.incident!, status: 'rejected' } }), 'Medic.InvalidState');
    expect(fake.act).not.toHaveBeenCalled();
  });
});

// ---- act: kill switch -----------------------------------------------------------------------

describe('act and the kill switch', () => {
  test('both switches off: acts once and records "acted" with the result', async () => {
    fake.act.mockResolvedValue(actResult(0));
    const result = await run('act', state({ plan: ACT_PLAN }));
    expect(result).toEqual(actResult(0));
    expect(fake.act).toHaveBeenCalledTimes(1);
    expect(ssm).toHaveReceivedCommandWith(GetParametersCommand, { Names: [GLOBAL_SWITCH, RUNBOOK_SWITCH] });
    expect(phasesWritten()).toEqual(['acting', 'acted']);
    expect(JSON.parse(written()[1].detail).result).toEqual(actResult(0));
  });

  const engaged: Array<[string, () => void, RegExp]> = [
    ['the global switch "on"', () => switches({ [GLOBAL_SWITCH]: 'on', [RUNBOOK_SWITCH]: 'off' }), /\/medic\/kill-switch is "on"/],
    ['the runbook switch "on"', () => switches({ [GLOBAL_SWITCH]: 'off', [RUNBOOK_SWITCH]: 'on' }), /api-restart\/kill-switch is "on"/],
    ['an unexpected value', () => switches({ [GLOBAL_SWITCH]: 'off', [RUNBOOK_SWITCH]: 'of' }), /is "of"/],
    ['the runbook parameter missing', () => switches({ [GLOBAL_SWITCH]: 'off' }), /api-restart\/kill-switch is missing/],
    ['SSM throwing', () => ssm.on(GetParametersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })), /could not be read.*ThrottlingException/],
  ];

  test.each(engaged)('%s: denied, recorded, nothing mutated', async (_, arrange, why) => {
    arrange();
    fake.act.mockResolvedValue(actResult(0));
    const error = await expectRejection(run('act', state({ plan: ACT_PLAN })), 'Medic.KillSwitchEngaged');
    expect(error.message).toMatch(why);
    expect(fake.act).not.toHaveBeenCalled();
    expect(phasesWritten()).toEqual(['denied']);
    expect(JSON.parse(written()[0].detail)).toMatchObject({ stage: 'act', reason: expect.stringMatching(why) });
  });
});

// ---- act: idempotent retry ------------------------------------------------------------------

describe('act is idempotent per batch', () => {
  test('a retry of an acted batch returns the recorded result without acting again', async () => {
    const recorded = actResult(0);
    ledgerHolds([ledgerEntry(1, 'received', {}), ledgerEntry(2, 'planned', ACT_PLAN), ledgerEntry(3, 'acted', { result: recorded })]);
    fake.act.mockResolvedValue(actResult(0));
    const result = await run('act', state({ plan: ACT_PLAN }));
    expect(result).toEqual(recorded);
    expect(fake.act).not.toHaveBeenCalled();
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });

  test('an acted earlier batch does not stop the next batch', async () => {
    ledgerHolds([ledgerEntry(3, 'acted', { result: actResult(0, true) })]);
    fake.act.mockResolvedValue(actResult(1));
    const result = await run('act', state({ plan: ACT_PLAN, act: actResult(0, true) }));
    expect(result).toEqual(actResult(1));
    expect(fake.act).toHaveBeenCalledTimes(1);
    expect(fake.act.mock.calls[0][0].act).toEqual(actResult(0, true));
  });

  test('an attempt that started but left no result is never repeated: ActOutcomeUnknown', async () => {
    ledgerHolds([ledgerEntry(3, 'acting', { batch: 0 })]);
    const error = await expectRejection(run('act', state({ plan: ACT_PLAN })), 'Medic.ActOutcomeUnknown');
    expect(error.message).toContain('not acting twice');
    expect(fake.act).not.toHaveBeenCalled();
  });

  test('an attempt the service refused (throttled) may be tried again', async () => {
    ledgerHolds([ledgerEntry(3, 'acting', { batch: 0 }), ledgerEntry(4, 'act-failed', { batch: 0, notExecuted: true })]);
    fake.act.mockResolvedValue(actResult(0));
    await run('act', state({ plan: ACT_PLAN }));
    expect(fake.act).toHaveBeenCalledTimes(1);
  });

  test('an attempt that failed with an unknown error is not repeated', async () => {
    ledgerHolds([ledgerEntry(3, 'acting', { batch: 0 }), ledgerEntry(4, 'act-failed', { batch: 0, notExecuted: false })]);
    await expectRejection(run('act', state({ plan: ACT_PLAN })), 'Medic.ActOutcomeUnknown');
    expect(fake.act).not.toHaveBeenCalled();
  });

  test('a throttled action records act-failed with notExecuted and rethrows for the state machine to retry', async () => {
    fake.act.mockRejectedValue(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expectRejection(run('act', state({ plan: ACT_PLAN })), 'ThrottlingException');
    expect(phasesWritten()).toEqual(['acting', 'act-failed']);
    expect(JSON.parse(written()[1].detail)).toMatchObject({ batch: 0, notExecuted: true });
  });
});

// ---- check: counting ------------------------------------------------------------------------

describe('check counts readings into a verification', () => {
  /** Feeds verdicts one by one, carrying the returned VerifyState forward like the state machine does. */
  async function verifyWith(verdicts: CheckVerdict[], act = actResult(0), initial?: VerifyState): Promise<VerifyState[]> {
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
    expect(phasesWritten()).toEqual(['checked', 'checked', 'verified']);
  });

  test('success, pending, success: a streak is broken, not verified after 3 checks', async () => {
    const results = await verifyWith(['success', 'pending', 'success']);
    expect(results.map((v) => v.status)).toEqual(['pending', 'pending', 'failed']);
    expect(results.map((v) => v.consecutiveSuccesses)).toEqual([1, 0, 1]);
    expect(results[2].reason).toMatch(/not verified after 3 check/);
    expect(phasesWritten()).toEqual(['checked', 'checked', 'checked', 'verification-failed']);
  });

  test('inconclusive x3: failed, and the reason says inconclusive', async () => {
    const results = await verifyWith(['inconclusive', 'inconclusive', 'inconclusive']);
    expect(results.map((v) => v.status)).toEqual(['pending', 'pending', 'failed']);
    expect(results[2].reason).toContain('inconclusive');
    expect(phasesWritten()).not.toContain('verified');
  });

  test('a failure verdict fails at once', async () => {
    const [only] = await verifyWith(['failure']);
    expect(only).toMatchObject({ status: 'failed', checks: 1, lastVerdict: 'failure', reason: 'reading 1: failure' });
    expect(phasesWritten()).toEqual(['checked', 'verification-failed']);
  });

  test('counters restart when the act batch changes', async () => {
    const previousBatch: VerifyState = {
      status: 'succeeded', batch: 0, checks: 2, consecutiveSuccesses: 2, lastVerdict: 'success', lastReadings: {}, reason: 'ok',
    };
    const [first, second] = await verifyWith(['success', 'success'], actResult(1), previousBatch);
    expect(first).toMatchObject({ batch: 1, status: 'pending', checks: 1, consecutiveSuccesses: 1 });
    expect(second).toMatchObject({ batch: 1, status: 'succeeded', checks: 2 });
  });

  test('a stale pending streak of another batch does not count', async () => {
    const previousBatch: VerifyState = {
      status: 'pending', batch: 0, checks: 2, consecutiveSuccesses: 1, lastVerdict: 'success', lastReadings: {}, reason: 'ok',
    };
    const [first] = await verifyWith(['success'], actResult(1), previousBatch);
    expect(first).toMatchObject({ batch: 1, status: 'pending', checks: 1, consecutiveSuccesses: 1 });
  });

  test('refuses to check when nothing was acted on', async () => {
    await expectRejection(run('check', state({ plan: ACT_PLAN })), 'Medic.InvalidState');
    expect(fake.check).not.toHaveBeenCalled();
  });
});

describe('other steps', () => {
  test('rollback of a runbook without one is an invalid state', async () => {
    await expectRejection(run('rollback', state({ plan: ACT_PLAN, act: actResult(0) })), 'Medic.InvalidState');
  });

  test('an unknown step is an invalid state', async () => {
    await expectRejection(handler({ step: 'explode' as StepName, state: state() }), 'Medic.InvalidState');
  });
});
