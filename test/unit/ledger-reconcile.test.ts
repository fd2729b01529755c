import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamo } from '../../lambdas/shared/clients';
import { appendEntry, readIncident, type LedgerEntry, type Phase } from '../../lambdas/shared/ledger';
import { COMPLETION_GRACE_MS, completenessOf, executionDeadline, isIncomplete } from '../../lambdas/shared/ledger-completeness';
import { acquireLease, checkLease } from '../../lambdas/shared/limiter';
import { callsInMessage, reconcileIncident, reconcileRange, type ReconcileDeps } from '../../lambdas/shared/reconcile';
import { LocalDynamo, ledgerTableInput, limiterTableInput } from '../../lib/local/dynalite';

/**
 * Complete trails: the completeness rules, and the reconciler against a real DynamoDB API
 * (dynalite) with Step Functions and SNS mocked (aws-sdk-client-mock).
 */

const local = new LocalDynamo();
const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
let tables = 0;
const RUNBOOK = 'api-restart';
const TARGET = 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api';
const TOPIC = 'arn:aws:sns:eu-west-1:111111111111:escalations';
const HOUR = 3_600_000;

beforeAll(async () => {
  await local.start();
});

afterAll(async () => {
  dynamo().destroy();
  sfnMock.restore();
  snsMock.restore();
  await local.stop();
});

beforeEach(() => {
  sfnMock.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

async function freshTables(): Promise<{ ledger: string; limiter: string }> {
  const n = ++tables;
  await local.createTable(ledgerTableInput(`ledger-r${n}`));
  await local.createTable(limiterTableInput(`limiter-r${n}`));
  return { ledger: `ledger-r${n}`, limiter: `limiter-r${n}` };
}

const executionOf = (incidentId: string) => `arn:aws:states:eu-west-1:111111111111:execution:ApiRestartWorkflow:${incidentId}`;

/** Writes an incident's entries one minute apart from `start`. */
async function trail(table: string, incidentId: string, start: number, steps: Array<[Phase, Record<string, unknown>]>): Promise<LedgerEntry[]> {
  for (let i = 0; i < steps.length; i++) {
    await appendEntry({
      table, incidentId, phase: steps[i][0], runbook: RUNBOOK, targetArn: TARGET, mode: 'auto', actor: 'medic-test',
      execution: executionOf(incidentId), detail: steps[i][1], now: new Date(start + i * 60_000),
    });
  }
  return readIncident(table, incidentId);
}

const call = (requestId: string) => ({ service: 'ecs', operation: 'UpdateService', target: 'prod/api', parameters: { cluster: 'prod', service: 'api', forceNewDeployment: true }, outcome: 'succeeded', at: '2026-11-22T03:18:00.000Z', requestId });
const received = (start: number): [Phase, Record<string, unknown>] => ['received', { trigger: { kind: 'alarm', name: 'api-5xx' }, deadline: executionDeadline(new Date(start).toISOString(), 7200) }];
const admitted = (epoch: number): [Phase, Record<string, unknown>] => ['admitted', {
  reason: 'all guards passed',
  readings: { [`lease target#${TARGET}`]: { acquired: true, holders: [], epoch }, [`lease runbook#${RUNBOOK}`]: { acquired: true, holders: [], epoch } },
}];

/** History events as Step Functions writes them for Lambda task states. */
function history(tasks: Array<[string, 'ok' | 'fail', unknown]>, end: Omit<HistoryEvent, 'id'>): HistoryEvent[] {
  const events: HistoryEvent[] = [{ id: 1, type: 'ExecutionStarted', timestamp: new Date() }];
  for (const [name, result, payload] of tasks) {
    events.push({ id: events.length + 1, type: 'TaskStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name } });
    events.push(result === 'ok'
      ? { id: events.length + 1, type: 'LambdaFunctionSucceeded', timestamp: new Date(), lambdaFunctionSucceededEventDetails: { output: JSON.stringify(payload) } }
      : { id: events.length + 1, type: 'LambdaFunctionFailed', timestamp: new Date(), lambdaFunctionFailedEventDetails: payload as never });
  }
  events.push({ ...end, id: events.length + 1 });
  return events;
}

function answerExecution(incidentId: string, status: string, events: HistoryEvent[]): void {
  sfnMock.on(DescribeExecutionCommand, { executionArn: executionOf(incidentId) })
    .resolves({ executionArn: executionOf(incidentId), status: status as never, startDate: new Date(), ...(status === 'RUNNING' ? {} : { stopDate: new Date('2026-11-22T05:18:00Z') }) } as never);
  // Two pages, so the paginator is exercised.
  const half = Math.ceil(events.length / 2);
  sfnMock.on(GetExecutionHistoryCommand, { executionArn: executionOf(incidentId) }).callsFake((input: { nextToken?: string }) =>
    (input.nextToken === 'p2' ? { events: events.slice(half) } : { events: events.slice(0, half), nextToken: 'p2' }));
}

const deps = (t: { ledger: string; limiter: string }, extra: Partial<ReconcileDeps> = {}): ReconcileDeps => ({
  ledgerTable: t.ledger, limiterTable: t.limiter, sfn: new SFNClient({}), sns: new SNSClient({}), topicArn: TOPIC, actor: 'medic-reconcile-test', ...extra,
});

const entry = (phase: Phase, at: string, detail: Record<string, unknown> = {}): LedgerEntry => ({
  pk: 'x', sk: 'x', incidentId: 'i', seq: 1, phase, at, day: at.slice(0, 10), runbook: RUNBOOK, actor: 'a', detail: JSON.stringify(detail), prevHash: '', hash: '',
});

describe('completeness rules', () => {
  const start = Date.parse('2026-11-22T03:00:00Z');
  const deadline = executionDeadline(new Date(start).toISOString(), 7200)!;

  test('the deadline is the execution start plus the runbook\'s timeout', () => {
    expect(deadline).toBe('2026-11-22T05:00:00.000Z');
    expect(executionDeadline(undefined, 7200)).toBeUndefined();
    expect(executionDeadline('2026-11-22T03:00:00Z', undefined)).toBeUndefined();
  });

  test('a trail ending in an ending phase is complete, whenever it is judged', () => {
    const entries = [entry('received', '2026-11-22T03:00:00Z', { deadline }), entry('escalated', '2026-11-22T03:01:00Z')];
    expect(completenessOf(entries, new Date(start + 100 * HOUR))).toMatchObject({ complete: true, incomplete: false });
  });

  test('without an ending entry: open until the deadline and the grace have passed, then incomplete', () => {
    const entries = [entry('received', '2026-11-22T03:00:00Z', { deadline }), entry('acting', '2026-11-22T03:01:00Z')];
    expect(isIncomplete(entries, new Date(Date.parse(deadline) + COMPLETION_GRACE_MS))).toBe(false);
    expect(completenessOf(entries, new Date(Date.parse(deadline) + COMPLETION_GRACE_MS + 1))).toMatchObject({ incomplete: true, deadline, deadlineFrom: 'received', lastPhase: 'acting' });
  });

  test('entries without a recorded deadline (older ledgers): the newest entry + 24 h', () => {
    const entries = [entry('received', '2026-11-22T03:00:00Z'), entry('acted', '2026-11-22T04:00:00Z')];
    expect(isIncomplete(entries, new Date(Date.parse('2026-11-23T04:00:00Z') + COMPLETION_GRACE_MS))).toBe(false);
    expect(completenessOf(entries, new Date(Date.parse('2026-11-23T04:10:01Z')))).toMatchObject({ incomplete: true, deadlineFrom: 'newest-entry' });
  });

  test('no entries: nothing to judge', () => {
    expect(completenessOf([])).toEqual({ complete: false, incomplete: false });
  });
});

describe('calls named in a framework error message', () => {
  test('describeCalls text is read back, request ids included', () => {
    expect(callsInMessage('the batch was done (UpdateService prod/api: succeeded (request r-9); StopTask arn:aws:ecs:eu-west-1:1:task/prod/abc: unknown) but the ledger entry "acted" could not be written: x'))
      .toEqual([
        { operation: 'UpdateService', target: 'prod/api', outcome: 'succeeded', requestId: 'r-9' },
        { operation: 'StopTask', target: 'arn:aws:ecs:eu-west-1:1:task/prod/abc', outcome: 'unknown' },
      ]);
    expect(callsInMessage('nothing was done')).toEqual([]);
  });
});

describe('reconcileIncident', () => {
  const start = Date.now() - 3 * HOUR;

  test('a succeeded execution whose tail was lost: reconciled from the history, leases released, no page', async () => {
    const t = await freshTables();
    const incidentId = 'inc-succeeded';
    const target = await acquireLease(t.limiter, `target#${TARGET}`, incidentId, 1, 8 * 3600);
    const runbook = await acquireLease(t.limiter, `runbook#${RUNBOOK}`, incidentId, 3, 8 * 3600);
    const entries = await trail(t.ledger, incidentId, start, [received(start), admitted(target.epoch!), ['acting', {}], ['acted', { result: { calls: [call('r-1')] } }]]);
    answerExecution(incidentId, 'SUCCEEDED', history([
      ['Validate event', 'ok', { incidentId, status: 'received' }],
      ['Admit', 'ok', { admitted: true, leases: [`target#${TARGET}`, `runbook#${RUNBOOK}`], epochs: { [`target#${TARGET}`]: target.epoch, [`runbook#${RUNBOOK}`]: runbook.epoch } }],
      ['Plan', 'ok', { decision: 'act' }],
      ['Act', 'ok', { summary: 'restarted', calls: [call('r-1')], batch: 0, moreBatches: false, details: {} }],
      ['Verify', 'ok', { status: 'succeeded' }],
      ['Complete', 'ok', { outcome: 'resolved' }],
    ], { type: 'ExecutionSucceeded', timestamp: new Date() }));

    const result = await reconcileIncident(entries, deps(t));

    expect(result).toMatchObject({ result: 'reconciled', executionStatus: 'SUCCEEDED', missedInLedger: [], paged: false });
    expect(result.released.sort()).toEqual([`runbook#${RUNBOOK}`, `target#${TARGET}`]);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    const after = await readIncident(t.ledger, incidentId);
    expect(after.map((e) => e.phase)).toEqual(['received', 'admitted', 'acting', 'acted', 'reconciled']);
    const detail = JSON.parse(after[4].detail);
    expect(detail).toMatchObject({ executionStatus: 'SUCCEEDED', stoppedAt: '2026-11-22T05:18:00.000Z', tasksSucceeded: ['Validate event', 'Admit', 'Plan', 'Act', 'Verify', 'Complete'], missedInLedger: [] });
    expect(detail.callsFromHistory).toEqual([expect.objectContaining({ state: 'Act', proof: 'output', operation: 'UpdateService', requestId: 'r-1' })]);
    expect(after[4]).toMatchObject({ actor: 'medic-reconcile-test', execution: executionOf(incidentId), targetArn: TARGET });
    expect(isIncomplete(after)).toBe(false);
    expect((await checkLease(t.limiter, `target#${TARGET}`, incidentId, target.epoch!)).held).toBe(false);
  });

  test('a failed execution whose Act made a change the ledger missed: the history proves it, a page says so', async () => {
    const t = await freshTables();
    const incidentId = 'inc-missed';
    const lease = await acquireLease(t.limiter, `target#${TARGET}`, incidentId, 1, 8 * 3600);
    const entries = await trail(t.ledger, incidentId, start, [received(start), admitted(lease.epoch!), ['acting', {}]]);
    const cause = JSON.stringify({ errorType: 'Medic.ActUnrecorded', errorMessage: 'the batch was done (UpdateService prod/api: succeeded (request r-2)) but the ledger entry "acted" could not be written: ServiceUnavailable' });
    answerExecution(incidentId, 'FAILED', history([
      ['Validate event', 'ok', {}], ['Admit', 'ok', { admitted: true, leases: [`target#${TARGET}`], epochs: { [`target#${TARGET}`]: lease.epoch } }], ['Plan', 'ok', {}],
      ['Act', 'fail', { error: 'Medic.ActUnrecorded', cause }],
      ['Escalate', 'ok', { published: true, recorded: false }],
    ], { type: 'ExecutionFailed', timestamp: new Date(), executionFailedEventDetails: { error: 'Medic.Escalated', cause: 'a human was notified' } }));

    const result = await reconcileIncident(entries, deps(t));

    expect(result).toMatchObject({ result: 'reconciled', executionStatus: 'FAILED', paged: true });
    expect(result.missedInLedger).toEqual([expect.objectContaining({ state: 'Act', proof: 'error', operation: 'UpdateService', target: 'prod/api', outcome: 'succeeded', requestId: 'r-2' })]);
    expect(result.released).toEqual([`target#${TARGET}`]);
    const [publish] = snsMock.commandCalls(PublishCommand);
    expect(publish.args[0].input).toMatchObject({ TopicArn: TOPIC, Subject: expect.stringContaining('the ledger missed 1 change(s)') });
    expect(publish.args[0].input.Message).toContain('UpdateService prod/api: succeeded (request r-2), shown by the error of step "Act"');
    expect(publish.args[0].input.Message).toContain('ended FAILED');
    // Every sentence true when it is sent: the reconciled entry comes after the page, and no Verify ran.
    expect(publish.args[0].input.Message).toContain('Right after this page, medic appends a "reconciled" entry recording these calls; if `medic ledger show` does not list it, the reconciler pages again at its next run.');
    expect(publish.args[0].input.Message).toContain('No Verify step succeeded in this execution: medic did not verify the change.');
    expect(publish.args[0].input.Message).not.toMatch(/ledger now records/);
    const detail = JSON.parse((await readIncident(t.ledger, incidentId))[3].detail);
    expect(detail).toMatchObject({ executionStatus: 'FAILED', paged: true, messageId: 'm-1', tasksFailed: [{ state: 'Act', error: 'Medic.ActUnrecorded' }] });
    expect(detail.executionError).toContain('Medic.Escalated');
  });

  test('a running execution is left alone: no entry, leases kept', async () => {
    const t = await freshTables();
    const incidentId = 'inc-running';
    const lease = await acquireLease(t.limiter, `target#${TARGET}`, incidentId, 1, 8 * 3600);
    const entries = await trail(t.ledger, incidentId, start, [received(start), admitted(lease.epoch!)]);
    answerExecution(incidentId, 'RUNNING', history([['Validate event', 'ok', {}]], { type: 'WaitStateEntered', timestamp: new Date() }));

    const result = await reconcileIncident(entries, deps(t));

    expect(result).toMatchObject({ result: 'running', executionStatus: 'RUNNING', released: [] });
    expect(await readIncident(t.ledger, incidentId)).toHaveLength(2);
    expect((await checkLease(t.limiter, `target#${TARGET}`, incidentId, lease.epoch!)).held).toBe(true);
  });

  test('leases are released only when held by the incident with the epoch it was granted', async () => {
    const t = await freshTables();
    const incidentId = 'inc-leases';
    // The target's lease now belongs to another incident; the runbook lease was granted to this one again with a newer epoch.
    const other = await acquireLease(t.limiter, `target#${TARGET}`, 'inc-other', 1, 8 * 3600);
    const mine = await acquireLease(t.limiter, `runbook#${RUNBOOK}`, incidentId, 3, 8 * 3600);
    const entries = await trail(t.ledger, incidentId, start, [received(start), admitted(mine.epoch! - 1), ['acting', {}]]);
    answerExecution(incidentId, 'TIMED_OUT', history([['Validate event', 'ok', {}]], { type: 'ExecutionTimedOut', timestamp: new Date() }));

    const result = await reconcileIncident(entries, deps(t));

    expect(result).toMatchObject({ result: 'reconciled', executionStatus: 'TIMED_OUT', released: [] });
    expect((await checkLease(t.limiter, `target#${TARGET}`, 'inc-other', other.epoch!)).held).toBe(true);
    expect((await checkLease(t.limiter, `runbook#${RUNBOOK}`, incidentId, mine.epoch!)).held).toBe(true);
  });

  test('an incident not yet past its deadline is not touched (no history read)', async () => {
    const t = await freshTables();
    const recent = Date.now() - 5 * 60_000;
    const entries = await trail(t.ledger, 'inc-recent', recent, [received(recent), ['acting', {}]]);
    const result = await reconcileIncident(entries, deps(t));
    expect(result).toMatchObject({ result: 'skipped' });
    expect(sfnMock.calls()).toHaveLength(0);
  });

  test('an execution whose history cannot be read stays incomplete, reported', async () => {
    const t = await freshTables();
    const entries = await trail(t.ledger, 'inc-gone', start, [received(start), ['acting', {}]]);
    sfnMock.on(DescribeExecutionCommand).rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));
    const result = await reconcileIncident(entries, deps(t));
    expect(result).toMatchObject({ result: 'skipped', reason: expect.stringContaining('ExecutionDoesNotExist') });
    expect(await readIncident(t.ledger, 'inc-gone')).toHaveLength(2);
  });
});

describe('reconcileRange', () => {
  test('reconciles only the incomplete incidents of the range, each once', async () => {
    const t = await freshTables();
    const start = Date.now() - 3 * HOUR;
    await trail(t.ledger, 'inc-done', start, [received(start), ['completed', { outcome: 'resolved' }]]);
    await trail(t.ledger, 'inc-lost', start, [received(start), ['acting', {}]]);
    answerExecution('inc-lost', 'ABORTED', history([['Validate event', 'ok', {}]], { type: 'ExecutionAborted', timestamp: new Date() }));

    const report = await reconcileRange(deps(t), new Date(start - HOUR), new Date());
    expect(report).toMatchObject({ incidents: 2, incomplete: 1 });
    expect(report.results.map((r) => [r.incidentId, r.result, r.executionStatus])).toEqual([['inc-lost', 'reconciled', 'ABORTED']]);
    const again = await reconcileRange(deps(t), new Date(start - HOUR), new Date());
    expect(again).toMatchObject({ incidents: 2, incomplete: 0, results: [] });
  });
});
