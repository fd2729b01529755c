import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstanceInformationCommand, ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand, SSMClient, type Command, type CommandInvocation,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { steps } from '../../lambdas/disk-prune-fleet/index';
import type { ActResult, WorkflowState } from '../../lambdas/shared/types';
import { alarmTrigger, ecsRunbookSpec, receivedIncident, workflowState } from '../support/fixtures';
import { ACCOUNT, REGION } from '../support/synth';
import { actThrough } from '../support/gate';

const ssm = mockClient(SSMClient);
const cloudWatch = mockClient(CloudWatchClient);
beforeEach(() => { ssm.reset(); cloudWatch.reset(); });
afterAll(() => { ssm.restore(); cloudWatch.restore(); });

const OPTIONS = { documentName: 'medic-disk-prune-doc', documentParameters: { logRoot: '/var/log', dryRun: 'false' }, deliveryTimeoutSeconds: 300, maxConcurrency: '25%', maxErrors: '1' };
const summary = (mb: number, deleted: number) => JSON.stringify({ dryRun: false, deleted, wouldDelete: 0, bytesFreed: mb * 1024 * 1024, skippedOpen: 0, limitReached: false, refusedRoots: [], errors: [], files: [] });

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
  ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: 'cmd-1', TargetCount: 4, CompletedCount: 4, ErrorCount: 0, ...command } as Command] });
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
    expect(result.reason).toBe('freed 15.0 MB (4 file(s)) across 3 instance(s); disk_used_percent 60.0 is back within the threshold 85');
    expect(result.readings.withoutSummary).toEqual(['i-3']);
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
    commandIs({ Status: 'Failed', ErrorCount: 2 }, [
      { InstanceId: 'i-1', Status: 'Success', CommandPlugins: [{ Output: summary(1, 1) }] },
      { InstanceId: 'i-2', Status: 'Failed', CommandPlugins: [{ Output: 'protected root /etc' }] },
    ]);
    const result = await steps.check(state({}, 'web-asg', sent));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toBe('the fleet prune command Failed (2 error(s) of 4 target(s)): i-2 Failed: protected root /etc');
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
