import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { verifyChain, type LedgerEntry } from '../../lambdas/shared/ledger';
import { phases } from '../support/ledger-reader';
import { WorkflowHarness } from './harness';

const h = new WorkflowHarness();
const INSTANCE = 'i-0123456789abcdef0';
const SUMMARY = { dryRun: false, roots: ['/var/log'], refusedRoots: [], considered: 4, deleted: 4, wouldDelete: 0, bytesFreed: 12 * 1024 * 1024, skippedOpen: 0, limitReached: false, journal: 'skipped', errors: [], files: ['/var/log/a.gz'] };

/** The simulated instance: managed or not, what its command does, and the disk metric afterwards. */
const world = { managed: true, command: ['InProgress', 'Success'] as string[], output: JSON.stringify(SUMMARY), stderr: '', diskAfter: 70 };

beforeAll(() => h.start());
afterAll(() => h.stop());
beforeEach(async () => {
  await h.freshWorld();
  Object.assign(world, { managed: true, command: ['InProgress', 'Success'], output: JSON.stringify(SUMMARY), stderr: '', diskAfter: 70 });
  let reads = 0;
  h.aws.ssm.on(DescribeInstanceInformationCommand).callsFake(() => ({
    InstanceInformationList: world.managed ? [{ InstanceId: INSTANCE, PingStatus: 'Online', PlatformType: 'Linux' }] : [],
  }));
  h.aws.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
  h.aws.ssm.on(GetCommandInvocationCommand).callsFake(() => {
    const Status = world.command[Math.min(reads++, world.command.length - 1)];
    return { Status, ResponseCode: Status === 'Success' ? 0 : 2, StandardOutputContent: world.output, StandardErrorContent: world.stderr, ExecutionEndDateTime: new Date(Date.now() - 1000).toISOString() };
  });
  // Both runbooks' disk alarms watch the same metric here; each is answered under its own name.
  h.aws.cloudWatch.on(DescribeAlarmsCommand).callsFake((input) => ({ MetricAlarms: [{
    AlarmName: input.AlarmNames[0], Namespace: 'CWAgent', MetricName: 'disk_used_percent', Threshold: 90, ComparisonOperator: 'GreaterThanThreshold',
    Statistic: 'Maximum', Period: 60, Dimensions: [{ Name: 'InstanceId', Value: INSTANCE }, { Name: 'path', Value: '/' }], StateValue: 'ALARM',
    StateTransitionedTimestamp: h.aws.alarmSince.get(input.AlarmNames[0]),
  }] }));
  h.aws.cloudWatch.on(GetMetricDataCommand).callsFake(() => ({ MetricDataResults: [{ Id: 'disk', Timestamps: [new Date()], Values: [world.diskAfter] }] }));
});

const prune = () => h.workflow('disk-prune').run(h.fire('web-disk-full', { dimensions: { InstanceId: INSTANCE, path: '/', device: 'nvme0n1p1', fstype: 'xfs' } }));
const detailOf = (entries: LedgerEntry[], phase: string): Record<string, any> => {
  const entry = entries.find((e) => e.phase === phase);
  if (!entry) throw new Error(`no ${phase} entry in ${phases(entries).join(',')}`);
  return JSON.parse(entry.detail);
};
const sent = () => h.aws.ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input);

describe('disk prune workflow (synthesized definition, real handlers, dynalite)', () => {
  test('happy path: one command to the instance, its summary recorded, metric back under the threshold', async () => {
    const run = await prune();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('resolved');
    expect(sent()).toHaveLength(1);
    expect(sent()[0]).toMatchObject({ InstanceIds: [INSTANCE], Parameters: expect.objectContaining({ olderThanDays: ['3'], logRoot: ['/var/log'] }) });
    const entries = await h.incident('disk-prune-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'verified', 'completed']);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
    expect(entries.filter((e) => e.phase === 'checked').map((e) => JSON.parse(e.detail).readings.summary?.bytesFreed)).toEqual([12 * 1024 * 1024, 12 * 1024 * 1024]);
  });

  test('instance not managed by SSM: refused, no command', async () => {
    world.managed = false;
    const run = await prune();
    expect(run.status).toBe('FAILED');
    expect(sent()).toEqual([]);
    expect(detailOf(await h.incident('disk-prune-'), 'planned').reason).toMatch(/is not SSM-managed/);
  });

  test('the command fails: escalated with its output', async () => {
    Object.assign(world, { command: ['Failed'], stderr: '', output: JSON.stringify({ ...SUMMARY, deleted: 0, bytesFreed: 0, refusedRoots: ['protected root /etc'] }) });
    const run = await prune();
    expect(run.status).toBe('FAILED');
    const message = h.aws.published()[0].Message!;
    expect(message).toMatch(/the prune command Failed \(exit 2\): .*protected root \/etc/);
    expect(phases(await h.incident('disk-prune-'))).not.toContain('completed');
  });

  test('the command times out: escalated, not completed', async () => {
    world.command = ['InProgress', 'TimedOut'];
    const run = await prune();
    expect(run.status).toBe('FAILED');
    expect(detailOf(await h.incident('disk-prune-'), 'verification-failed').reason).toMatch(/^the prune command TimedOut/);
  });

  test('pruned but the disk stays full: escalated with what was freed, not completed', async () => {
    world.diskAfter = 96;
    const run = await prune();
    expect(run.status).toBe('FAILED');
    const entries = await h.incident('disk-prune-');
    expect(phases(entries)).not.toContain('completed');
    expect(detailOf(entries, 'verification-failed').reason).toBe(
      'not verified after 4 check(s): freed 12.0 MB (4 file(s)), still 96.0 disk_used_percent (threshold 90): something else is filling the disk',
    );
    expect(h.aws.published()[0].Message).toContain('something else is filling the disk');
  });
});

describe('fleet disk prune workflow', () => {
  const fleetPrune = () => h.workflow('disk-prune-fleet').run(h.fire('web-fleet-disk-full', { dimensions: { AutoScalingGroupName: 'web-asg', path: '/' } }));

  beforeEach(() => {
    h.aws.ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [1, 2, 3, 4].map((i) => ({ InstanceId: `i-${i}`, PingStatus: 'Online', PlatformType: 'Linux' })) });
    h.aws.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-fleet' } });
    let reads = 0;
    h.aws.ssm.on(ListCommandsCommand).callsFake(() => ({ Commands: [{ CommandId: 'cmd-fleet', Status: reads++ === 0 ? 'InProgress' : world.command.at(-1), TargetCount: 4, CompletedCount: reads > 1 ? 4 : 1, ErrorCount: 0 }] }));
    h.aws.ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [1, 2, 3, 4].map((i) => ({ InstanceId: `i-${i}`, Status: 'Success', CommandPlugins: [{ Output: world.output }] })) });
  });

  test('one capped SendCommand to the group, bytes freed summed, fleet metric back: resolved', async () => {
    const run = await fleetPrune();
    expect(run.status).toBe('SUCCEEDED');
    expect(sent()).toEqual([expect.objectContaining({ Targets: [{ Key: 'tag:aws:autoscaling:groupName', Values: ['web-asg'] }], MaxConcurrency: '25%', MaxErrors: '1' })]);
    const entries = await h.incident('disk-prune-fleet-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'verified', 'completed']);
    expect(detailOf(entries, 'verified').reason).toMatch(/^freed 48\.0 MB \(16 file\(s\)\) across 4 instance\(s\)/);
  });

  test('an instance prune and a fleet prune covering the same instance at once: one acts, the other is denied', async () => {
    h.aws.ssm.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [INSTANCE, 'i-2', 'i-3'].map((InstanceId) => ({ InstanceId, PingStatus: 'Online', PlatformType: 'Linux' })),
    });
    h.aws.ssm.on(SendCommandCommand).callsFake(() => ({ Command: { CommandId: 'cmd-once' } }));
    const [single, fleet] = await Promise.all([prune(), fleetPrune()]);
    expect(sent()).toHaveLength(1);
    expect([single.status, fleet.status].sort()).toEqual(['FAILED', 'SUCCEEDED']);
    const ledger = [...(await h.ledger()).values()].flat();
    const denial = ledger.find((e) => e.phase === 'denied')!;
    expect(JSON.parse(denial.detail).reason).toMatch(new RegExp(`another incident is in flight on arn:aws:ec2:eu-west-1:111111111111:instance/${INSTANCE}`));
  });

  test('the caps stop a failing command: escalated, not completed', async () => {
    world.command = ['Failed'];
    const run = await fleetPrune();
    expect(run.status).toBe('FAILED');
    expect(detailOf(await h.incident('disk-prune-fleet-'), 'verification-failed').reason).toMatch(/^the fleet prune command Failed/);
  });
});
