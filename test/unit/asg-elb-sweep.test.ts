import 'aws-sdk-client-mock-jest';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, sweepSettings } from '../../lambdas/asg-elb-sweep/index';

const autoScaling = mockClient(AutoScalingClient);
const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const dynamo = mockClient(DynamoDBDocumentClient);

const ENV = {
  MEDIC_SWEEP_RUNBOOK: 'web-elb-health',
  MEDIC_SWEEP_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111111111111:stateMachine:web-elb-health',
  MEDIC_SWEEP_TAG_KEY: 'medic:enforce-elb-health-check',
  MEDIC_SWEEP_TAG_VALUE: 'true',
  MEDIC_SWEEP_MAX_PER_SWEEP: '5',
  MEDIC_SWEEP_KILL_SWITCH_GLOBAL: '/medic/T/kill-switch/global',
  MEDIC_SWEEP_KILL_SWITCH_RUNBOOK: '/medic/T/kill-switch/runbook/web-elb-health',
};
const EVENT = { time: '2026-11-24T14:00:00Z' };

const group = (name: string, overrides: Partial<AutoScalingGroup> = {}): AutoScalingGroup => ({
  AutoScalingGroupName: name, HealthCheckType: 'EC2', TargetGroupARNs: [`arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/${name}/0123456789abcdef`],
  LoadBalancerNames: [], MinSize: 1, MaxSize: 4, DesiredCapacity: 2, CreatedTime: new Date(), AvailabilityZones: ['eu-west-1a'], DefaultCooldown: 300, HealthCheckGracePeriod: 0, ...overrides,
} as AutoScalingGroup);

/** The detail of every ledger entry written (the `swept` entries). */
const swept = (): Array<Record<string, any>> => dynamo.commandCalls(PutCommand).map((c) => JSON.parse(c.args[0].input.Item!.detail as string));
const started = (): Array<{ name?: string; input: Record<string, unknown> }> =>
  sfn.commandCalls(StartExecutionCommand).map((c) => ({ name: c.args[0].input.name, input: JSON.parse(c.args[0].input.input!) }));

beforeEach(() => {
  for (const m of [autoScaling, sfn, ssm, dynamo]) m.reset();
  Object.assign(process.env, ENV, { MEDIC_LEDGER_TABLE: 'ledger', MEDIC_LIMITER_TABLE: 'limiter', MEDIC_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111111111111:t', MEDIC_STACK_NAME: 'T' });
  ssm.on(GetParametersCommand).resolves({ Parameters: [{ Name: ENV.MEDIC_SWEEP_KILL_SWITCH_GLOBAL, Value: 'off' }, { Name: ENV.MEDIC_SWEEP_KILL_SWITCH_RUNBOOK, Value: 'off' }] });
  dynamo.on(QueryCommand).resolves({ Items: [] });
  dynamo.on(PutCommand).resolves({});
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `arn:aws:states:eu-west-1:111111111111:execution:web-elb-health:${input.name}` }));
});
afterAll(() => [autoScaling, sfn, ssm, dynamo].forEach((m) => m.restore()));

describe('the sweep', () => {
  test('8 non-compliant groups with a cap of 5: starts 5 incidents, defers 3, lists both in the ledger', async () => {
    const names = ['asg-1', 'asg-2', 'asg-3', 'asg-4', 'asg-5', 'asg-6', 'asg-7', 'asg-8'];
    autoScaling.on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({ AutoScalingGroups: names.slice(0, 4).reverse().map((n) => group(n)), NextToken: 'page-2' })
      .resolvesOnce({ AutoScalingGroups: names.slice(4).map((n) => group(n)) });
    const result = await handler(EVENT);
    expect(autoScaling).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, { Filters: [{ Name: 'tag:medic:enforce-elb-health-check', Values: ['true'] }] });
    expect(started().map((s) => s.input.autoScalingGroupName)).toEqual(names.slice(0, 5));
    expect(started()[0].input).toMatchObject({ trigger: 'schedule', reason: expect.stringMatching(/^sweep 20261124T140000Z/) });
    expect(result.deferred).toEqual(['asg-6', 'asg-7', 'asg-8']);
    const [entry] = swept();
    expect(entry).toMatchObject({ scanned: 8, maxPerSweep: 5, deferred: { count: 3, names: ['asg-6', 'asg-7', 'asg-8'] } });
    expect(entry.started).toHaveLength(5);
  });

  test('compliant groups and groups without a load balancer are listed, not started', async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [
      group('compliant', { HealthCheckType: 'ELB' }), group('no-lb', { TargetGroupARNs: [] }), group('classic', { TargetGroupARNs: [], LoadBalancerNames: ['web-clb'] }),
    ] });
    await handler(EVENT);
    expect(started().map((s) => s.input.autoScalingGroupName)).toEqual(['classic']);
    expect(swept()[0]).toMatchObject({ compliant: { count: 1, names: ['compliant'] }, withoutLoadBalancer: { count: 1, names: ['no-lb'] } });
  });

  test('the runbook\'s own rule: EBS,ELB is compliant, EBS is not; a traffic source counts as a load balancer, VPC Lattice alone does not', async () => {
    const tg = (n: string) => `arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/${n}/0123456789abcdef`;
    const lattice = 'arn:aws:vpc-lattice:eu-west-1:111111111111:targetgroup/tg-0123456789abcdef0';
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [
      group('ebs-elb', { HealthCheckType: 'EBS,ELB' }),
      group('ebs-only', { HealthCheckType: 'EBS' }),
      group('lattice-elb', { HealthCheckType: 'VPC_LATTICE,ELB' }),
      group('traffic-source-only', { TargetGroupARNs: [], TrafficSources: [{ Identifier: tg('ts'), Type: 'elbv2' }] }),
      group('lattice-only', { TargetGroupARNs: [], TrafficSources: [{ Identifier: lattice, Type: 'vpc-lattice' }] }),
      group('unknown-type', { HealthCheckType: 'EBS,SOMETHING_NEW' }),
    ] });
    await handler(EVENT);
    expect(started().map((s) => s.input.autoScalingGroupName)).toEqual(['ebs-only', 'traffic-source-only']);
    expect(started()[0].input.reason).toMatch(/load balancer attached, health checks without ELB$/);
    expect(swept()[0]).toMatchObject({
      compliant: { count: 2, names: ['ebs-elb', 'lattice-elb'] },
      withoutLoadBalancer: { count: 1, names: ['lattice-only'] },
      unsupported: { count: 1, names: ['unknown-type'] },
    });
  });

  test('execution names are stable for one scheduled time, valid, and differ per group', async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('web asg/1'), group('web asg:1')] });
    await handler(EVENT);
    await handler(EVENT);
    const names = started().map((s) => s.name!);
    expect(names[0]).toBe(names[2]);
    expect(names[0]).not.toBe(names[1]);
    for (const n of names) expect(n).toMatch(/^sweep-20261124T140000Z-[A-Za-z0-9_-]+$/);
    expect(Math.max(...names.map((n) => n.length))).toBeLessThanOrEqual(80);
  });

  test('kill switch on (or unreadable): nothing is described or started, the skip is recorded', async () => {
    ssm.on(GetParametersCommand).resolves({ Parameters: [{ Name: ENV.MEDIC_SWEEP_KILL_SWITCH_GLOBAL, Value: 'on' }, { Name: ENV.MEDIC_SWEEP_KILL_SWITCH_RUNBOOK, Value: 'off' }] });
    expect((await handler(EVENT)).skipped).toMatch(/kill-switch\/global is "on"/);
    ssm.on(GetParametersCommand).rejects(new Error('AccessDenied'));
    expect((await handler(EVENT)).skipped).toMatch(/could not be read \(failing closed\)/);
    expect(autoScaling).not.toHaveReceivedCommand(DescribeAutoScalingGroupsCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(swept().map((d) => d.skipped)).toHaveLength(2);
  });

  test('a failed StartExecution is recorded with what did start, and fails the sweep so it is retried and alarmed', async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('a'), group('b')] });
    sfn.on(StartExecutionCommand).callsFakeOnce((input) => ({ executionArn: `arn:x:${input.name}` })).rejects(new Error('ServiceUnavailable'));
    await expect(handler(EVENT)).rejects.toThrow('ServiceUnavailable');
    expect(swept()[0]).toMatchObject({ started: [{ autoScalingGroupName: 'a' }], failedToStart: ['b'], error: expect.stringContaining('ServiceUnavailable') });
  });

  test('settings: a missing or invalid setting is an error naming it', () => {
    expect(() => sweepSettings({ ...ENV, MEDIC_SWEEP_MAX_PER_SWEEP: '0' })).toThrow(/MEDIC_SWEEP_MAX_PER_SWEEP must be a whole number of at least 1/);
    expect(() => sweepSettings({ ...ENV, MEDIC_SWEEP_TAG_KEY: '' })).toThrow(/MEDIC_SWEEP_TAG_KEY is not set/);
  });
});
