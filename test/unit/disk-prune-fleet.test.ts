import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CancelCommandCommand, DescribeInstanceInformationCommand, GetCalendarStateCommand, GetCommandInvocationCommand, GetParametersCommand, ListCommandInvocationsCommand,
  ListCommandsCommand, SendCommandCommand, SSMClient, type Command, type CommandInvocation,
} from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { steps } from '../../lambdas/disk-prune-fleet/index';
import { invocationOutcome } from '../../lambdas/shared/prune-command';
import type { ActResult, WorkflowState } from '../../lambdas/shared/types';
import { alarmTrigger, ecsRunbookSpec, receivedIncident, workflowState } from '../support/fixtures';
import { ACCOUNT, REGION } from '../support/synth';
import { actThrough } from '../support/gate';

const ssm = mockClient(SSMClient);
const cloudWatch = mockClient(CloudWatchClient);
const dynamo = mockClient(DynamoDBDocumentClient);
/** The kill switches at `value` (the check re-reads them while the command runs). */
const killSwitches = (value: string) => ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({ Parameters: input.Names.map((Name) => ({ Name, Value: value })) }));
beforeEach(() => { ssm.reset(); cloudWatch.reset(); dynamo.reset(); killSwitches('off'); });
afterAll(() => { ssm.restore(); cloudWatch.restore(); dynamo.restore(); });

const OPTIONS = { documentName: 'medic-disk-prune-doc', documentParameters: { logRoot: '/var/log', dryRun: 'false' }, deliveryTimeoutSeconds: 300, maxConcurrency: '25%', maxErrors: '1' };
const summary = (mb: number, deleted: number, extra: Record<string, unknown> = {}) => JSON.stringify({
  dryRun: false, deleted, wouldDelete: 0, bytesFreed: mb * 1024 * 1024, skippedOpen: 0, limitReached: false, refusedRoots: [], errorCount: 0, errors: [], files: [], ...extra,
});
/** SSM Agent's plugin Output when stdout is longer than the 2,500 it keeps (aws/amazon-ssm-agent iohandler.go, TruncateOutput). */
const cut = (stdout: string) => `${stdout.slice(0, 2500 - 22)}\n---Output truncated---`;
/** A summary as long as a real one listing 40 paths: more than 2,500 characters. */
const longSummary = (mb: number, deleted: number) => summary(mb, deleted, { files: Array.from({ length: 40 }, (_, n) => `/var/log/app/archive/application-server-access.log.${n + 1}.gz`) });

function state(options: Record<string, unknown> = {}, id = 'web-asg', act?: ActResult): WorkflowState {
  return workflowState({
    runbook: ecsRunbookSpec({ name: 'disk-prune-fleet', kind: 'disk-prune-fleet', options: { ...OPTIONS, ...options } }),
    incident: receivedIncident({
      runbook: 'disk-prune-fleet',
      trigger: alarmTrigger({ name: 'web-fleet-disk-full' }),
      target: { type: 'autoscaling-group', id, arn: `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/${id}`, region: REGION, account: ACCOUNT, dimensions: {} },
    }),
    act,
  });
}
const sent: ActResult = { summary: 'sent', calls: [], batch: 0, moreBatches: false, details: { commandId: 'cmd-1', requestedAt: new Date(Date.now() - 300_000).toISOString() } };
const commandIs = (command: Partial<Command>, invocations: Array<Partial<CommandInvocation>> = []): void => {
  const n = invocations.length || 4;
  ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: 'cmd-1', TargetCount: n, CompletedCount: n, ErrorCount: 0, ...command } as Command] });
  ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: invocations as CommandInvocation[] });
};
function fleetDiskAt(value: number): void {
  cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'web-fleet-disk-full', Namespace: 'CWAgent', MetricName: 'disk_used_percent', Threshold: 85, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Maximum', Period: 60, Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'web-asg' }] }] });
  cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'disk', Timestamps: [new Date()], Values: [value] }] });
}

describe('plan', () => {
  test('looks the fleet up by its Auto Scaling group tag; acts when a managed Linux instance is online', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [
      { InstanceId: 'i-1', PingStatus: 'Online', PlatformType: 'Linux' }, { InstanceId: 'i-2', PingStatus: 'ConnectionLost', PlatformType: 'Linux' },
    ] });
    const plan = await steps.plan(state());
    expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, { Filters: [{ Key: 'tag:aws:autoscaling:groupName', Values: ['web-asg'] }] });
    expect(plan.decision).toBe('act');
    expect(plan.details).toMatchObject({ managed: 2, onlineLinux: 1, notOnline: ['i-2'] });
    expect(plan.summary).toMatch(/at most 25% at once, stopping after 1 error\(s\)$/);
  });

  test('no managed, online instance in the fleet: refused', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    const plan = await steps.plan(state());
    expect(plan).toMatchObject({ decision: 'escalate', reason: 'no SSM-managed, online Linux instance is tagged aws:autoscaling:groupName=web-asg' });
  });

  test('a tag fleet is looked up by its own tag', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: 'i-1', PingStatus: 'Online', PlatformType: 'Linux' }] });
    await steps.plan(state({ fleetTagKey: 'role' }, 'role=web'));
    expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, { Filters: [{ Key: 'tag:role', Values: ['web'] }] });
  });
});

describe('act', () => {
  test('one SendCommand to the fleet by tag, with the blast-radius caps', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-7' } });
    const result = await actThrough(steps, state());
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'medic-disk-prune-doc', Targets: [{ Key: 'tag:aws:autoscaling:groupName', Values: ['web-asg'] }], MaxConcurrency: '25%', MaxErrors: '1',
    });
    expect(ssm.commandCalls(SendCommandCommand)[0].args[0].input.InstanceIds).toBeUndefined();
    expect(result.details.commandId).toBe('cmd-7');
  });
});

describe('check', () => {
  test('running: pending, with progress', async () => {
    commandIs({ Status: 'InProgress', CompletedCount: 1 });
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result).toMatchObject({ verdict: 'pending', reason: 'fleet command InProgress: 1 of 4 done' });
    expect(ssm).not.toHaveReceivedCommand(ListCommandInvocationsCommand);
  });

  test('done and the fleet metric is back: success, with the bytes freed summed over the instances', async () => {
    commandIs({ Status: 'Success' }, [
      { InstanceId: 'i-1', Status: 'Success', CommandPlugins: [{ Output: `log\n${summary(10, 3)}` }] },
      { InstanceId: 'i-2', Status: 'Success', CommandPlugins: [{ Output: summary(5, 1) }] },
      { InstanceId: 'i-3', Status: 'Success', CommandPlugins: [{ Output: '...--output truncated--' }] },
    ]);
    fleetDiskAt(60);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result.verdict).toBe('success');
    // i-3's summary is not in its Output, and GetCommandInvocation (unanswered here) does not give it either.
    expect(result.reason).toBe('freed 15.0 MB (4 file(s)) across 3 instance(s), 1 of them without a readable summary; disk_used_percent 60.0 is back within the threshold 85');
    expect(result.readings.withoutSummary).toEqual(['i-3']);
    expect(result.report).toBeUndefined();
  });

  test('every page of invocations counts, and only datapoints after the last instance finished are read', async () => {
    const finished = new Date(Date.now() - 60_000);
    ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: 'cmd-1', Status: 'Success', TargetCount: 2, CompletedCount: 2 } as Command] });
    ssm.on(ListCommandInvocationsCommand)
      .resolvesOnce({ CommandInvocations: [{ InstanceId: 'i-1', Status: 'Success', CommandPlugins: [{ Output: summary(10, 3), ResponseFinishDateTime: new Date(Date.now() - 120_000) }] }], NextToken: 'page-2' })
      .resolvesOnce({ CommandInvocations: [{ InstanceId: 'i-2', Status: 'Success', CommandPlugins: [{ Output: summary(5, 1), ResponseFinishDateTime: finished }] }] });
    fleetDiskAt(60);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result.reason).toMatch(/^freed 15\.0 MB \(4 file\(s\)\) across 2 instance\(s\)/);
    expect(ssm.commandCalls(ListCommandInvocationsCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
    // The query starts one period before the cut-off; only datapoints from the last finish on count.
    expect(cloudWatch.commandCalls(GetMetricDataCommand)[0].args[0].input.StartTime!.getTime()).toBe(finished.getTime() - 60_000);
  });

  test('the caps stopped it (Failed): failure with the failing instances\' output', async () => {
    commandIs({ Status: 'Failed', ErrorCount: 1 }, [
      { InstanceId: 'i-1', Status: 'Success', CommandPlugins: [{ Output: summary(1, 1) }] },
      { InstanceId: 'i-2', Status: 'Failed', CommandPlugins: [{ Output: 'protected root /etc' }] },
    ]);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toBe('the fleet prune command Failed: failed on 1 of 2 instance(s): i-2 Failed: protected root /etc');
  });

  test('still at the threshold after pruning: pending with what was freed', async () => {
    commandIs({ Status: 'Success' }, [{ InstanceId: 'i-1', Status: 'Success', CommandPlugins: [{ Output: summary(2, 2) }] }]);
    fleetDiskAt(85);
    expect((await steps.check(state({}, 'web-asg', sent))).reason).toMatch(/^freed 2\.0 MB \(2 file\(s\)\) across 1 instance\(s\), still 85\.0 disk_used_percent \(threshold 85\): something else/);
  });

  test('an unreadable command is inconclusive', async () => {
    ssm.on(ListCommandsCommand).rejects(new Error('socket hang up'));
    expect((await steps.check(state({}, 'web-asg', sent))).verdict).toBe('inconclusive');
  });
});

const ok = (id: string, mb = 10, files = 3): Partial<CommandInvocation> => ({
  InstanceId: id, Status: 'Success', StatusDetails: 'Success', CommandPlugins: [{ Output: summary(mb, files), ResponseCode: 0, ResponseFinishDateTime: new Date(Date.now() - 120_000) }],
});
/** An invocation the instance never received: no plugin reported anything. */
const never = (id: string, Status: string, StatusDetails: string): Partial<CommandInvocation> => ({ InstanceId: id, Status: Status as CommandInvocation['Status'], StatusDetails, CommandPlugins: [] });

describe('check, instance by instance (Run Command\'s statuses as the SDK documents them)', () => {
  test('one instance never received the command (DeliveryTimedOut) and the fleet metric is back: success, the instance named and reported', async () => {
    // The command ends TimedOut (Delivery Timed Out) or Incomplete though the prune worked on every instance it reached.
    commandIs({ Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut', DeliveryTimedOutCount: 1 }, [ok('i-1'), ok('i-2', 5, 1), never('i-3', 'TimedOut', 'DeliveryTimedOut')]);
    fleetDiskAt(60);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result.verdict).toBe('success');
    expect(result.reason).toBe('freed 15.0 MB (4 file(s)) across 2 instance(s); not run on i-3 (DeliveryTimedOut); disk_used_percent 60.0 is back within the threshold 85');
    expect(result.readings).toMatchObject({ succeeded: 2, failedCount: 0, notRun: ['i-3 (DeliveryTimedOut)'], notRunCount: 1 });
    expect(result.report).toMatchObject({ title: 'Fleet disk prune of aws:autoscaling:groupName=web-asg', verdict: 'RESOLVED, 1 instance(s) not reached' });
    expect(result.report!.lines).toContain('NOT REACHED: i-3 (DeliveryTimedOut): not delivered before the delivery timeout');
    expect(result.briefing!.action).toMatch(/^Check the SSM agent and network of i-3: Run Command could not run the prune there/);
    expect(ssm).not.toHaveReceivedCommand(GetCommandInvocationCommand);
  });

  test('an undelivered instance and the fleet metric still above the threshold: pending, naming it (the escalation after the last check does too)', async () => {
    commandIs({ Status: 'Failed', StatusDetails: 'Incomplete', DeliveryTimedOutCount: 1 }, [ok('i-1'), never('i-2', 'TimedOut', 'Delivery Timed Out')]);
    fleetDiskAt(92);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result.verdict).toBe('pending');
    expect(result.reason).toBe('freed 10.0 MB (3 file(s)) across 1 instance(s); not run on i-2 (DeliveryTimedOut), still 92.0 disk_used_percent (threshold 85): '
      + 'the instance(s) the prune did not reach may be the full one(s)');
    expect(result.briefing!.facts).toContain('not reached: i-2 (DeliveryTimedOut): not delivered before the delivery timeout');
    expect(result.report).toBeUndefined();
  });

  test.each<[string, string, string]>([
    ['Undeliverable', 'Failed', 'Undeliverable'],
    ['Terminated (MaxErrors reached before it was sent)', 'Cancelled', 'Terminated'],
    ['InvalidPlatform', 'Failed', 'InvalidPlatform'],
    ['AccessDenied', 'Failed', 'AccessDenied'],
  ])('%s is "not run", not a failure of the prune', async (_, status, details) => {
    // Undeliverable ones "don't contribute to whether the parent command status is Success": a Success command need not have run everywhere.
    commandIs({ Status: 'Success' }, [ok('i-1'), never('i-2', status, details)]);
    fleetDiskAt(60);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result.verdict).toBe('success');
    expect(result.reason).toMatch(new RegExp(`^freed 10\\.0 MB \\(3 file\\(s\\)\\) across 1 instance\\(s\\); not run on i-2 \\(${details}\\);`));
  });

  test.each<[string, string, RegExp]>([
    ['Failed', 'Failed', /failed on 1 of 3 instance\(s\): i-2 Failed \(exit 1\): cannot delete \/var\/log\/a\.gz; cannot delete \/var\/log\/b\.gz \(25 error\(s\) in all\); not run on i-3 \(DeliveryTimedOut\)$/],
    ['TimedOut', 'ExecutionTimedOut', /failed on 1 of 3 instance\(s\): i-2 TimedOut \(ExecutionTimedOut\) \(exit 1\): /],
    ['Cancelled', 'Cancelled', /failed on 1 of 3 instance\(s\): i-2 Cancelled \(exit 1\): /],
  ])('an instance that ran it and ended %s (%s) fails the verification, whatever the others did', async (status, details, reason) => {
    commandIs({ Status: 'Failed', StatusDetails: 'Incomplete', ErrorCount: 1 }, [
      ok('i-1'),
      { InstanceId: 'i-2', Status: status as CommandInvocation['Status'], StatusDetails: details, CommandPlugins: [{ ResponseCode: 1, Output: summary(0, 0, { errorCount: 25, errors: ['cannot delete /var/log/a.gz', 'cannot delete /var/log/b.gz'] }) }] },
      never('i-3', 'TimedOut', 'DeliveryTimedOut'),
    ]);
    fleetDiskAt(60);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toMatch(/^the fleet prune command Failed \(Incomplete\): /);
    expect(result.reason).toMatch(reason);
    expect(result.briefing!.action).toMatch(/^Read what the prune said on i-2 \(Run Command, command cmd-1\)/);
    expect(cloudWatch).not.toHaveReceivedCommand(GetMetricDataCommand);
  });

  test('no instance received it: failure naming each, the metric not read', async () => {
    commandIs({ Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut' }, [never('i-1', 'TimedOut', 'DeliveryTimedOut'), never('i-2', 'Failed', 'Undeliverable')]);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result).toMatchObject({
      verdict: 'failure',
      reason: 'the fleet prune command TimedOut (DeliveryTimedOut): it ran on no instance: not run on i-1 (DeliveryTimedOut), i-2 (Undeliverable)',
    });
    expect(cloudWatch).not.toHaveReceivedCommand(GetMetricDataCommand);
  });

  test('a summary ListCommandInvocations cut at 2,500 characters is read whole with GetCommandInvocation (first 24,000 characters of stdout)', async () => {
    const whole = longSummary(200, 67);
    expect(whole.length).toBeGreaterThan(2500);
    commandIs({ Status: 'Success' }, [ok('i-1'), { ...ok('i-2'), CommandPlugins: [{ Output: cut(whole), ResponseFinishDateTime: new Date(Date.now() - 60_000) }] }]);
    ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Success', StandardOutputContent: `${whole}\n` });
    fleetDiskAt(60);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(ssm).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: 'i-2' });
    expect(result.reason).toMatch(/^freed 210\.0 MB \(70 file\(s\)\) across 2 instance\(s\); disk_used_percent/);
    expect(result.readings).toMatchObject({ outputCut: 1, summariesFetched: 1, withoutSummary: [] });
  });

  test('stderr after the summary in an Output does not hide it; an unreadable GetCommandInvocation leaves only that instance\'s figures out', async () => {
    commandIs({ Status: 'Success' }, [
      { ...ok('i-1'), CommandPlugins: [{ Output: `${summary(10, 3)}\n\n----------ERROR-------\nbash: warning: setlocale: LC_ALL: cannot change locale` }] },
      { ...ok('i-2'), CommandPlugins: [{ Output: cut(longSummary(5, 2)) }] },
    ]);
    ssm.on(GetCommandInvocationCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    fleetDiskAt(60);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result.verdict).toBe('success');
    expect(result.reason).toMatch(/^freed 10\.0 MB \(3 file\(s\)\) across 2 instance\(s\), 1 of them without a readable summary;/);
    expect(result.readings).toMatchObject({ withoutSummary: ['i-2'], summaryErrors: ['i-2: ThrottlingException: Rate exceeded'] });
  });

  test('right after SendCommand Run Command may not list the command (or know its id): pending, not inconclusive', async () => {
    ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    expect(await steps.check(state({}, 'web-asg', sent))).toMatchObject({ verdict: 'pending', reason: 'command cmd-1 not listed yet' });
    ssm.on(ListCommandsCommand).rejects(Object.assign(new Error('Invalid command id'), { name: 'InvalidCommandId' }));
    expect(await steps.check(state({}, 'web-asg', sent))).toMatchObject({ verdict: 'pending', reason: 'command cmd-1 not listed yet' });
  });

  test('a finished command whose invocations are not all listed, or not all ended, yet: pending', async () => {
    ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: 'cmd-1', Status: 'Success', TargetCount: 3, CompletedCount: 3 } as Command] });
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [ok('i-1'), ok('i-2')] as CommandInvocation[] });
    fleetDiskAt(60);
    expect(await steps.check(state({}, 'web-asg', sent))).toMatchObject({ verdict: 'pending', reason: 'fleet command Success, but Run Command lists 2 of 3 invocation(s) as ended so far' });
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [ok('i-1'), ok('i-2'), { InstanceId: 'i-3', Status: 'InProgress', StatusDetails: 'Delayed' }] as CommandInvocation[] });
    expect((await steps.check(state({}, 'web-asg', sent))).verdict).toBe('pending');
  });

  test('a Cancelling command (being stopped already) is pending, and no guard is read for it', async () => {
    commandIs({ Status: 'Cancelling', CompletedCount: 1 });
    expect(await steps.check(state({}, 'web-asg', sent))).toMatchObject({ verdict: 'pending', reason: 'fleet command Cancelling: 1 of 4 done' });
    expect(ssm).not.toHaveReceivedCommand(GetParametersCommand);
    expect(ssm).not.toHaveReceivedCommand(CancelCommandCommand);
  });

  test('invocationOutcome reads StatusDetails first (with or without spaces), then Status; an unknown terminal status is a failure', () => {
    const cases: Array<[string | undefined, string | undefined, string]> = [
      ['Pending', 'Pending', 'running'], ['InProgress', 'InProgress', 'running'], ['InProgress', 'Delayed', 'running'], ['Delayed', undefined, 'running'], ['Cancelling', undefined, 'running'],
      ['Success', 'Success', 'succeeded'],
      ['Failed', 'Failed', 'failed'], ['TimedOut', 'ExecutionTimedOut', 'failed'], ['TimedOut', 'Execution Timed Out', 'failed'], ['Cancelled', 'Cancelled', 'failed'],
      ['TimedOut', 'DeliveryTimedOut', 'not-run'], ['TimedOut', 'Delivery Timed Out', 'not-run'], ['Failed', 'Undeliverable', 'not-run'], ['Cancelled', 'Terminated', 'not-run'],
      ['Failed', 'InvalidPlatform', 'not-run'], ['Failed', 'Access Denied', 'not-run'],
      ['TimedOut', undefined, 'failed'], ['Failed', 'SomethingNew', 'failed'], [undefined, undefined, 'failed'],
    ];
    for (const [status, details, outcome] of cases) expect([status, details, invocationOutcome(status, details)]).toEqual([status, details, outcome]);
  });
});

describe('check while the command runs: every guard re-read, a closed one cancels the command', () => {
  const frozen = (act = sent): WorkflowState => {
    const s = state({}, 'web-asg', act);
    return { ...s, runbook: { ...s.runbook, changeCalendar: 'release-freeze' } };
  };
  const running = () => commandIs({ Status: 'InProgress', TargetCount: 3, CompletedCount: 1 });

  test('every guard passes: pending as before, nothing cancelled', async () => {
    running();
    ssm.on(GetCalendarStateCommand).resolves({ State: 'OPEN' });
    expect(await steps.check(frozen())).toMatchObject({ verdict: 'pending', reason: 'fleet command InProgress: 1 of 3 done' });
    expect(ssm).toHaveReceivedCommandWith(GetCalendarStateCommand, { CalendarNames: ['release-freeze'] });
    expect(ssm).not.toHaveReceivedCommand(CancelCommandCommand);
  });

  test('the change calendar closed: CancelCommand for its own command, failure naming the freeze, the cancel and how far it got', async () => {
    running();
    ssm.on(GetCalendarStateCommand).resolves({ State: 'CLOSED' });
    ssm.on(CancelCommandCommand).resolves({ $metadata: { requestId: 'req-9' } });
    const result = await steps.check(frozen());
    expect(ssm).toHaveReceivedCommandTimes(CancelCommandCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: 'cmd-1' });
    expect(result.verdict).toBe('failure');
    expect(result.reason).toBe('change calendar release-freeze is CLOSED (change freeze) while the prune command was running: medic cancelled command cmd-1 (request id req-9); '
      + 'it had finished on 1 of 3 instance(s)');
    expect(result.readings).toMatchObject({ completed: 1, targets: 3, guardClosed: 'change calendar release-freeze is CLOSED (change freeze)', cancelled: { commandId: 'cmd-1', requestId: 'req-9', at: expect.any(String) } });
    expect(result.briefing!.action).toMatch(/^The prune was stopped; it had finished on 1 of 3 instance\(s\)\. Re-run it once changes are allowed again/);
    expect(ssm).not.toHaveReceivedCommand(ListCommandInvocationsCommand);
  });

  test('the kill switch is on: cancelled the same way (stopping a change is made with the kill switch on)', async () => {
    running();
    killSwitches('on');
    ssm.on(CancelCommandCommand).resolves({});
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(ssm).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: 'cmd-1' });
    expect(result).toMatchObject({ verdict: 'failure', readings: { cancelled: { commandId: 'cmd-1' } } });
    expect(result.reason).toBe('kill switch /medic/kill-switch is "on" (only exactly "off" lets medic act) while the prune command was running: medic cancelled command cmd-1; it had finished on 1 of 3 instance(s)');
  });

  test('a guard that cannot be read fails closed: cancelled', async () => {
    running();
    ssm.on(GetCalendarStateCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    ssm.on(CancelCommandCommand).resolves({});
    const result = await steps.check(frozen());
    expect(ssm).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: 'cmd-1' });
    expect(result.verdict).toBe('failure');
    expect(result.reason).toMatch(/^Medic\.GuardUnavailable: change calendar release-freeze could not be read: AccessDeniedException: User is not authorized \(failing closed\) while the prune command was running: medic cancelled command cmd-1;/);
  });

  test('the kill switch cannot be read: cancelled', async () => {
    running();
    ssm.on(GetParametersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    ssm.on(CancelCommandCommand).resolves({});
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toMatch(/^kill switch could not be read \(failing closed\): .*ThrottlingException: Rate exceeded while the prune command was running: medic cancelled command cmd-1;/);
  });

  test('the incident lost its lease: cancelled', async () => {
    running();
    dynamo.on(GetCommand).resolves({});
    ssm.on(CancelCommandCommand).resolves({});
    const s = state({}, 'web-asg', sent);
    const result = await steps.check({ ...s, admission: { admitted: true, leases: ['web-asg'], epochs: { 'web-asg': 1 } } });
    expect(ssm).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: 'cmd-1' });
    expect(result.reason).toMatch(/^lease web-asg is no longer held by this incident while the prune command was running: medic cancelled command cmd-1;/);
  });

  test('CancelCommand fails: still a failure, saying it could not be cancelled and may still run', async () => {
    running();
    ssm.on(GetCalendarStateCommand).resolves({ State: 'CLOSED' });
    ssm.on(CancelCommandCommand).rejects(Object.assign(new Error('internal error'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }));
    const result = await steps.check(frozen());
    expect(result.verdict).toBe('failure');
    expect(result.reason).toBe('change calendar release-freeze is CLOSED (change freeze) while the prune command was running: medic could not cancel command cmd-1 '
      + '(InternalServerError: internal error): it may still be running; it had finished on 1 of 3 instance(s)');
    expect(result.readings).toMatchObject({ cancelError: { commandId: 'cmd-1', error: 'InternalServerError: internal error' } });
    expect(result.readings.cancelled).toBeUndefined();
    expect(result.briefing!.action).toMatch(/^Cancel command cmd-1 yourself/);
  });
});
