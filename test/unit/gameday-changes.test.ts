import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient, RebootDBInstanceCommand } from '@aws-sdk/client-rds';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SimClock } from '../../lib/gameday/clock';
import { installAcm } from '../../lib/gameday/services/acm';
import { installAutoScaling } from '../../lib/gameday/services/auto-scaling';
import { installEc2Disk } from '../../lib/gameday/services/ec2-disk';
import { installEcs } from '../../lib/gameday/services/ecs';
import { installRds } from '../../lib/gameday/services/rds';
import { World, type WorldEnv } from '../../lib/gameday/world';

/**
 * Timeline `change:` events (docs/gameday.md, "Changes mid-run" of each service): each service
 * registers in `world.changes` a reader that checks a change (naming the bad key's path) and
 * returns what applies it; after it, the simulated APIs answer as AWS would.
 */

const ENV: WorldEnv = { account: '111111111111', region: 'eu-west-1', stackName: 'GameDay', killSwitches: { global: '/medic/GameDay/kill-switch/global', runbooks: {} } };
const region = 'eu-west-1';

let world: World;
let clock: SimClock;

/** A world with `install`ed on `spec`. */
function worldOf(spec: Record<string, unknown>, install: (w: World) => unknown): World {
  clock = new SimClock(new Date('2026-11-22T03:17:00Z'));
  world = new World(spec, clock, ENV, []);
  install(world);
  return world;
}

/** Reads `change` as the engine does (before the run), then applies it (at its time: now). */
function apply(key: string, change: Record<string, unknown>): void {
  world.changes.get(key)!(change, `timeline[0].change.${key}`)();
}

/** The error reading `change` throws. */
function refusal(key: string, change: Record<string, unknown>): string {
  try {
    world.changes.get(key)!(change, `timeline[0].change.${key}`);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the change was accepted');
}

afterEach(() => world?.restore());

describe('ecs', () => {
  const ecs = new ECSClient({ region });
  const describe1 = async (service = 'api') => ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: [service] }));
  beforeEach(() => worldOf({ ecs: { services: [{ cluster: 'prod', service: 'api', tasks: 4 }, { cluster: 'prod', service: 'web' }] } }, installEcs));

  test('delete: the service is INACTIVE with no task, and UpdateService answers ServiceNotActiveException', async () => {
    apply('ecs', { cluster: 'prod', service: 'api', delete: true });
    expect((await describe1()).services![0]).toMatchObject({ status: 'INACTIVE', desiredCount: 0, runningCount: 0, pendingCount: 0 });
    await expect(ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'api', forceNewDeployment: true }))).rejects.toMatchObject({ name: 'ServiceNotActiveException' });
    expect((await describe1('web')).services![0].status).toBe('ACTIVE');
  });

  test('delete: purged: DescribeServices answers a MISSING failure, UpdateService ServiceNotFoundException', async () => {
    apply('ecs', { service: 'api', delete: 'purged' });
    expect(await describe1()).toMatchObject({ services: [], failures: [{ reason: 'MISSING' }] });
    await expect(ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'api', forceNewDeployment: true }))).rejects.toMatchObject({ name: 'ServiceNotFoundException' });
  });

  test('tasks: the others crash and are replaced as `deployment` says', async () => {
    apply('ecs', { service: 'api', tasks: 1 });
    expect((await describe1()).services![0]).toMatchObject({ desiredCount: 4, runningCount: 1, pendingCount: 3 });
    clock.advanceBy(60);
    expect((await describe1()).services![0]).toMatchObject({ runningCount: 4, pendingCount: 0 });
    apply('ecs', { service: 'api', tasks: 2, deployment: 'never' });
    clock.advanceBy(600);
    expect((await describe1()).services![0]).toMatchObject({ runningCount: 2, pendingCount: 2 });
  });

  test('deployment: later deployments go as it says (rolls-back)', async () => {
    apply('ecs', { service: 'api', deployment: 'rolls-back' });
    await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'api', forceNewDeployment: true }));
    clock.advanceBy(60);
    const deployments = (await describe1()).services![0].deployments!;
    expect(deployments.map((d) => [d.status, d.rolloutState])).toEqual([['PRIMARY', 'IN_PROGRESS'], ['ACTIVE', 'FAILED']]);
  });

  test('deploymentStarts: someone else deploys: a PRIMARY IN_PROGRESS deployment that settles, and no call is counted', async () => {
    apply('ecs', { service: 'api', deploymentStarts: true, deployment: '2m' });
    expect((await describe1()).services![0].deployments!.map((d) => [d.status, d.rolloutState])).toEqual([['PRIMARY', 'IN_PROGRESS'], ['ACTIVE', 'COMPLETED']]);
    clock.advanceBy(120);
    expect((await describe1()).services![0].deployments!.map((d) => [d.status, d.rolloutState])).toEqual([['PRIMARY', 'COMPLETED']]);
    expect(world.calls).toEqual([]);
  });

  test('an unknown key, a missing target, a bad value: errors naming the key path', () => {
    expect(refusal('ecs', { service: 'api', task: 2 })).toBe('timeline[0].change.ecs.task: unknown key; did you mean "tasks"? (known: cluster, service, delete, tasks, deployment, deploymentStarts)');
    expect(refusal('ecs', { cluster: 'prod', service: 'nope', delete: true })).toBe('timeline[0].change.ecs.service: no service prod/nope in world.ecs (known: prod/api, prod/web)');
    expect(refusal('ecs', { tasks: 1 })).toBe('timeline[0].change.ecs.service: is required: the ECS service to change');
    expect(refusal('ecs', { service: 'api', tasks: 5 })).toBe('timeline[0].change.ecs.tasks: must be a whole number from 0 to 4 (got 5)');
    expect(refusal('ecs', { service: 'api', deployment: 'soon' })).toMatch(/^timeline\[0\]\.change\.ecs\.deployment: "soon" is not a duration/);
    expect(refusal('ecs', { service: 'api' })).toBe('timeline[0].change.ecs: nothing to change: give one of delete, tasks, deployment, deploymentStarts');
    expect(refusal('ecs', { service: 'api', delete: true, tasks: 1 })).toBe('timeline[0].change.ecs.delete: comes alone (got also tasks)');
  });
});

describe('autoScaling', () => {
  const asg = new AutoScalingClient({ region });
  const group = async () => (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-asg'] }))).AutoScalingGroups!;
  beforeEach(() => worldOf({ autoScaling: { groups: [{ name: 'web-asg', minSize: 3 }, { name: 'api-asg', afterEnforcing: 'collapses', collapseAfter: '30s' }] } }, installAutoScaling));

  test('healthy: healthy in-service capacity drops', async () => {
    apply('autoScaling', { group: 'web-asg', healthy: 1 });
    const [g] = await group();
    expect(g.Instances!.map((i) => i.HealthStatus)).toEqual(['Healthy', 'Unhealthy', 'Unhealthy']);
  });

  test('healthCheckType: someone else changes it (a collapsing group collapses)', async () => {
    apply('autoScaling', { group: 'api-asg', healthCheckType: 'EC2,ELB' });
    clock.advanceBy(30);
    const [g] = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['api-asg'] }))).AutoScalingGroups!;
    expect(g.HealthCheckType).toBe('EC2,ELB');
    expect(g.Instances!.filter((i) => i.HealthStatus === 'Healthy')).toHaveLength(0);
    expect(world.calls).toEqual([]);
  });

  test('delete: the group is no longer described, and updating it is a ValidationError', async () => {
    apply('autoScaling', { group: 'web-asg', delete: true });
    expect(await group()).toEqual([]);
    await expect(asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-asg', HealthCheckType: 'ELB' }))).rejects.toMatchObject({ name: 'ValidationError' });
  });

  test('errors name the key path', () => {
    expect(refusal('autoScaling', { group: 'web-asg', inService: 1 })).toMatch(/^timeline\[0\]\.change\.autoScaling\.inService: unknown key \(known: group, delete, healthy, healthCheckType\)/);
    expect(refusal('autoScaling', { group: 'nope', delete: true })).toBe('timeline[0].change.autoScaling.group: no group nope in world.autoScaling (known: web-asg, api-asg)');
    expect(refusal('autoScaling', { group: 'web-asg', healthCheckType: 'elb' })).toMatch(/^timeline\[0\]\.change\.autoScaling\.healthCheckType: Invalid HealthCheckType 'elb'/);
    expect(refusal('autoScaling', { group: 'web-asg', healthy: 4 })).toBe('timeline[0].change.autoScaling.healthy: must be a whole number from 0 to 3 (got 4)');
  });
});

describe('rds', () => {
  const rds = new RDSClient({ region });
  beforeEach(() => worldOf({ rds: { instances: [{ id: 'orders-db' }], clusters: [{ id: 'orders-aurora', writer: 'a-1', readers: ['a-2'] }] } }, installRds));

  test('status: the instance is modifying, and a reboot is refused', async () => {
    apply('rds', { instance: 'orders-db', status: 'modifying' });
    expect((await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' }))).DBInstances![0].DBInstanceStatus).toBe('modifying');
    await expect(rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: 'orders-db', ForceFailover: true }))).rejects.toMatchObject({ name: 'InvalidDBInstanceStateFault' });
  });

  test('status of a cluster: its members show it too', async () => {
    apply('rds', { cluster: 'orders-aurora', status: 'stopped' });
    expect((await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'orders-aurora' }))).DBClusters![0].Status).toBe('stopped');
    expect((await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'a-2' }))).DBInstances![0].DBInstanceStatus).toBe('stopped');
  });

  test('delete: DBInstanceNotFoundFault / DBClusterNotFoundFault, members gone with their cluster', async () => {
    apply('rds', { instance: 'orders-db', delete: true });
    apply('rds', { cluster: 'orders-aurora', delete: true });
    await expect(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' }))).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
    await expect(rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'orders-aurora' }))).rejects.toMatchObject({ name: 'DBClusterNotFoundFault' });
    expect((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances).toEqual([]);
  });

  test('errors name the key path', () => {
    expect(refusal('rds', { instance: 'orders-db', state: 'modifying' })).toMatch(/^timeline\[0\]\.change\.rds\.state: unknown key; did you mean "status"\?/);
    expect(refusal('rds', { instance: 'nope', delete: true })).toBe('timeline[0].change.rds.instance: no instance nope in world.rds (known: orders-db)');
    expect(refusal('rds', { instance: 'orders-db', cluster: 'orders-aurora', delete: true })).toBe('timeline[0].change.rds: give exactly one of instance or cluster');
    expect(refusal('rds', { instance: 'orders-db', status: 'Rebooting' })).toMatch(/^timeline\[0\]\.change\.rds\.status: "Rebooting" is not a status/);
  });
});

describe('ec2', () => {
  const ssm = new SSMClient({ region });
  const cw = new CloudWatchClient({ region });
  const id = 'i-0123456789abcdef0';
  beforeEach(() => worldOf({ ec2: { instances: [{ id }, { id: 'i-unmanaged', managed: false }] } }, installEc2Disk));
  const disk = async () => (await cw.send(new GetMetricDataCommand({
    StartTime: new Date(clock.now() - 120_000), EndTime: new Date(clock.now()), ScanBy: 'TimestampAscending',
    MetricDataQueries: [{ Id: 'd', MetricStat: { Metric: { Namespace: 'CWAgent', MetricName: 'disk_used_percent', Dimensions: [{ Name: 'InstanceId', Value: id }] }, Period: 60, Stat: 'Maximum' } }],
  }))).MetricDataResults![0].Values;

  test('agent offline: ConnectionLost since now, and a command sent then is Delayed', async () => {
    clock.advanceBy(300);
    apply('ec2', { instance: id, agent: 'offline' });
    const [info] = (await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }] }))).InstanceInformationList!;
    expect(info).toMatchObject({ PingStatus: 'ConnectionLost', LastPingDateTime: new Date(clock.now()) });
    const { Command } = await ssm.send(new SendCommandCommand({ DocumentName: 'medic-disk-prune', InstanceIds: [id] }));
    clock.advanceBy(60);
    const invocation = await ssm.send(new GetCommandInvocationCommand({ CommandId: Command!.CommandId, InstanceId: id }));
    expect(invocation).toMatchObject({ Status: 'InProgress', StatusDetails: 'Delayed' });
    apply('ec2', { instance: id, agent: 'online' });
    expect((await ssm.send(new DescribeInstanceInformationCommand({}))).InstanceInformationList![0].PingStatus).toBe('Online');
  });

  test('diskUsedPercent: the disk fills from now on; earlier datapoints keep what it was', async () => {
    clock.advanceBy(120);
    apply('ec2', { instance: id, diskUsedPercent: 99 });
    expect(await disk()).toEqual([95, 95, 99]);
  });

  test('errors name the key path', () => {
    expect(refusal('ec2', { instance: id, usedPercent: 99 })).toMatch(/^timeline\[0\]\.change\.ec2\.usedPercent: unknown key.*\(known: instance, agent, diskUsedPercent\)/);
    expect(refusal('ec2', { instance: 'i-nope', agent: 'offline' })).toBe(`timeline[0].change.ec2.instance: no instance i-nope in world.ec2 (known: ${id}, i-unmanaged)`);
    expect(refusal('ec2', { instance: id, agent: 'down' })).toBe('timeline[0].change.ec2.agent: must be one of offline, online (got "down")');
    expect(refusal('ec2', { instance: id, diskUsedPercent: 120 })).toBe('timeline[0].change.ec2.diskUsedPercent: must be a percentage from 0 to 100 (got 120)');
    expect(refusal('ec2', { instance: 'i-unmanaged', agent: 'offline' })).toMatch(/^timeline\[0\]\.change\.ec2\.agent: i-unmanaged is not managed/);
  });
});

describe('acm', () => {
  const acm = new ACMClient({ region });
  const route53 = new Route53Client({ region });
  const arn = `arn:aws:acm:${region}:111111111111:certificate/22222222-2222-4333-8444-555555555555`;
  beforeEach(() => worldOf({
    acm: {
      certificates: [{ arn, domains: ['example.com'], inUseBy: ['arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/web/0123456789abcdef'] }],
      zones: { Z1: { domain: 'example.com', records: [] } },
    },
  }, installAcm));
  const detail = async () => (await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate!;

  test('status: the certificate is revoked', async () => {
    apply('acm', { certificate: arn, status: 'REVOKED' });
    expect((await detail()).Status).toBe('REVOKED');
  });

  test('renewalStatus: ACM\'s renewal fails with its reason, or succeeds (a new certificate)', async () => {
    apply('acm', { certificate: arn, renewalStatus: 'FAILED', renewalReason: 'CAA_ERROR' });
    expect((await detail()).RenewalSummary).toMatchObject({ RenewalStatus: 'FAILED', RenewalStatusReason: 'CAA_ERROR', UpdatedAt: new Date(clock.now()) });
    apply('acm', { certificate: arn, renewalStatus: 'SUCCESS' });
    const after = await detail();
    expect(after.RenewalSummary!.RenewalStatus).toBe('SUCCESS');
    expect(after.NotAfter!.getTime()).toBe(clock.now() + 395 * 86_400_000);
  });

  test('zone record delete: the validation record is gone and the renewal waits for validation', async () => {
    const { ResourceRecordSets } = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' }));
    const record = ResourceRecordSets!.find((r) => r.Type === 'CNAME')!;
    apply('acm', { zone: 'Z1', record: record.Name, delete: true });
    expect((await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' }))).ResourceRecordSets).toEqual([]);
    expect((await detail()).RenewalSummary!.DomainValidationOptions![0].ValidationStatus).toBe('PENDING_VALIDATION');
  });

  test('errors name the key path', () => {
    expect(refusal('acm', { certificate: arn, renewal: 'FAILED' })).toMatch(/^timeline\[0\]\.change\.acm\.renewal: unknown key/);
    expect(refusal('acm', { certificate: 'arn:nope', status: 'REVOKED' })).toBe(`timeline[0].change.acm.certificate: no certificate arn:nope in world.acm (known: ${arn})`);
    expect(refusal('acm', { certificate: arn, status: 'GONE' })).toMatch(/^timeline\[0\]\.change\.acm\.status: must be one of .*REVOKED.* \(got "GONE"\)$/);
    expect(refusal('acm', { zone: 'Z9', record: 'x.example.com', delete: true })).toBe('timeline[0].change.acm.zone: no zone Z9 in world.acm.zones (known: Z1)');
    expect(refusal('acm', { zone: 'Z1', record: 'x.other.org', delete: true })).toBe('timeline[0].change.acm.record: x.other.org is not in zone Z1 (example.com)');
    expect(refusal('acm', { certificate: arn, zone: 'Z1' })).toBe('timeline[0].change.acm: give exactly one of certificate or zone');
  });
});
