import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { verifyChain, type LedgerEntry } from '../../lambdas/shared/ledger';
import { phases } from '../support/ledger-reader';
import { WorkflowHarness } from './harness';

const h = new WorkflowHarness();
const INSTANCE = 'i-0123456789abcdef0';
const SUMMARY = { dryRun: false, roots: ['/var/log'], refusedRoots: [], considered: 4, deleted: 4, wouldDelete: 0, bytesFreed: 12 * 1024 * 1024, skippedOpen: 0, limitReached: false, journal: 'skipped', errors: [], files: ['/var/log/a.gz'] };

/**
 * The simulated instance: managed or not, what its command does, and the disk metric afterwards.
 * `command` is the Status of each GetCommandInvocation read after the first, which, like Run
 * Command in the first seconds after SendCommand, answers InvocationDoesNotExist (SDK doc of
 * GetCommandInvocation: "The Run Command API follows an eventual consistency model").
 */
const world = { managed: true, command: ['InProgress', 'Success'] as string[], output: JSON.stringify(SUMMARY), stderr: '', diskAfter: 70 };
const RUNNING = ['Pending', 'InProgress', 'Delayed'];
let reads = 0;
/** The single instance's GetCommandInvocation. */
function instanceInvocation(): Record<string, unknown> {
  if (reads++ === 0) throw Object.assign(new Error('InvocationDoesNotExist'), { name: 'InvocationDoesNotExist', $metadata: { httpStatusCode: 400 } });
  const Status = world.command[Math.min(reads - 2, world.command.length - 1)];
  // The outputs are empty until the command finished (GetCommandInvocationResult.StandardOutputContent).
  if (RUNNING.includes(Status)) return { Status, StatusDetails: Status, ResponseCode: -1, StandardOutputContent: '', StandardErrorContent: '' };
  return { Status, ResponseCode: Status === 'Success' ? 0 : 2, StandardOutputContent: world.output, StandardErrorContent: world.stderr, ExecutionEndDateTime: new Date(Date.now() - 1000).toISOString() };
}

beforeAll(() => h.start());
afterAll(() => h.stop());
beforeEach(async () => {
  await h.freshWorld();
  Object.assign(world, { managed: true, command: ['InProgress', 'Success'], output: JSON.stringify(SUMMARY), stderr: '', diskAfter: 70 });
  reads = 0;
  h.aws.ssm.on(DescribeInstanceInformationCommand).callsFake(() => ({
    InstanceInformationList: world.managed ? [{ InstanceId: INSTANCE, PingStatus: 'Online', PlatformType: 'Linux' }] : [],
  }));
  h.aws.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
  h.aws.ssm.on(GetCommandInvocationCommand).callsFake(instanceInvocation);
  // Both runbooks' disk alarms watch the same metric here; each is answered under its own name.
  h.aws.cloudWatch.on(DescribeAlarmsCommand).callsFake((input) => ({ MetricAlarms: [{
    AlarmName: input.AlarmNames[0], Namespace: 'CWAgent', MetricName: 'disk_used_percent', Threshold: 90, ComparisonOperator: 'GreaterThanThreshold',
    Statistic: 'Maximum', Period: 60, Dimensions: [{ Name: 'InstanceId', Value: INSTANCE }, { Name: 'path', Value: '/' }], StateValue: 'ALARM',
    StateTransitionedTimestamp: h.aws.alarms.since(input.AlarmNames[0]),
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
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'checked', 'verified', 'completed']);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
    const checks = entries.filter((e) => e.phase === 'checked').map((e) => JSON.parse(e.detail));
    // Not registered yet (InvocationDoesNotExist), then running (no output yet), then done.
    expect(checks.map((c) => c.reason)).toEqual(['command cmd-1 not registered on i-0123456789abcdef0 yet', 'command InProgress', expect.stringMatching(/^freed 12\.0 MB/)]);
    expect(checks.map((c) => c.readings.summary?.bytesFreed)).toEqual([undefined, undefined, 12 * 1024 * 1024]);
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

  /**
   * The fleet's Run Command, instance by instance: each member's final Status and StatusDetails
   * (SDK CommandInvocation.StatusDetails) and its stdout. ListCommands does not list the command
   * on its first read (Run Command's lists are eventually consistent right after SendCommand:
   * GetCommandInvocation's doc, aws/aws-sdk#190), shows it InProgress on the second and ended
   * after, with the command-level status the docs give (a delivery timeout with MaxErrors 1 makes
   * it TimedOut, DeliveryTimedOut). ListCommandInvocations gives each plugin Output cut to 2,500
   * characters as SSM Agent cuts it (aws/amazon-ssm-agent iohandler.go), and no plugin for an
   * instance that never received it; GetCommandInvocation the first 24,000 characters of stdout.
   */
  let fleet: Array<{ id: string; status: string; details: string; stdout: string; code: number }>;
  const member = (id: string, status = 'Success', details = status, stdout = `${world.output}\n`) => ({ id, status, details, stdout, code: status === 'Success' ? 0 : 1 });
  const agentOutput = (stdout: string) => (stdout.length < 2500 ? stdout : `${stdout.slice(0, 2500 - 22)}\n---Output truncated---`);
  const ran = (m: { details: string }) => !['DeliveryTimedOut', 'Undeliverable', 'Terminated'].includes(m.details);
  function commandStatus(): { Status: string; StatusDetails: string } {
    if (fleet.every((m) => m.status === 'Success')) return { Status: 'Success', StatusDetails: 'Success' };
    if (fleet.some((m) => m.details === 'Failed')) return { Status: 'Failed', StatusDetails: 'Failed' };
    if (fleet.some((m) => m.details === 'DeliveryTimedOut')) return { Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut' };
    return { Status: 'Failed', StatusDetails: 'Incomplete' };
  }

  beforeEach(() => {
    fleet = [1, 2, 3, 4].map((i) => member(`i-${i}`));
    h.aws.ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [1, 2, 3, 4].map((i) => ({ InstanceId: `i-${i}`, PingStatus: 'Online', PlatformType: 'Linux' })) });
    h.aws.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-fleet' } });
    let listed = 0;
    h.aws.ssm.on(ListCommandsCommand).callsFake(() => {
      const read = listed++;
      if (read === 0) return { Commands: [] };
      const ended = read > 1;
      return { Commands: [{ CommandId: 'cmd-fleet', TargetCount: fleet.length, CompletedCount: ended ? fleet.length : 1, ...(ended ? commandStatus() : { Status: 'InProgress', StatusDetails: 'InProgress' }) }] };
    });
    h.aws.ssm.on(ListCommandInvocationsCommand).callsFake(() => ({
      CommandInvocations: fleet.map((m) => ({
        InstanceId: m.id, Status: m.status, StatusDetails: m.details,
        CommandPlugins: ran(m) ? [{ Name: 'prune', Status: m.status, ResponseCode: m.code, ResponseFinishDateTime: new Date(Date.now() - 1000), Output: agentOutput(m.stdout) }] : [],
      })),
    }));
    // The members' invocations; the single-instance runbook's instance keeps its own.
    h.aws.ssm.on(GetCommandInvocationCommand).callsFake((input: { InstanceId: string }) => {
      const m = fleet.find((x) => x.id === input.InstanceId);
      if (!m) return instanceInvocation();
      return { Status: m.status, StatusDetails: m.details, ResponseCode: ran(m) ? m.code : -1, StandardOutputContent: m.stdout.slice(0, 24_000), StandardErrorContent: '' };
    });
  });

  test('one capped SendCommand to the group, bytes freed summed, fleet metric back: resolved', async () => {
    const run = await fleetPrune();
    expect(run.status).toBe('SUCCEEDED');
    expect(sent()).toEqual([expect.objectContaining({ Targets: [{ Key: 'tag:aws:autoscaling:groupName', Values: ['web-asg'] }], MaxConcurrency: '25%', MaxErrors: '1' })]);
    const entries = await h.incident('disk-prune-fleet-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'checked', 'verified', 'completed']);
    expect(entries.filter((e) => e.phase === 'checked').map((e) => JSON.parse(e.detail).reason)[0]).toBe('command cmd-fleet not listed yet');
    expect(detailOf(entries, 'verified').reason).toMatch(/^freed 48\.0 MB \(16 file\(s\)\) across 4 instance\(s\); disk_used_percent 70\.0 is back/);
    expect(h.aws.published()).toEqual([]);
  });

  test('one instance never receives the command (DeliveryTimedOut): the prune worked on the others and the metric is back, so resolved, with a report naming it', async () => {
    fleet[3] = member('i-4', 'TimedOut', 'DeliveryTimedOut', '');
    const run = await fleetPrune();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('resolved');
    const entries = await h.incident('disk-prune-fleet-');
    expect(detailOf(entries, 'verified').reason).toBe('freed 36.0 MB (12 file(s)) across 3 instance(s); not run on i-4 (DeliveryTimedOut); disk_used_percent 70.0 is back within the threshold 90');
    const [report] = h.aws.published();
    expect(report.Subject).toBe('[medic] Fleet disk prune of aws:autoscaling:groupName=web-asg: RESOLVED, 1 instance(s) not reached');
    expect(report.Message).toContain('NOT REACHED: i-4 (DeliveryTimedOut): not delivered before the delivery timeout');
    expect(report.Message).toContain('TO DO: Check the SSM agent and network of i-4');
    expect(detailOf(entries, 'completed').reportPublished).toBe(true);
  });

  test('an undelivered instance and the fleet still full: escalated, the page naming the instance the prune did not reach', async () => {
    fleet[3] = member('i-4', 'TimedOut', 'DeliveryTimedOut', '');
    world.diskAfter = 96;
    const run = await fleetPrune();
    expect(run.status).toBe('FAILED');
    const entries = await h.incident('disk-prune-fleet-');
    expect(detailOf(entries, 'verification-failed').reason).toBe('not verified after 4 check(s): freed 36.0 MB (12 file(s)) across 3 instance(s); not run on i-4 (DeliveryTimedOut), '
      + 'still 96.0 disk_used_percent (threshold 90): the instance(s) the prune did not reach may be the full one(s)');
    const page = h.aws.published()[0].Message!;
    expect(page).toMatch(/WHAT TO DO: Check the SSM agent and network of i-4: Run Command could not run the prune there/);
    expect(page).toContain('not reached: i-4 (DeliveryTimedOut): not delivered before the delivery timeout');
  });

  test('a summary cut at 2,500 characters in ListCommandInvocations is read whole with GetCommandInvocation', async () => {
    const files = Array.from({ length: 40 }, (_, n) => `/var/log/app/archive/application-server-access.log.${n + 1}.gz`);
    fleet[0] = member('i-1', 'Success', 'Success', `${JSON.stringify({ ...SUMMARY, deleted: 67, bytesFreed: 200 * 1024 * 1024, files })}\n`);
    const run = await fleetPrune();
    expect(run.status).toBe('SUCCEEDED');
    expect(detailOf(await h.incident('disk-prune-fleet-'), 'verified').reason).toMatch(/^freed 236\.0 MB \(79 file\(s\)\) across 4 instance\(s\);/);
    expect(h.aws.ssm.commandCalls(GetCommandInvocationCommand).map((c) => c.args[0].input)).toContainEqual({ CommandId: 'cmd-fleet', InstanceId: 'i-1' });
  });

  test('an instance prune and a fleet prune covering the same instance at once: one acts, the other is denied', async () => {
    h.aws.ssm.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [INSTANCE, 'i-2', 'i-3'].map((InstanceId) => ({ InstanceId, PingStatus: 'Online', PlatformType: 'Linux' })),
    });
    h.aws.ssm.on(SendCommandCommand).callsFake(() => ({ Command: { CommandId: 'cmd-once' } }));
    const [single, fleetRun] = await Promise.all([prune(), fleetPrune()]);
    expect(sent()).toHaveLength(1);
    expect([single.status, fleetRun.status].sort()).toEqual(['FAILED', 'SUCCEEDED']);
    const ledger = [...(await h.ledger()).values()].flat();
    const denial = ledger.find((e) => e.phase === 'denied')!;
    expect(JSON.parse(denial.detail).reason).toMatch(new RegExp(`another incident is in flight on arn:aws:ec2:eu-west-1:111111111111:instance/${INSTANCE}`));
  });

  test('the caps stop a failing command: escalated with what the failed instance said, not completed', async () => {
    fleet[1] = member('i-2', 'Failed', 'Failed', `${JSON.stringify({ ...SUMMARY, deleted: 0, bytesFreed: 0, errorCount: 1, errors: ['cannot delete /var/log/a.gz'] })}\n`);
    fleet[3] = member('i-4', 'Cancelled', 'Terminated', '');
    const run = await fleetPrune();
    expect(run.status).toBe('FAILED');
    expect(detailOf(await h.incident('disk-prune-fleet-'), 'verification-failed').reason)
      .toBe('the fleet prune command Failed: failed on 1 of 4 instance(s): i-2 Failed (exit 1): cannot delete /var/log/a.gz; not run on i-4 (Terminated)');
  });
});
