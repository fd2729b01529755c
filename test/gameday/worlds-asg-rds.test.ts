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
});
