import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CancelCommandCommand, DescribeInstanceInformationCommand, GetCalendarStateCommand, GetCommandInvocationCommand, GetParametersCommand, SendCommandCommand, SSMClient,
  type InstanceInformation,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { steps } from '../../lambdas/disk-prune/index';
import { parseSummary } from '../../lambdas/shared/disk-metric';
import type { ActResult, WorkflowState } from '../../lambdas/shared/types';
import { alarmTrigger, ecsRunbookSpec, receivedIncident, workflowState } from '../support/fixtures';
import { ACCOUNT, REGION } from '../support/synth';
import { actThrough } from '../support/gate';

const ssm = mockClient(SSMClient);
const cloudWatch = mockClient(CloudWatchClient);
/** The kill switches at `value` (the check re-reads them while the command runs). */
const killSwitches = (value: string) => ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({ Parameters: input.Names.map((Name) => ({ Name, Value: value })) }));
beforeEach(() => { ssm.reset(); cloudWatch.reset(); killSwitches('off'); });
afterAll(() => { ssm.restore(); cloudWatch.restore(); });

const INSTANCE = 'i-0123456789abcdef0';
const PARAMETERS = { logRoot: '/var/log', logPatterns: '*.gz *.[0-9]', tmpRoots: '/tmp /var/tmp', olderThanDays: '7', journalVacuumSize: '500M', dryRun: 'false', maxDeleteMB: '10240' };
const SUMMARY = { dryRun: false, roots: ['/var/log'], refusedRoots: [], considered: 3, deleted: 3, wouldDelete: 0, bytesFreed: 12 * 1024 * 1024, skippedOpen: 0, limitReached: false, journal: 'skipped', errors: [], files: ['/var/log/a.gz'] };

function state(instance = INSTANCE, act?: ActResult): WorkflowState {
  return workflowState({
    runbook: ecsRunbookSpec({
      name: 'disk-prune', kind: 'disk-prune',
      options: { documentName: 'medic-disk-prune-doc', documentParameters: PARAMETERS, deliveryTimeoutSeconds: 300, instances: [INSTANCE], optInTag: { key: 'medic:disk-prune', value: 'true' } },
    }),
    incident: receivedIncident({
      runbook: 'disk-prune',
      trigger: alarmTrigger({ name: 'web-disk-full' }),
      target: { type: 'ec2-instance', id: instance, arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${instance}`, region: REGION, account: ACCOUNT, dimensions: { InstanceId: instance } },
    }),
    act,
  });
}
const managed = (overrides: Record<string, unknown> = {}): InstanceInformation => ({ InstanceId: INSTANCE, PingStatus: 'Online', PlatformType: 'Linux', PlatformName: 'Amazon Linux', ...overrides } as InstanceInformation);
const REQUESTED = new Date(Date.now() - 120_000).toISOString();
const sent: ActResult = { summary: 'sent', calls: [], batch: 0, moreBatches: false, details: { commandId: 'cmd-1', requestedAt: REQUESTED } };
const invocation = (Status: string, extra: Record<string, unknown> = {}) => {
  ssm.on(GetCommandInvocationCommand).resolves({ Status, ResponseCode: Status === 'Success' ? 0 : 1, ExecutionEndDateTime: new Date(Date.now() - 60_000).toISOString(), ...extra } as never);
};
function diskAt(value: number, secondsAgo = 30): void {
  cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{
    AlarmName: 'web-disk-full', Namespace: 'CWAgent', MetricName: 'disk_used_percent', Threshold: 90, ComparisonOperator: 'GreaterThanThreshold',
    Statistic: 'Maximum', Period: 60, Dimensions: [{ Name: 'InstanceId', Value: INSTANCE }, { Name: 'path', Value: '/' }],
  }] });
  cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'disk', Timestamps: [new Date(Date.now() - secondsAgo * 1000)], Values: [value] }] });
}

describe('plan (preflight)', () => {
  test('a managed, online Linux instance in the allow-list: act', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [managed()] });
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('act');
    expect(plan.summary).toMatch(/^SendCommand medic-disk-prune-doc to i-0123456789abcdef0: prune \*\.gz \*\.\[0-9\] under \/var\/log/);
  });

  test.each<[string, Record<string, unknown> | undefined, RegExp]>([
    ['an instance that is not SSM-managed', undefined, /is not SSM-managed/],
    ['an instance whose agent lost its connection', { PingStatus: 'ConnectionLost' }, /SSM agent on i-0123456789abcdef0 is ConnectionLost/],
    ['a Windows instance', { PlatformType: 'Windows' }, /runs Windows; the prune document is for Linux/],
  ])('%s is refused, no command sent', async (_, info, reason) => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: info ? [managed(info)] : [] });
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toMatch(reason);
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
  });

  test('an instance outside the ID list is allowed only when SSM finds it with the opt-in tag', async () => {
    const other = 'i-0fedcba9876543210';
    ssm.on(DescribeInstanceInformationCommand).callsFake((input) => ({
      InstanceInformationList: input.Filters.some((f: { Key: string }) => f.Key === 'tag:medic:disk-prune') ? [] : [managed({ InstanceId: other })],
    }));
    expect((await steps.plan(state(other))).reason).toBe(`instance ${other} is not in the allow-list and is not tagged medic:disk-prune=true`);
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [managed({ InstanceId: other })] });
    expect((await steps.plan(state(other))).decision).toBe('act');
    expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, { Filters: [{ Key: 'InstanceIds', Values: [other] }, { Key: 'tag:medic:disk-prune', Values: ['true'] }] });
  });
});

describe('act', () => {
  test('sends the document to exactly this instance with every parameter as a one-element list', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-9' } });
    const result = await actThrough(steps, state());
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'medic-disk-prune-doc', InstanceIds: [INSTANCE], TimeoutSeconds: 300,
      Parameters: Object.fromEntries(Object.entries(PARAMETERS).map(([k, v]) => [k, [v]])),
    });
    expect(result.details.commandId).toBe('cmd-9');
  });
});

describe('check', () => {
  test('command still running or not registered yet: pending', async () => {
    invocation('InProgress');
    expect((await steps.check(state(INSTANCE, sent))).verdict).toBe('pending');
    ssm.on(GetCommandInvocationCommand).rejects(Object.assign(new Error('no invocation'), { name: 'InvocationDoesNotExist' }));
    expect((await steps.check(state(INSTANCE, sent))).verdict).toBe('pending');
  });

  test('a guard closes while the command runs: CancelCommand for it, failure naming the guard and the cancel; all guards open: pending, nothing cancelled', async () => {
    const frozen = (): WorkflowState => {
      const s = state(INSTANCE, sent);
      return { ...s, runbook: { ...s.runbook, changeCalendar: 'release-freeze' } };
    };
    invocation('InProgress', { ResponseCode: -1 });
    ssm.on(GetCalendarStateCommand).resolves({ State: 'OPEN' });
    expect(await steps.check(frozen())).toMatchObject({ verdict: 'pending', reason: 'command InProgress' });
    expect(ssm).not.toHaveReceivedCommand(CancelCommandCommand);

    ssm.on(GetCalendarStateCommand).resolves({ State: 'CLOSED' });
    ssm.on(CancelCommandCommand).resolves({ $metadata: { requestId: 'req-3' } });
    const result = await steps.check(frozen());
    expect(ssm).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: 'cmd-1' });
    expect(result).toMatchObject({
      verdict: 'failure',
      reason: 'change calendar release-freeze is CLOSED (change freeze) while the prune command was running: medic cancelled command cmd-1 (request id req-3); it had finished on 0 of 1 instance(s)',
      readings: { commandStatus: 'InProgress', cancelled: { commandId: 'cmd-1', requestId: 'req-3' } },
    });
    expect(result.briefing!.action).toMatch(/^The prune was stopped; /);
  });

  test('the kill switch on, or unreadable, while the command is Pending: cancelled (failing closed)', async () => {
    invocation('Pending', { ResponseCode: -1 });
    ssm.on(CancelCommandCommand).resolves({});
    killSwitches('on');
    expect((await steps.check(state(INSTANCE, sent))).reason).toBe('kill switch /medic/kill-switch is "on" (only exactly "off" lets medic act) while the prune command was running: '
      + 'medic cancelled command cmd-1; it had finished on 0 of 1 instance(s)');
    ssm.on(GetParametersCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalServerError' }));
    const result = await steps.check(state(INSTANCE, sent));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toMatch(/^kill switch could not be read \(failing closed\): .*boom while the prune command was running: medic cancelled command cmd-1;/);
    expect(ssm).toHaveReceivedCommandTimes(CancelCommandCommand, 2);
  });

  test('CancelCommand fails: still a failure, saying it could not be cancelled', async () => {
    invocation('InProgress', { ResponseCode: -1 });
    killSwitches('on');
    ssm.on(CancelCommandCommand).rejects(Object.assign(new Error('no such command'), { name: 'InvalidCommandId', $metadata: { httpStatusCode: 400 } }));
    const result = await steps.check(state(INSTANCE, sent));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toMatch(/: medic could not cancel command cmd-1 \(InvalidCommandId: no such command\): it may still be running; it had finished on 0 of 1 instance\(s\)$/);
    expect(result.readings).toMatchObject({ cancelError: { commandId: 'cmd-1', error: 'InvalidCommandId: no such command' } });
  });

  test('a Cancelling invocation is being stopped already: pending, no second cancel', async () => {
    invocation('Cancelling', { StatusDetails: 'Cancelling', ResponseCode: -1 });
    killSwitches('on');
    expect((await steps.check(state(INSTANCE, sent))).verdict).toBe('pending');
    expect(ssm).not.toHaveReceivedCommand(CancelCommandCommand);
  });

  test('Run Command still trying to deliver it (Delayed): pending', async () => {
    invocation('InProgress', { StatusDetails: 'Delayed', ResponseCode: -1 });
    expect(await steps.check(state(INSTANCE, sent))).toMatchObject({ verdict: 'pending', reason: 'command InProgress (Delayed)' });
  });

  test.each<[string, string, string]>([
    ['TimedOut', 'DeliveryTimedOut', 'not delivered before the delivery timeout'],
    ['TimedOut', 'Delivery Timed Out', 'not delivered before the delivery timeout'],
    ['Failed', 'Undeliverable', 'undeliverable: the node may not exist or may not be responding'],
  ])('the command never reached the instance (%s, %s): failure saying nothing was pruned', async (status, details, meaning) => {
    invocation(status, { StatusDetails: details, ResponseCode: -1 });
    const result = await steps.check(state(INSTANCE, sent));
    expect(result).toMatchObject({ verdict: 'failure', reason: `the prune command did not run on ${INSTANCE}: ${details.replace(/ /g, '')} (${meaning}); nothing was pruned` });
    expect(cloudWatch).not.toHaveReceivedCommand(GetMetricDataCommand);
  });

  test('it ran out of its execution time (ExecutionTimedOut): failure naming it, with its output', async () => {
    invocation('TimedOut', { StatusDetails: 'ExecutionTimedOut', ResponseCode: -1, StandardErrorContent: 'failed to run commands: exit status 137' });
    expect((await steps.check(state(INSTANCE, sent))).reason).toBe('the prune command TimedOut (ExecutionTimedOut) (exit -1): failed to run commands: exit status 137');
  });

  test.each(['Failed', 'TimedOut', 'Cancelled'])('command %s: failure carrying its output', async (status) => {
    invocation(status, { StandardErrorContent: 'find: permission denied', StandardOutputContent: JSON.stringify({ ...SUMMARY, refusedRoots: ['protected root /etc'] }) });
    const result = await steps.check(state(INSTANCE, sent));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toMatch(new RegExp(`^the prune command ${status} \\(exit 1\\): find: permission denied`));
  });

  test('pruned and the metric is back under the threshold: success with the summary', async () => {
    invocation('Success', { StandardOutputContent: `some log line\n${JSON.stringify(SUMMARY)}\n` });
    diskAt(71.5);
    const result = await steps.check(state(INSTANCE, sent));
    expect(result.verdict).toBe('success');
    expect(result.reason).toBe('freed 12.0 MB (3 file(s)); disk_used_percent 71.5 is back within the threshold 90');
    expect(result.readings.summary).toMatchObject({ deleted: 3, bytesFreed: 12 * 1024 * 1024 });
  });

  test('pruned but still above the threshold: pending, saying something else fills the disk', async () => {
    invocation('Success', { StandardOutputContent: JSON.stringify(SUMMARY) });
    diskAt(96);
    const result = await steps.check(state(INSTANCE, sent));
    expect(result.verdict).toBe('pending');
    expect(result.reason).toBe('freed 12.0 MB (3 file(s)), still 96.0 disk_used_percent (threshold 90): something else is filling the disk');
  });

  test('only datapoints after the command finished count', async () => {
    invocation('Success', { StandardOutputContent: JSON.stringify(SUMMARY) });
    diskAt(50, 600); // from before the prune
    expect((await steps.check(state(INSTANCE, sent))).reason).toMatch(/waiting for a disk_used_percent datapoint after the prune/);
  });

  test('success without a summary, or an unreadable metric, is never success', async () => {
    invocation('Success', { StandardOutputContent: 'not json' });
    expect((await steps.check(state(INSTANCE, sent))).verdict).toBe('failure');
    invocation('Success', { StandardOutputContent: JSON.stringify(SUMMARY) });
    cloudWatch.on(DescribeAlarmsCommand).rejects(new Error('AccessDenied'));
    expect((await steps.check(state(INSTANCE, sent))).verdict).toBe('inconclusive');
  });

  test('parseSummary reads only a final JSON line with the summary\'s shape', () => {
    expect(parseSummary(`x\n${JSON.stringify(SUMMARY)}`)?.deleted).toBe(3);
    expect(parseSummary('{"other":1}')).toBeUndefined();
    expect(parseSummary(undefined)).toBeUndefined();
  });
});
