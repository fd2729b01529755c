import { AutoScalingClient, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, FailoverDBClusterCommand, RDSClient, RebootDBInstanceCommand } from '@aws-sdk/client-rds';
import { installAutoScaling } from '../../lib/gameday/services/auto-scaling';
import { installRds } from '../../lib/gameday/services/rds';
import { gameDayRunner, line, simulatedWorld } from './support';

/**
 * The Auto Scaling and RDS parts of the game-day world: the bundled scenarios run in-process
 * (synthesized stack, real handlers, simulated time) and meet their expectations, and the
 * simulated services behave as docs/gameday.md says on their own.
 */

const gameDay = gameDayRunner('asg-rds');
const run = gameDay.run;

describe('Auto Scaling scenarios', () => {
  test('asg-elb-enforced: a target-group alarm enforces ELB checks on the mapped group, capacity holds, resolved', async () => {
    const r = await run('asg-elb-enforced.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['elb-health-checks', 'resolved']]);
    expect(r.calls.map((c) => [c.service, c.operation, c.parameters])).toEqual([
      ['autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'web-asg', HealthCheckType: 'ELB', HealthCheckGracePeriod: 300 }],
    ]);
    expect(line(r, /DETECT/)).toBe('03:17:00 DETECT web-unhealthy-hosts ALARM (autoscaling-group web-asg)');
    expect(line(r, / ACT /)).toMatch(/^03:17:00 ACT autoscaling:UpdateAutoScalingGroup AutoScalingGroupName=web-asg .*HealthCheckType=ELB/);
    expect(line(r, /VERIFY/)).toMatch(/^03:18:00 VERIFY success: ELB health checks with a 300s grace period in effect; 2 healthy in service \(MinSize 2\)/);
    expect(line(r, /RESOLVED/)).toBe('03:22:00 RESOLVED in 5m00s (simulated)');
  }, 120_000);

  test('asg-elb-capacity-collapses: capacity falls below MinSize, the setting is rolled back, escalated', async () => {
    const r = await run('asg-elb-capacity-collapses.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['elb-health-checks', 'escalated']]);
    expect(r.calls.map((c) => c.parameters)).toEqual([
      { AutoScalingGroupName: 'web-asg', HealthCheckType: 'ELB', HealthCheckGracePeriod: 300 },
      { AutoScalingGroupName: 'web-asg', HealthCheckType: 'EC2', HealthCheckGracePeriod: 0 },
    ]);
    expect(line(r, /VERIFY failure/)).toMatch(/^03:20:00 VERIFY failure: healthy in-service capacity 0 fell below MinSize 2 /);
    expect(line(r, /ROLLBACK/)).toBe('03:20:00 ROLLBACK restored web-asg to EC2 health checks with a 0s grace period');
    expect(line(r, /ESCALATE/)).toMatch(/^03:20:00 ESCALATE verification failed: healthy in-service capacity 0 fell below MinSize 2/);
    expect(line(r, /RESOLVED/)).toBeUndefined();
  }, 120_000);

  test('asg-elb-keeps-ebs-checks: EBS becomes EBS,ELB (EBS kept), EBS,ELB is compliant, VPC Lattice only is left alone', async () => {
    const r = await run('asg-elb-keeps-ebs-checks.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.target, i.outcome])).toEqual([
      [expect.stringContaining('web-asg'), 'resolved'], [expect.stringContaining('api-asg'), 'no-action-needed'], [expect.stringContaining('events-asg'), 'no-action-needed'],
    ]);
    expect(r.calls.map((c) => [c.service, c.operation, c.parameters])).toEqual([
      ['autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'web-asg', HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 300 }],
    ]);
    expect(line(r, /PLAN act/)).toBe('03:17:00 PLAN act: UpdateAutoScalingGroup web-asg: HealthCheckType EBS -> EBS,ELB, HealthCheckGracePeriod 0 -> 300s');
    expect(line(r, /VERIFY success/)).toMatch(/in effect; 2 healthy in service \(MinSize 2\); HealthCheckType EBS,ELB/);
    expect(line(r, /PLAN noop: already/)).toBe('03:18:00 PLAN noop: already compliant: HealthCheckType EBS,ELB, grace period 300s');
    expect(line(r, /PLAN noop: nothing/)).toMatch(/^03:19:00 PLAN noop: nothing to enforce: only VPC Lattice target group\(s\) are attached \(1\)/);
    expect(r.notifications).toEqual([]);
  }, 120_000);
});

describe('RDS failover drill scenarios', () => {
  test('rds-drill-instance: an operator drill fails the instance over in 90 s, guard OK, resolved', async () => {
    const r = await run('rds-drill-instance.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['rds-failover-drill', 'resolved']]);
    expect(r.calls.map((c) => [c.service, c.operation, c.parameters])).toEqual([
      ['rds', 'RebootDBInstance', { DBInstanceIdentifier: 'orders-db', ForceFailover: true }],
    ]);
    expect(line(r, /DETECT/)).toBe('03:17:00 DETECT manual start (rds-instance orders-db)');
    expect(line(r, /VERIFY pending/)).toMatch(/^03:17:30 VERIFY pending: waiting: orders-db is rebooting, primary still eu-west-1a/);
    expect(line(r, /VERIFY success/)).toMatch(/^03:18:30 VERIFY success: orders-db failed over \(eu-west-1a -> eu-west-1b\) in 90s and the guard alarms are OK/);
    expect(line(r, /RESOLVED/)).toBe('03:18:45 RESOLVED in 1m45s (simulated)');
  }, 120_000);

  test('rds-drill-never-available: still rebooting past the failover timeout, escalated, nothing rolled back', async () => {
    const r = await run('rds-drill-never-available.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['rds-failover-drill', 'escalated']]);
    expect(r.calls.map((c) => c.operation)).toEqual(['RebootDBInstance']);
    expect(line(r, /VERIFY failure/)).toBe('03:19:15 VERIFY failure: orders-db is rebooting, primary still eu-west-1a 135s after the failover request (timeout: 120s)');
    expect(line(r, /ESCALATE/)).toMatch(/^03:19:15 ESCALATE verification failed: .*The action is not reversible; nothing was rolled back\./);
    expect(line(r, /ROLLBACK/)).toBeUndefined();
  }, 120_000);

  test('rds-drill-dry-run: every preflight, no reboot, observed', async () => {
    const r = await run('rds-drill-dry-run.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['rds-failover-drill', 'observed']]);
    expect(r.calls).toEqual([]);
    expect(line(r, /PLAN/)).toBe('03:17:00 PLAN act: would RebootDBInstance ForceFailover=true on orders-db (primary in eu-west-1a, standby in eu-west-1b)');
    expect(line(r, / ACT /)).toBeUndefined();
  }, 120_000);

  test('rds-drill-az-settles: the new AZ shows 30 s after the status is available; the drill waits for it and passes', async () => {
    const r = await run('rds-drill-az-settles.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['rds-failover-drill', 'resolved']]);
    expect(line(r, /VERIFY pending: waiting: orders-db is available again/)).toMatch(/^03:18:30 VERIFY pending: waiting: orders-db is available again, primary still eu-west-1a \(RDS may report the new AZ after the status/);
    expect(line(r, /VERIFY failure/)).toBeUndefined();
    // the failover time runs to the first available reading (03:18:30), not to the new AZ (03:19:00)
    expect(line(r, /VERIFY success/)).toMatch(/^03:19:00 VERIFY success: orders-db failed over \(eu-west-1a -> eu-west-1b\) in 90s and the guard alarms are OK/);
  }, 120_000);

  test('rds-drill-mysql-target-reader: the MySQL Multi-AZ DB cluster with a target reader is refused at preflight; the PostgreSQL one fails over to its target', async () => {
    const r = await run('rds-drill-mysql-target-reader.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => i.outcome).sort()).toEqual(['escalated', 'resolved']);
    expect(r.calls.map((c) => [c.operation, c.parameters])).toEqual([
      ['FailoverDBCluster', { DBClusterIdentifier: 'orders-pg', TargetDBInstanceIdentifier: 'orders-pg-3' }],
    ]);
    expect(line(r, /PLAN escalate/)).toMatch(/^03:17:00 PLAN escalate: drill refused: cluster orders-mysql is an RDS for MySQL Multi-AZ DB cluster, which does not support promoting a chosen reader/);
    expect(line(r, /VERIFY success/)).toMatch(/^03:18:45 VERIFY success: orders-pg failed over \(orders-pg-1 -> orders-pg-3\)/);
  }, 120_000);

  test('rds-drill-pending-reboot: refused while a parameter change waits for a reboot, drilled with "allowPendingReboot": true', async () => {
    const r = await run('rds-drill-pending-reboot.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => i.outcome)).toEqual(['escalated', 'resolved']);
    expect(r.calls.map((c) => [c.at.slice(11, 19), c.operation])).toEqual([['03:22:00', 'RebootDBInstance']]); // the second drill's
    expect(line(r, /PLAN escalate/)).toMatch(/^03:17:00 PLAN escalate: drill refused: DB parameter group orders-pg of orders-db is pending-reboot: the reboot with failover will apply its changes/);
    expect(line(r, /RESOLVED/)).toBe('03:23:45 RESOLVED in 1m45s (simulated)');
  }, 120_000);

  test('a wrong expectation fails the scenario, naming what was expected and what happened', async () => {
    const scenario = gameDay.load('rds-drill-dry-run.yaml');
    const wrong = { ...scenario, expect: { incidents: [{ runbook: 'rds-failover-drill', outcome: 'resolved' as const }], calls: { 'rds:RebootDBInstance': 1 } } };
    const r = await gameDay.runScenario(wrong);
    expect(r.passed).toBe(false);
    expect(r.failures).toEqual([
      'expected at least 1 resolved incident(s) of rds-failover-drill, got 0 (its outcomes: observed)',
      'expected 1 rds:RebootDBInstance call(s), the runbooks made 0',
    ]);
  }, 120_000);
});

describe('the simulated services on their own', () => {
  const rdsClient = () => new RDSClient({ region: 'eu-west-1' });
  const world = async (spec: Record<string, unknown>) => simulatedWorld(spec, installAutoScaling, installRds);

  test('a collapsing group loses its healthy capacity after ELB is enforced, and gets it back after the rollback', async () => {
    const { w, advance } = await world({ autoScaling: { groups: [{ name: 'web-asg', afterEnforcing: 'collapses', collapseAfter: '90s' }] } });
    const client = new AutoScalingClient({ region: 'eu-west-1' });
    const healthy = async () => {
      const [g] = (await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-asg'] }))).AutoScalingGroups!;
      return { type: g.HealthCheckType, healthy: g.Instances!.filter((i) => i.HealthStatus === 'Healthy').length, min: g.MinSize, tgs: g.TargetGroupARNs };
    };
    try {
      expect(await healthy()).toEqual({ type: 'EC2', healthy: 2, min: 2, tgs: ['arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web-asg/0123456789abcdef'] });
      await client.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-asg', HealthCheckType: 'ELB', HealthCheckGracePeriod: 300 }));
      await advance(60);
      expect(await healthy()).toMatchObject({ type: 'ELB', healthy: 2 });
      await advance(30);
      expect(await healthy()).toMatchObject({ type: 'ELB', healthy: 0 });
      await client.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-asg', HealthCheckType: 'EC2', HealthCheckGracePeriod: 0 }));
      await advance(90);
      expect(await healthy()).toMatchObject({ type: 'EC2', healthy: 2 });
      expect(w.calls.map((c) => c.operation)).toEqual(['UpdateAutoScalingGroup', 'UpdateAutoScalingGroup']);
      await expect(client.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'nope', HealthCheckType: 'ELB' }))).rejects.toMatchObject({ name: 'ValidationError' });
    } finally {
      w.restore();
    }
  });

  test('HealthCheckType is a comma-separated list, kept exactly as written; anything else is a ValidationError; traffic sources are returned', async () => {
    const lattice = { Identifier: 'arn:aws:vpc-lattice:eu-west-1:111111111111:targetgroup/tg-0123456789abcdef0', Type: 'vpc-lattice' };
    const { w, advance } = await world({ autoScaling: { groups: [
      { name: 'web-asg', healthCheckType: 'EBS', afterEnforcing: 'collapses', collapseAfter: '60s' },
      { name: 'events-asg', targetGroups: [], trafficSources: [{ identifier: lattice.Identifier, type: 'vpc-lattice' }, { identifier: 'events-clb', type: 'elb' }] },
    ] } });
    const client = new AutoScalingClient({ region: 'eu-west-1' });
    const describe = async (name: string) => (await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups![0];
    const update = (HealthCheckType: string) => client.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-asg', HealthCheckType }));
    try {
      expect((await describe('web-asg')).HealthCheckType).toBe('EBS');
      expect(await describe('events-asg')).toMatchObject({ TargetGroupARNs: [], TrafficSources: [lattice, { Identifier: 'events-clb', Type: 'elb' }] });
      for (const bad of ['ELB,FOO', 'elb', '', 'EBS,,ELB', 'EBS;ELB']) await expect(update(bad)).rejects.toMatchObject({ name: 'ValidationError' });
      expect((await describe('web-asg')).HealthCheckType).toBe('EBS');
      await update('EBS,ELB');
      expect((await describe('web-asg')).HealthCheckType).toBe('EBS,ELB');
      // A list that includes ELB counts as ELB checks for a broken health check path.
      await advance(60);
      expect((await describe('web-asg')).Instances!.filter((i) => i.HealthStatus === 'Healthy')).toHaveLength(0);
      await update('EBS');
      await advance(60);
      expect((await describe('web-asg')).Instances!.filter((i) => i.HealthStatus === 'Healthy')).toHaveLength(2);
      // Refused calls changed nothing and are not recorded as made.
      expect(w.calls.map((c) => c.parameters.HealthCheckType)).toEqual(['EBS,ELB', 'EBS']);
    } finally {
      w.restore();
    }
    expect(() => simulatedWorld({ autoScaling: { groups: [{ name: 'x', healthCheckType: 'EBS,elb' }] } }, installAutoScaling))
      .toThrow(/world.autoScaling.groups\[0\].healthCheckType: Invalid HealthCheckType 'EBS,elb'/);
    expect(() => simulatedWorld({ autoScaling: { groups: [{ name: 'x', trafficSources: [{ identifier: 'my-clb' }] }] } }, installAutoScaling))
      .toThrow(/trafficSources\[0\].type: required for a Classic Load Balancer name/);
  });

  test('a cluster fails over to the requested reader; a single-AZ instance cannot be failed over', async () => {
    const { w, advance } = await world({
      rds: {
        instances: [{ id: 'single', multiAZ: false }],
        clusters: [{ id: 'orders-aurora', writer: 'w1', readers: ['r1', 'r2'], failover: '40s' }],
      },
    });
    const client = new RDSClient({ region: 'eu-west-1' });
    const cluster = async () => {
      const [c] = (await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'orders-aurora' }))).DBClusters!;
      return { status: c.Status, writer: c.DBClusterMembers!.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier, readers: c.DBClusterMembers!.filter((m) => !m.IsClusterWriter).map((m) => m.DBInstanceIdentifier) };
    };
    try {
      await client.send(new FailoverDBClusterCommand({ DBClusterIdentifier: 'orders-aurora', TargetDBInstanceIdentifier: 'r2' }));
      expect(await cluster()).toEqual({ status: 'failing-over', writer: 'w1', readers: ['r1', 'r2'] });
      await expect(client.send(new FailoverDBClusterCommand({ DBClusterIdentifier: 'orders-aurora' }))).rejects.toMatchObject({ name: 'InvalidDBClusterStateFault' });
      await advance(40);
      expect(await cluster()).toEqual({ status: 'available', writer: 'r2', readers: ['r1', 'w1'] });
      const member = (await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'r1' }))).DBInstances![0];
      expect(member.DBClusterIdentifier).toBe('orders-aurora');
      await expect(client.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: 'single', ForceFailover: true }))).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
      await expect(client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'missing' }))).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
      expect(w.calls.map((c) => [c.operation, c.error])).toEqual([['FailoverDBCluster', undefined]]);
    } finally {
      w.restore();
    }
  });
  test('a MySQL Multi-AZ DB cluster refuses a target reader (InvalidParameterCombination, nothing changes) and fails over to a standby RDS picks; Aurora and PostgreSQL take one', async () => {
    const { w, advance } = await world({
      rds: {
        clusters: [
          { id: 'my', engine: 'mysql', writer: 'my-1', readers: ['my-2', 'my-3'], failover: '35s' },
          { id: 'pg', engine: 'postgres', writer: 'pg-1', readers: ['pg-2', 'pg-3'], failover: '35s' },
          { id: 'au', writer: 'au-1', readers: ['au-2'], failover: '35s' },
        ],
      },
    });
    const client = rdsClient();
    const describe = async (id: string) => (await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))).DBClusters![0];
    try {
      expect(await describe('my')).toMatchObject({ Engine: 'mysql', DBClusterInstanceClass: 'db.m6gd.large', Status: 'available' });
      expect((await describe('my')).EngineMode).toBeUndefined();
      expect(await describe('au')).toMatchObject({ Engine: 'aurora-postgresql', EngineMode: 'provisioned' });
      expect((await describe('au')).DBClusterInstanceClass).toBeUndefined();
      await expect(client.send(new FailoverDBClusterCommand({ DBClusterIdentifier: 'my', TargetDBInstanceIdentifier: 'my-3' }))).rejects.toMatchObject({ name: 'InvalidParameterCombination', $metadata: { httpStatusCode: 400 } });
      expect((await describe('my')).Status).toBe('available');
      await client.send(new FailoverDBClusterCommand({ DBClusterIdentifier: 'my' }));
      await client.send(new FailoverDBClusterCommand({ DBClusterIdentifier: 'pg', TargetDBInstanceIdentifier: 'pg-3' }));
      await client.send(new FailoverDBClusterCommand({ DBClusterIdentifier: 'au', TargetDBInstanceIdentifier: 'au-2' }));
      await advance(35);
      const writer = async (id: string) => (await describe(id)).DBClusterMembers!.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;
      expect([await writer('my'), await writer('pg'), await writer('au')]).toEqual(['my-2', 'pg-3', 'au-2']);
      const member = (await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'my-3' }))).DBInstances![0];
      expect(member).toMatchObject({ Engine: 'mysql', DBClusterIdentifier: 'my' });
      expect(w.calls.map((c) => [c.operation, c.parameters.DBClusterIdentifier, c.error])).toEqual([['FailoverDBCluster', 'my', undefined], ['FailoverDBCluster', 'pg', undefined], ['FailoverDBCluster', 'au', undefined]]);
    } finally {
      w.restore();
    }
  });

  test('an instance reports the old AZ for azSettles after it is available again, and a reboot applies its pending-reboot parameter group', async () => {
    const { w, advance } = await world({
      rds: { instances: [{ id: 'orders-db', failover: '90s', azSettles: '30s', parameterGroups: [{ name: 'orders-pg', status: 'pending-reboot' }, { name: 'other-pg' }] }] },
    });
    const client = rdsClient();
    const read = async () => {
      const [db] = (await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' }))).DBInstances!;
      return { status: db.DBInstanceStatus, az: db.AvailabilityZone, secondaryAz: db.SecondaryAvailabilityZone, groups: db.DBParameterGroups!.map((g) => `${g.DBParameterGroupName}=${g.ParameterApplyStatus}`) };
    };
    try {
      expect(await read()).toEqual({ status: 'available', az: 'eu-west-1a', secondaryAz: 'eu-west-1b', groups: ['orders-pg=pending-reboot', 'other-pg=in-sync'] });
      await client.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: 'orders-db', ForceFailover: true }));
      await advance(90);
      expect(await read()).toEqual({ status: 'available', az: 'eu-west-1a', secondaryAz: 'eu-west-1b', groups: ['orders-pg=in-sync', 'other-pg=in-sync'] });
      await advance(30);
      expect(await read()).toMatchObject({ status: 'available', az: 'eu-west-1b', secondaryAz: 'eu-west-1a' });
    } finally {
      w.restore();
    }
  });

  test('cluster members report their DB cluster parameter group status; a failover leaves pending-reboot as it is', async () => {
    const { w, advance } = await world({ rds: { clusters: [{ id: 'au', writer: 'au-1', readers: ['au-2'], pendingReboot: ['au-1'], failover: '30s' }] } });
    const client = rdsClient();
    const statuses = async () => Object.fromEntries((await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'au' }))).DBClusters![0].DBClusterMembers!
      .map((m) => [m.DBInstanceIdentifier, m.DBClusterParameterGroupStatus]));
    try {
      expect(await statuses()).toEqual({ 'au-1': 'pending-reboot', 'au-2': 'in-sync' });
      await client.send(new FailoverDBClusterCommand({ DBClusterIdentifier: 'au' }));
      await advance(30);
      expect(await statuses()).toEqual({ 'au-1': 'pending-reboot', 'au-2': 'in-sync' });
    } finally {
      w.restore();
    }
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown cluster engine', { clusters: [{ id: 'c', engine: 'oracle-ee', writer: 'w' }] }, /world\.rds\.clusters\[0\]\.engine: one of aurora-mysql, aurora-postgresql, mysql, postgres/],
    ['a pending reboot on a non-member', { clusters: [{ id: 'c', writer: 'w', pendingReboot: ['x'] }] }, /pendingReboot: x is not a member of the cluster/],
    ['an undocumented parameter apply status', { instances: [{ id: 'i', parameterGroups: [{ name: 'g', status: 'pending' }] }] }, /parameterGroups\[0\]\.status: one of applying, failed-to-apply, in-sync, pending-database-upgrade, pending-reboot/],
  ])('a world with %s is refused', async (_, rds, message) => {
    await expect(world({ rds })).rejects.toThrow(message);
  });
});
