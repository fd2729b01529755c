import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeDBClustersCommand, DescribeDBInstancesCommand, FailoverDBClusterCommand, RDSClient, RebootDBInstanceCommand,
  type DBCluster, type DBInstance,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { clusterKind, steps, targetReaderRefusal, windowRefusal, type PreState } from '../../lambdas/rds-failover-drill/index';
import type { ActResult, Plan, VerifyState, WorkflowState } from '../../lambdas/shared/types';
import { drillRunbookSpec, drillTarget, receivedIncident, workflowState } from '../support/fixtures';
import { actThrough } from '../support/gate';

const rds = mockClient(RDSClient);
const cloudWatch = mockClient(CloudWatchClient);

beforeEach(() => {
  rds.reset();
  cloudWatch.reset();
  guardsAre('OK');
});
afterAll(() => {
  rds.restore();
  cloudWatch.restore();
});

// ---- builders -------------------------------------------------------------------------------

interface StateOptions {
  kind?: 'instance' | 'cluster';
  options?: Record<string, unknown>;
  scheduled?: boolean;
  /** `"allowPendingReboot": true` in the input: Validate carries it on the incident's trigger. */
  allowPendingReboot?: boolean;
  plan?: Plan;
  act?: ActResult;
  verify?: VerifyState;
}

function state(o: StateOptions = {}): WorkflowState {
  const trigger = o.scheduled
    ? { kind: 'schedule' as const, source: 'exec', name: 'schedule', at: '2026-11-24T10:00:00.000Z', startedBy: 'schedule' }
    : { kind: 'manual' as const, source: 'exec', name: 'manual start', at: '2026-11-24T10:00:00.000Z', ...(o.allowPendingReboot ? { allowPendingReboot: true as const } : {}) };
  return workflowState({
    runbook: drillRunbookSpec(o.options),
    incident: receivedIncident({ incidentId: 'rds-failover-drill-20261124T100000Z-0123456789ab', runbook: 'rds-failover-drill', trigger, target: drillTarget(o.kind) }),
    plan: o.plan,
    act: o.act,
    verify: o.verify,
  });
}

/** A healthy Multi-AZ instance, primary in eu-west-1a. */
const instance = (overrides: Partial<DBInstance> = {}): DBInstance => ({
  DBInstanceIdentifier: 'orders-db',
  DBInstanceStatus: 'available',
  MultiAZ: true,
  AvailabilityZone: 'eu-west-1a',
  SecondaryAvailabilityZone: 'eu-west-1b',
  PendingModifiedValues: {},
  ...overrides,
});

/** A healthy Aurora PostgreSQL cluster, writer orders-aurora-1, readers -2 and -3. */
const cluster = (overrides: Partial<DBCluster> = {}, writer = 'orders-aurora-1'): DBCluster => ({
  DBClusterIdentifier: 'orders-aurora',
  Status: 'available',
  MultiAZ: true,
  Engine: 'aurora-postgresql',
  EngineMode: 'provisioned',
  DBClusterMembers: ['orders-aurora-1', 'orders-aurora-2', 'orders-aurora-3']
    .map((id) => ({ DBInstanceIdentifier: id, IsClusterWriter: id === writer, DBClusterParameterGroupStatus: 'in-sync' })),
  ...overrides,
});
/**
 * A Multi-AZ DB cluster (two readable standbys), as DescribeDBClusters shows one: a `mysql` or
 * `postgres` engine, `DBClusterInstanceClass` set ("only for non-Aurora Multi-AZ DB clusters"), no EngineMode.
 */
const multiAzCluster = (engine: 'mysql' | 'postgres', overrides: Partial<DBCluster> = {}): DBCluster =>
  cluster({ Engine: engine, EngineMode: undefined, DBClusterInstanceClass: 'db.m6gd.large', ...overrides });

const instanceIs = (...dbs: DBInstance[]): void => {
  const stub = rds.on(DescribeDBInstancesCommand);
  dbs.forEach((db) => stub.resolvesOnce({ DBInstances: [db] }));
  stub.resolves({ DBInstances: [dbs[dbs.length - 1]] });
};
const clusterIs = (c: DBCluster): void => { rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [c] }); };
function guardsAre(StateValue: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'): void {
  cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'prod-api-5xx', StateValue }] });
}

const secondsAgo = (s: number): string => new Date(Date.now() - s * 1000).toISOString();
const instancePre: PreState = { kind: 'instance', primaryAz: 'eu-west-1a', secondaryAz: 'eu-west-1b' };
const clusterPre = (targetReader?: string): PreState => ({ kind: 'cluster', writer: 'orders-aurora-1', readers: ['orders-aurora-2', 'orders-aurora-3'], ...(targetReader ? { targetReader } : {}) });
const acted = (pre: PreState, requestedAt = secondsAgo(45)): ActResult =>
  ({ summary: 'requested', calls: [], batch: 0, moreBatches: false, details: { requestedAt, preState: pre } });
const verifying = (lastReadings: Record<string, unknown>): VerifyState =>
  ({ status: 'pending', batch: 0, checks: 1, consecutiveSuccesses: 0, lastVerdict: 'pending', lastReadings, reason: 'waiting' });

// ---- plan (preflight) -----------------------------------------------------------------------

describe('preflight', () => {
  test('a healthy Multi-AZ instance with guards OK: act, recording the pre-state, with a dry-run report', async () => {
    instanceIs(instance());
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('act');
    expect(plan.summary).toBe('RebootDBInstance ForceFailover=true on orders-db (primary in eu-west-1a, standby in eu-west-1b)');
    expect(plan.details.preState).toEqual(instancePre);
    expect(plan.report?.verdict).toMatch(/^DRY RUN/);
    expect(plan.report?.lines).toContain('WOULD DO: RebootDBInstance ForceFailover=true on orders-db (primary in eu-west-1a, standby in eu-west-1b)');
    expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' });
    expect(cloudWatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: ['prod-api-5xx'] });
  });

  test.each<[string, Partial<DBInstance>, RegExp]>([
    ['a single-AZ instance', { MultiAZ: false, SecondaryAvailabilityZone: undefined }, /single-AZ instance: there is no standby/],
    ['an instance that is modifying', { DBInstanceStatus: 'modifying' }, /orders-db is modifying, not available/],
    ['an instance under maintenance', { DBInstanceStatus: 'maintenance' }, /orders-db is maintenance, not available/],
    ['an instance with pending modifications', { PendingModifiedValues: { DBInstanceClass: 'db.r6g.large' } }, /pending modifications \(DBInstanceClass\)/],
    ['a cluster member named as an instance', { DBClusterIdentifier: 'orders-aurora' }, /member of cluster orders-aurora: drill the cluster/],
  ])('%s is refused, with no reboot', async (_, overrides, reason) => {
    instanceIs(instance(overrides));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toMatch(/^drill refused: /);
    expect(plan.reason).toMatch(reason);
    expect(rds).not.toHaveReceivedCommand(RebootDBInstanceCommand);
  });

  test('an instance that does not exist is refused', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('DBInstance orders-db not found.'), { name: 'DBInstanceNotFoundFault' }));
    expect((await steps.plan(state())).reason).toBe('drill refused: DB instance orders-db not found');
  });

  test('an RDS error other than not-found is not a refusal: the step fails and escalates with it', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(steps.plan(state())).rejects.toThrow('Rate exceeded');
  });

  test.each<[string, 'ALARM' | 'INSUFFICIENT_DATA']>([['in ALARM', 'ALARM'], ['without data', 'INSUFFICIENT_DATA']])(
    'a guard alarm %s before the start is refused', async (_, guard) => {
      instanceIs(instance());
      guardsAre(guard);
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe(`drill refused: guard alarm(s) not OK before the drill: prod-api-5xx is ${guard}`);
    },
  );

  test('a guard alarm that does not exist, or cannot be read, is refused (fails closed)', async () => {
    instanceIs(instance());
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    expect((await steps.plan(state())).reason).toMatch(/prod-api-5xx is MISSING/);
    cloudWatch.on(DescribeAlarmsCommand).rejects(new Error('AccessDenied'));
    expect((await steps.plan(state())).reason).toMatch(/guard alarms could not be read \(failing closed\): .*AccessDenied/);
  });

  test('a healthy cluster: act with FailoverDBCluster to the configured reader', async () => {
    clusterIs(cluster());
    const plan = await steps.plan(state({ kind: 'cluster', options: { targetReaders: { 'orders-aurora': 'orders-aurora-3' } } }));
    expect(plan.decision).toBe('act');
    expect(plan.details.preState).toEqual(clusterPre('orders-aurora-3'));
    expect(plan.summary).toMatch(/^FailoverDBCluster on orders-aurora \(writer orders-aurora-1, readers orders-aurora-2, orders-aurora-3\), promoting orders-aurora-3$/);
  });

  test('a cluster without readers is refused', async () => {
    clusterIs(cluster({ DBClusterMembers: [{ DBInstanceIdentifier: 'orders-aurora-1', IsClusterWriter: true }] }));
    const plan = await steps.plan(state({ kind: 'cluster' }));
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toBe('drill refused: cluster orders-aurora has no reader to fail over to');
  });

  test('a cluster whose configured target reader is not one of its readers is refused', async () => {
    clusterIs(cluster());
    const plan = await steps.plan(state({ kind: 'cluster', options: { targetReaders: { 'orders-aurora': 'orders-aurora-1' } } }));
    expect(plan.reason).toMatch(/target reader orders-aurora-1 is not a reader of cluster orders-aurora/);
  });

  test('a cluster that is failing over or has pending modifications is refused', async () => {
    clusterIs(cluster({ Status: 'failing-over' }));
    expect((await steps.plan(state({ kind: 'cluster' }))).reason).toMatch(/cluster orders-aurora is failing-over, not available/);
    clusterIs(cluster({ PendingModifiedValues: { EngineVersion: '16.4' } }));
    expect((await steps.plan(state({ kind: 'cluster' }))).reason).toMatch(/pending modifications \(EngineVersion\)/);
  });

  test('an RDS for MySQL Multi-AZ DB cluster with a target reader is refused at preflight (FailoverDBCluster does not take one), naming the fix', async () => {
    clusterIs(multiAzCluster('mysql'));
    const plan = await steps.plan(state({ kind: 'cluster', options: { targetReaders: { 'orders-aurora': 'orders-aurora-2' } } }));
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toBe('drill refused: cluster orders-aurora is an RDS for MySQL Multi-AZ DB cluster, which does not support promoting a chosen reader '
      + '(FailoverDBCluster TargetDBInstanceIdentifier "isn\'t supported for RDS for MySQL Multi-AZ DB clusters"), but orders-aurora-2 is configured as its target reader: '
      + 'remove "orders-aurora" from the drill\'s targetReaders to let RDS choose the reader to promote');
    expect(plan.details).toMatchObject({ engine: 'mysql', clusterKind: 'multi-az-db-cluster', dbClusterInstanceClass: 'db.m6gd.large' });
    expect(cloudWatch.calls()).toHaveLength(0);
  });

  test('the same MySQL Multi-AZ DB cluster without a target reader: act, RDS chooses the standby to promote', async () => {
    clusterIs(multiAzCluster('mysql'));
    const plan = await steps.plan(state({ kind: 'cluster' }));
    expect(plan.decision).toBe('act');
    expect(plan.summary).toMatch(/promoting a reader RDS chooses$/);
  });

  test.each<[string, DBCluster]>([
    ['an RDS for PostgreSQL Multi-AZ DB cluster', multiAzCluster('postgres')],
    ['an Aurora MySQL cluster', cluster({ Engine: 'aurora-mysql' })],
    ['an Aurora PostgreSQL cluster', cluster()],
  ])('%s takes a target reader (documented as supported): act', async (_, c) => {
    clusterIs(c);
    const plan = await steps.plan(state({ kind: 'cluster', options: { targetReaders: { 'orders-aurora': 'orders-aurora-3' } } }));
    expect(plan.decision).toBe('act');
    expect(plan.details.preState).toEqual(clusterPre('orders-aurora-3'));
  });

  test('a cluster that reports no engine cannot be told apart from a MySQL Multi-AZ DB cluster: a target reader is refused (fail closed)', async () => {
    clusterIs(cluster({ Engine: undefined }));
    const plan = await steps.plan(state({ kind: 'cluster', options: { targetReaders: { 'orders-aurora': 'orders-aurora-3' } } }));
    expect(plan.reason).toMatch(/^drill refused: cluster orders-aurora reports no engine, so it cannot be told whether FailoverDBCluster may promote the configured target reader orders-aurora-3/);
  });

  test('clusterKind and targetReaderRefusal read Engine and DBClusterInstanceClass', () => {
    expect(clusterKind(cluster())).toBe('aurora');
    expect(clusterKind(cluster({ Engine: 'aurora' }))).toBe('aurora');
    expect(clusterKind(multiAzCluster('mysql'))).toBe('multi-az-db-cluster');
    expect(clusterKind(cluster({ Engine: 'postgres' }))).toBe('multi-az-db-cluster');
    expect(clusterKind(cluster({ Engine: 'neptune' }))).toBe('unknown');
    expect(targetReaderRefusal('c', multiAzCluster('postgres'), 'r')).toBeUndefined();
    expect(targetReaderRefusal('c', cluster({ Engine: 'aurora-mysql' }), 'r')).toBeUndefined();
    expect(targetReaderRefusal('c', multiAzCluster('mysql'), 'r')).toMatch(/RDS for MySQL Multi-AZ DB cluster/);
  });

  test('an instance with a parameter group in pending-reboot is refused: the reboot with failover would apply it', async () => {
    instanceIs(instance({ DBParameterGroups: [{ DBParameterGroupName: 'orders-pg', ParameterApplyStatus: 'pending-reboot' }, { DBParameterGroupName: 'audit-pg', ParameterApplyStatus: 'in-sync' }] }));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toBe('drill refused: DB parameter group orders-pg of orders-db is pending-reboot: the reboot with failover will apply its changes; '
      + 'apply them on purpose first (a reboot in a maintenance window), or start the drill with "allowPendingReboot": true to let the drill apply them');
    expect(plan.details).toMatchObject({ pendingRebootParameterGroups: ['orders-pg'] });
  });

  test('with "allowPendingReboot": true the same instance is drilled, and the plan and report say what the reboot will apply', async () => {
    instanceIs(instance({ DBParameterGroups: [{ DBParameterGroupName: 'orders-pg', ParameterApplyStatus: 'pending-reboot' }] }));
    const plan = await steps.plan(state({ allowPendingReboot: true }));
    expect(plan.decision).toBe('act');
    expect(plan.reason).toMatch(/^orders-db is available, has a failover target and pending-reboot parameter changes allowed by the input \(DB parameter group orders-pg of orders-db is pending-reboot/);
    expect(plan.details).toMatchObject({ allowPendingReboot: true, pendingReboot: expect.stringContaining('orders-pg') });
    expect(plan.report?.lines).toContain('PENDING REBOOT: DB parameter group orders-pg of orders-db is pending-reboot: the reboot with failover will apply its changes (allowed by "allowPendingReboot": true)');
  });

  test.each(['in-sync', 'applying', 'pending-database-upgrade'])('a parameter group %s is not a pending reboot', async (ParameterApplyStatus) => {
    instanceIs(instance({ DBParameterGroups: [{ DBParameterGroupName: 'orders-pg', ParameterApplyStatus }] }));
    expect((await steps.plan(state())).decision).toBe('act');
  });

  test('a cluster whose members have the DB cluster parameter group pending-reboot is refused, and allowed with "allowPendingReboot": true', async () => {
    const members = ['orders-aurora-1', 'orders-aurora-2', 'orders-aurora-3'].map((id) => ({
      DBInstanceIdentifier: id, IsClusterWriter: id === 'orders-aurora-1', DBClusterParameterGroupStatus: id === 'orders-aurora-3' ? 'in-sync' : 'pending-reboot',
    }));
    clusterIs(cluster({ DBClusterMembers: members }));
    const refused = await steps.plan(state({ kind: 'cluster' }));
    expect(refused.reason).toBe('drill refused: the DB cluster parameter group of cluster orders-aurora is pending-reboot on orders-aurora-1, orders-aurora-2: '
      + 'the failover restarts the writer and the promoted reader and may apply its changes; '
      + 'apply them on purpose first (a reboot in a maintenance window), or start the drill with "allowPendingReboot": true to let the drill apply them');
    expect(refused.details).toMatchObject({ pendingRebootMembers: ['orders-aurora-1', 'orders-aurora-2'] });
    const allowed = await steps.plan(state({ kind: 'cluster', allowPendingReboot: true }));
    expect(allowed.decision).toBe('act');
    expect(allowed.report?.lines).toContainEqual(expect.stringMatching(/^PENDING REBOOT: the DB cluster parameter group of cluster orders-aurora is pending-reboot on orders-aurora-1, orders-aurora-2/));
  });

  test('"allowPendingReboot" does not lift any other refusal', async () => {
    instanceIs(instance({ DBInstanceStatus: 'modifying', DBParameterGroups: [{ DBParameterGroupName: 'orders-pg', ParameterApplyStatus: 'pending-reboot' }] }));
    expect((await steps.plan(state({ allowPendingReboot: true }))).reason).toMatch(/orders-db is modifying, not available/);
    clusterIs(multiAzCluster('mysql'));
    expect((await steps.plan(state({ kind: 'cluster', allowPendingReboot: true, options: { targetReaders: { 'orders-aurora': 'orders-aurora-2' } } }))).reason)
      .toMatch(/RDS for MySQL Multi-AZ DB cluster/);
  });

  test('a scheduled drill outside its window is refused before the database is read', async () => {
    const today = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'][new Date().getUTCDay()];
    const otherDays = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].filter((d) => d !== today);
    const plan = await steps.plan(state({ scheduled: true, options: { window: { days: otherDays, startHourUtc: 0, endHourUtc: 24 } } }));
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toMatch(new RegExp(`^drill refused: it is ${today} \\d\\d:xx UTC, outside the drill window`));
    expect(rds.calls()).toHaveLength(0);
    instanceIs(instance());
    expect((await steps.plan(state({ scheduled: true, options: { window: { days: [today], startHourUtc: 0, endHourUtc: 24 } } }))).decision).toBe('act');
  });

  test('the window: a scheduled drill only inside it, a drill started by hand at any time', async () => {
    const window = { days: ['TUE'], startHourUtc: 9, endHourUtc: 12 };
    const scheduled = state({ scheduled: true, options: { window } });
    expect(windowRefusal(scheduled, new Date('2026-11-24T10:30:00Z'))).toBeUndefined(); // a Tuesday
    expect(windowRefusal(scheduled, new Date('2026-11-24T12:00:00Z'))).toMatch(/TUE 12:xx UTC, outside the drill window \(TUE 9:00-12:00 UTC\)/);
    expect(windowRefusal(scheduled, new Date('2026-11-25T10:00:00Z'))).toMatch(/WED 10:xx UTC, outside/);
    expect(windowRefusal(state({ scheduled: true }), new Date('2026-11-24T10:30:00Z'))).toMatch(/needs a configured window/);
    // A drill started by hand is the operator's decision.
    expect(windowRefusal(state({ options: { window } }), new Date('2026-11-25T03:00:00Z'))).toBeUndefined();
  });
});

// ---- act ------------------------------------------------------------------------------------

describe('action selection', () => {
  test('an instance is rebooted with ForceFailover; no cluster call', async () => {
    rds.on(RebootDBInstanceCommand).resolves({ DBInstance: { DBInstanceStatus: 'rebooting' } });
    const result = await actThrough(steps, state({ plan: { decision: 'act', reason: '', summary: '', details: { preState: instancePre } } }));
    expect(rds).toHaveReceivedCommandTimes(RebootDBInstanceCommand, 1);
    expect(rds).toHaveReceivedCommandWith(RebootDBInstanceCommand, { DBInstanceIdentifier: 'orders-db', ForceFailover: true });
    expect(rds).not.toHaveReceivedCommand(FailoverDBClusterCommand);
    expect(result.details).toEqual({ requestedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), preState: instancePre });
  });

  test('a cluster fails over to its target reader, or to the reader RDS picks when none is configured', async () => {
    rds.on(FailoverDBClusterCommand).resolves({ DBCluster: { Status: 'failing-over' } });
    await actThrough(steps, state({ kind: 'cluster', plan: { decision: 'act', reason: '', summary: '', details: { preState: clusterPre('orders-aurora-3') } } }));
    await actThrough(steps, state({ kind: 'cluster', plan: { decision: 'act', reason: '', summary: '', details: { preState: clusterPre() } } }));
    const calls = rds.commandCalls(FailoverDBClusterCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([{ DBClusterIdentifier: 'orders-aurora', TargetDBInstanceIdentifier: 'orders-aurora-3' }, { DBClusterIdentifier: 'orders-aurora' }]);
    expect(rds).not.toHaveReceivedCommand(RebootDBInstanceCommand);
  });
});

// ---- verify ---------------------------------------------------------------------------------

describe('verification', () => {
  test('rebooting: pending, and the failover is remembered as seen', async () => {
    instanceIs(instance({ DBInstanceStatus: 'rebooting' }));
    const result = await steps.check(state({ act: acted(instancePre) }));
    expect(result.verdict).toBe('pending');
    expect(result.reason).toBe('waiting: orders-db is rebooting, primary still eu-west-1a');
    expect(result.readings.sawFailoverInProgress).toBe(true);
  });

  test('available in the other AZ with the guards OK: success, with the measured report', async () => {
    instanceIs(instance({ AvailabilityZone: 'eu-west-1b', SecondaryAvailabilityZone: 'eu-west-1a' }));
    const requestedAt = secondsAgo(120);
    const availableAt = new Date(Date.parse(requestedAt) + 75_000).toISOString();
    const result = await steps.check(state({ act: acted(instancePre, requestedAt), verify: verifying({ sawFailoverInProgress: true, availableAt }) }));
    expect(result.verdict).toBe('success');
    expect(result.reason).toBe('orders-db failed over (eu-west-1a -> eu-west-1b) in 75s and the guard alarms are OK');
    expect(result.report).toMatchObject({
      title: 'RDS failover drill of orders-db',
      verdict: 'PASSED',
      figures: { database: 'orders-db', before: instancePre, after: 'eu-west-1b', requestedAt, availableAt, failoverSeconds: 75 },
    });
    expect(result.report!.figures.recoverySeconds).toBeGreaterThanOrEqual(120);
    expect(result.report!.lines).toContain('PRIMARY AZ: eu-west-1a -> eu-west-1b');
  });

  test('available again in the same AZ after rebooting: pending, not failed (RDS may report the new AZ after the status), and the database counts as available', async () => {
    instanceIs(instance());
    const result = await steps.check(state({ act: acted(instancePre), verify: verifying({ sawFailoverInProgress: true }) }));
    expect(result.verdict).toBe('pending');
    expect(result.reason).toBe('waiting: orders-db is available again, primary still eu-west-1a (RDS may report the new AZ after the status; reading again until the failover timeout)');
    expect(result.readings.availableAt).toEqual(expect.any(String));
  });

  test('still in the same AZ at the failover timeout: verification failed (no failover happened)', async () => {
    instanceIs(instance());
    const result = await steps.check(state({ options: { failoverTimeoutSeconds: 600 }, act: acted(instancePre, secondsAgo(601)), verify: verifying({ sawFailoverInProgress: true, availableAt: secondsAgo(500) }) }));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toBe('orders-db is available again but did not fail over: primary AZ is still eu-west-1a 601s after the failover request (timeout: 600s)');
  });

  test('the AZ settles after the status: rebooting, available in the old AZ, then the new AZ twice: success, failover time counted to the first available reading', async () => {
    const requestedAt = secondsAgo(120);
    let verify: VerifyState | undefined;
    const results: Array<Awaited<ReturnType<typeof steps.check>>> = [];
    const moved = instance({ AvailabilityZone: 'eu-west-1b', SecondaryAvailabilityZone: 'eu-west-1a' });
    // rebooting; available with the AZ not yet updated; then the new AZ on two readings
    for (const db of [instance({ DBInstanceStatus: 'rebooting' }), instance(), moved, moved]) {
      rds.reset();
      instanceIs(db);
      const result = await steps.check(state({ act: acted(instancePre, requestedAt), verify }));
      results.push(result);
      verify = { status: 'pending', batch: 0, checks: results.length, consecutiveSuccesses: 0, lastVerdict: result.verdict, lastReadings: result.readings, reason: result.reason };
    }
    expect(results.map((r) => r.verdict)).toEqual(['pending', 'pending', 'success', 'success']);
    expect(results[0].readings.availableAt).toBeUndefined();
    const availableAt = results[1].readings.availableAt;
    expect(availableAt).toEqual(expect.any(String));
    expect(results[3].report!.figures.availableAt).toBe(availableAt);
    expect(results[3].report!.lines).toContain('PRIMARY AZ: eu-west-1a -> eu-west-1b');
  });

  test('still available in the same AZ before any reboot was seen: pending (RDS has not started yet)', async () => {
    instanceIs(instance());
    expect((await steps.check(state({ act: acted(instancePre) }))).verdict).toBe('pending');
  });

  test('not available by the failover timeout: failed, carrying what was measured', async () => {
    instanceIs(instance({ DBInstanceStatus: 'rebooting' }));
    const result = await steps.check(state({ options: { failoverTimeoutSeconds: 600 }, act: acted(instancePre, secondsAgo(601)) }));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toBe('orders-db is rebooting, primary still eu-west-1a 601s after the failover request (timeout: 600s)');
    expect(result.readings).toMatchObject({ status: 'rebooting', availabilityZone: 'eu-west-1a', sawFailoverInProgress: true });
  });

  test('guard alarms still in ALARM: pending within the recovery time, failed after it, with the timeline', async () => {
    instanceIs(instance({ AvailabilityZone: 'eu-west-1b' }));
    guardsAre('ALARM');
    const within = await steps.check(state({ act: acted(instancePre), verify: verifying({ availableAt: secondsAgo(60) }) }));
    expect(within.verdict).toBe('pending');
    expect(within.reason).toBe('failed over; waiting for guard alarm(s): prod-api-5xx is ALARM');
    const timeline = within.readings.guardTimeline as Array<{ states: Record<string, string> }>;
    expect(timeline.map((t) => t.states)).toEqual([{ 'prod-api-5xx': 'ALARM' }]);

    const after = await steps.check(state({ options: { guardRecoverySeconds: 300 }, act: acted(instancePre, secondsAgo(400)), verify: verifying({ availableAt: secondsAgo(301) }) }));
    expect(after.verdict).toBe('failure');
    expect(after.reason).toMatch(/^failed over, but guard alarm\(s\) not OK 30[12]s after the database was available: prod-api-5xx is ALARM$/);
  });

  test('the guard timeline records each change of state, not each reading', async () => {
    instanceIs(instance({ AvailabilityZone: 'eu-west-1b' }));
    const earlier = [{ at: secondsAgo(30), states: { 'prod-api-5xx': 'ALARM' } }];
    const result = await steps.check(state({ act: acted(instancePre), verify: verifying({ availableAt: secondsAgo(30), guardTimeline: earlier }) }));
    expect((result.readings.guardTimeline as Array<{ states: Record<string, string> }>).map((t) => t.states)).toEqual([{ 'prod-api-5xx': 'ALARM' }, { 'prod-api-5xx': 'OK' }]);
  });

  test('a cluster whose writer moved to the target reader: success', async () => {
    clusterIs(cluster({}, 'orders-aurora-3'));
    const result = await steps.check(state({ kind: 'cluster', act: acted(clusterPre('orders-aurora-3')) }));
    expect(result.verdict).toBe('success');
    expect(result.report!.lines).toContain('WRITER: orders-aurora-1 -> orders-aurora-3');
  });

  test('a cluster that promoted a different reader than the one asked for: failed', async () => {
    clusterIs(cluster({}, 'orders-aurora-2'));
    const result = await steps.check(state({ kind: 'cluster', act: acted(clusterPre('orders-aurora-3')) }));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toBe('cluster orders-aurora failed over to orders-aurora-2, not to the requested reader orders-aurora-3');
  });

  test('a cluster back to available with the same writer after failing-over: pending until the failover timeout, then failed', async () => {
    clusterIs(cluster());
    const early = await steps.check(state({ kind: 'cluster', act: acted(clusterPre()), verify: verifying({ sawFailoverInProgress: true }) }));
    expect(early.verdict).toBe('pending');
    expect(early.reason).toMatch(/orders-aurora is available again, writer still orders-aurora-1/);
    const late = await steps.check(state({ kind: 'cluster', options: { failoverTimeoutSeconds: 600 }, act: acted(clusterPre(), secondsAgo(700)), verify: verifying({ sawFailoverInProgress: true }) }));
    expect(late.verdict).toBe('failure');
    expect(late.reason).toMatch(/did not fail over: writer is still orders-aurora-1 700s after the failover request/);
  });

  test('an unreadable database or guard alarm is inconclusive, never success', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(new Error('socket hang up'));
    expect((await steps.check(state({ act: acted(instancePre) }))).verdict).toBe('inconclusive');
    rds.reset();
    instanceIs(instance({ AvailabilityZone: 'eu-west-1b' }));
    cloudWatch.on(DescribeAlarmsCommand).rejects(new Error('socket hang up'));
    const result = await steps.check(state({ act: acted(instancePre) }));
    expect(result.verdict).toBe('inconclusive');
    expect(result.reason).toMatch(/^database failed over, but the guard alarms could not be read/);
  });
});
