import 'aws-sdk-client-mock-jest';
import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand, type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { steps } from '../../lambdas/asg-elb-health-check/index';
import { elbHealthCheckCompliance, healthCheckTypes, includesElb, trafficTargets, withElbHealthCheck } from '../../lambdas/asg-elb-health-check/health-check-types';
import type { ActResult, Plan, WorkflowState } from '../../lambdas/shared/types';
import { ecsRunbookSpec, receivedIncident, workflowState } from '../support/fixtures';
import { ACCOUNT, REGION } from '../support/synth';
import { actThrough, rollbackThrough } from '../support/gate';

const autoScaling = mockClient(AutoScalingClient);
beforeEach(() => autoScaling.reset());
afterAll(() => autoScaling.restore());

const OPT_IN = { key: 'medic:enforce-elb-health-check', value: 'true' };

/** A state for the group `name` of runbook `web-elb-health` (configured groups: web-asg; opt-in tag set). */
function state(name = 'web-asg', extra: { plan?: Plan; act?: ActResult } = {}): WorkflowState {
  return workflowState({
    runbook: ecsRunbookSpec({ name: 'web-elb-health', kind: 'asg-elb-health-check', options: { healthCheckGracePeriod: 300, autoScalingGroups: ['web-asg'], optInTag: OPT_IN } }),
    incident: receivedIncident({
      runbook: 'web-elb-health',
      target: {
        type: 'autoscaling-group', id: name, region: REGION, account: ACCOUNT, dimensions: { AutoScalingGroupName: name },
        arn: `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/${name}`,
      },
    }),
    ...extra,
  });
}

/** A group behind one target group, EC2 health checks, MinSize 2 with 2 healthy in service. */
function group(overrides: Partial<AutoScalingGroup> & { healthy?: number } = {}): AutoScalingGroup {
  const { healthy = 2, ...rest } = overrides;
  return {
    AutoScalingGroupName: 'web-asg', HealthCheckType: 'EC2', HealthCheckGracePeriod: 0, MinSize: 2, MaxSize: 4, DesiredCapacity: 2,
    TargetGroupARNs: [`arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web/0123456789abcdef`], LoadBalancerNames: [], Tags: [],
    Instances: [0, 1].map((i) => ({ InstanceId: `i-${i}`, LifecycleState: 'InService', HealthStatus: i < healthy ? 'Healthy' : 'Unhealthy', AvailabilityZone: 'eu-west-1a', ProtectedFromScaleIn: false })),
    ...rest,
  } as AutoScalingGroup;
}
const describes = (...groups: AutoScalingGroup[]): void => { autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: groups }); };

const PREVIOUS = { HealthCheckType: 'EC2', HealthCheckGracePeriod: 0 };
const APPLIED = { HealthCheckType: 'ELB', HealthCheckGracePeriod: 300 };
const acted: ActResult = { summary: 'set', calls: [], batch: 0, moreBatches: false, details: { previous: PREVIOUS, applied: APPLIED } };
const actPlan: Plan = { decision: 'act', reason: '', summary: '', details: { previous: PREVIOUS } };

describe('plan', () => {
  test('a configured group behind a target group with EC2 checks: act, recording the previous values', async () => {
    describes(group());
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('act');
    expect(plan.summary).toBe('UpdateAutoScalingGroup web-asg: HealthCheckType EC2 -> ELB, HealthCheckGracePeriod 0 -> 300s');
    expect(plan.details.previous).toEqual(PREVIOUS);
    expect(autoScaling).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['web-asg'] });
  });

  test('group not found: escalated, nothing updated', async () => {
    describes();
    const plan = await steps.plan(state());
    expect(plan).toMatchObject({ decision: 'escalate', reason: 'Auto Scaling group web-asg not found' });
    expect(autoScaling).not.toHaveReceivedCommand(UpdateAutoScalingGroupCommand);
  });

  test('no load balancer or target group: nothing to enforce (not an error, not an action)', async () => {
    describes(group({ TargetGroupARNs: [] }));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('noop');
    expect(plan.reason).toMatch(/^nothing to enforce: /);
  });

  test('a classic load balancer counts as a load balancer', async () => {
    describes(group({ TargetGroupARNs: [], LoadBalancerNames: ['web-clb'] }));
    expect((await steps.plan(state())).decision).toBe('act');
  });

  test('already ELB: compliant, no call', async () => {
    describes(group({ HealthCheckType: 'ELB', HealthCheckGracePeriod: 120 }));
    const plan = await steps.plan(state());
    expect(plan).toMatchObject({ decision: 'noop', reason: 'already compliant: HealthCheckType ELB, grace period 120s' });
    expect(autoScaling).not.toHaveReceivedCommand(UpdateAutoScalingGroupCommand);
  });

  test('a group neither configured nor tagged is refused; the same group with the opt-in tag is acted on', async () => {
    describes(group({ AutoScalingGroupName: 'other-asg' }));
    const refused = await steps.plan(state('other-asg'));
    expect(refused).toMatchObject({ decision: 'escalate', reason: 'Auto Scaling group other-asg is neither configured nor tagged medic:enforce-elb-health-check=true' });
    describes(group({ AutoScalingGroupName: 'other-asg', Tags: [{ Key: OPT_IN.key, Value: 'false' }] }));
    expect((await steps.plan(state('other-asg'))).decision).toBe('escalate');
    describes(group({ AutoScalingGroupName: 'other-asg', Tags: [{ Key: OPT_IN.key, Value: 'true' }] }));
    expect((await steps.plan(state('other-asg'))).decision).toBe('act');
  });
});

describe('act and rollback', () => {
  test('act sends exactly HealthCheckType ELB with the grace period, keeping the previous values', async () => {
    autoScaling.on(UpdateAutoScalingGroupCommand).resolves({});
    const result = await actThrough(steps, state('web-asg', { plan: actPlan }));
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([{ AutoScalingGroupName: 'web-asg', ...APPLIED }]);
    expect(result.details).toEqual({ previous: PREVIOUS, applied: APPLIED });
  });

  test('a throttled update propagates as Throttling, so the workflow retries it', async () => {
    autoScaling.on(UpdateAutoScalingGroupCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(actThrough(steps, state('web-asg', { plan: actPlan }))).rejects.toMatchObject({ name: 'Throttling' });
  });

  test('rollback restores exactly the original values, with one call', async () => {
    autoScaling.on(UpdateAutoScalingGroupCommand).resolves({});
    const result = await rollbackThrough(steps, state('web-asg', { act: acted }));
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([{ AutoScalingGroupName: 'web-asg', ...PREVIOUS }]);
    expect(result.status).toBe('rolled-back');
  });

  test('rollback without recorded previous values refuses to guess', async () => {
    await expect(rollbackThrough(steps, state('web-asg', { act: { ...acted, details: { applied: APPLIED } } }))).rejects.toThrow(/not guessing/);
    expect(autoScaling).not.toHaveReceivedCommand(UpdateAutoScalingGroupCommand);
  });
});

describe('check', () => {
  test('values not visible yet: pending', async () => {
    describes(group());
    expect((await steps.check(state('web-asg', { act: acted }))).verdict).toBe('pending');
  });

  test('values in effect and capacity at MinSize: success', async () => {
    describes(group({ HealthCheckType: 'ELB', HealthCheckGracePeriod: 300 }));
    const result = await steps.check(state('web-asg', { act: acted }));
    expect(result.verdict).toBe('success');
    expect(result.readings).toMatchObject({ healthyInService: 2, minSize: 2 });
  });

  test('healthy capacity below MinSize: failure, even before the values are visible', async () => {
    describes(group({ HealthCheckType: 'ELB', HealthCheckGracePeriod: 300, healthy: 1 }));
    const result = await steps.check(state('web-asg', { act: acted }));
    expect(result.verdict).toBe('failure');
    expect(result.reason).toMatch(/^healthy in-service capacity 1 fell below MinSize 2/);
    describes(group({ healthy: 0 }));
    expect((await steps.check(state('web-asg', { act: acted }))).verdict).toBe('failure');
  });

  test('describe errors or a vanished group: inconclusive, never success', async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).rejects(new Error('socket hang up'));
    expect((await steps.check(state('web-asg', { act: acted }))).verdict).toBe('inconclusive');
    describes();
    expect((await steps.check(state('web-asg', { act: acted }))).verdict).toBe('inconclusive');
  });
});

/** HealthCheckType is a comma-separated list (SDK: AutoScalingGroup.HealthCheckType, UpdateAutoScalingGroupType.HealthCheckType). */
describe('HealthCheckType as a list', () => {
  const TG = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web/0123456789abcdef`;
  const LATTICE = `arn:aws:vpc-lattice:${REGION}:${ACCOUNT}:targetgroup/tg-0123456789abcdef0`;
  const acting = (previous: string): { plan: Plan } => ({ plan: { ...actPlan, details: { previous: { HealthCheckType: previous, HealthCheckGracePeriod: 0 } } } });

  test('parsing: split on commas, trimmed; nothing means EC2; ELB is found only as AWS spells it', () => {
    expect(healthCheckTypes('EBS,ELB')).toEqual(['EBS', 'ELB']);
    expect(healthCheckTypes(' EBS , VPC_LATTICE ')).toEqual(['EBS', 'VPC_LATTICE']);
    expect(healthCheckTypes('')).toEqual(['EC2']);
    expect(healthCheckTypes(undefined)).toEqual(['EC2']);
    expect([includesElb('EBS,ELB'), includesElb('ELB'), includesElb('VPC_LATTICE, ELB'), includesElb('EBS'), includesElb('elb'), includesElb('ELBX')]).toEqual([true, true, true, false, false, false]);
  });

  test('the fix adds ELB after the existing checks and keeps them; EC2 is not listed beside others (as AWS\'s own runbook writes it)', () => {
    expect(withElbHealthCheck('EC2')).toBe('ELB');
    expect(withElbHealthCheck(undefined)).toBe('ELB');
    expect(withElbHealthCheck('EBS')).toBe('EBS,ELB');
    expect(withElbHealthCheck('VPC_LATTICE,EBS')).toBe('VPC_LATTICE,EBS,ELB');
    expect(withElbHealthCheck('EC2, EBS ,EBS')).toBe('EBS,ELB');
  });

  test('load balancers come from LoadBalancerNames, TargetGroupARNs and TrafficSources (elb, elbv2), counted once; VPC Lattice apart', () => {
    const targets = trafficTargets(group({
      TargetGroupARNs: [TG], LoadBalancerNames: ['web-clb'],
      TrafficSources: [{ Identifier: TG, Type: 'elbv2' }, { Identifier: 'web-clb', Type: 'elb' }, { Identifier: 'api-clb', Type: 'elb' }, { Identifier: LATTICE, Type: 'vpc-lattice' }, { Identifier: 'x', Type: 'future-thing' }],
    }));
    expect(targets).toEqual({ elb: ['web-clb', TG, 'api-clb'], vpcLattice: [LATTICE], unrecognized: ['future-thing:x'] });
    // Without a Type, an ARN says what it is.
    expect(trafficTargets(group({ TargetGroupARNs: [], TrafficSources: [{ Identifier: TG }, { Identifier: LATTICE }] }))).toMatchObject({ elb: [TG], vpcLattice: [LATTICE] });
  });

  test('a group on EBS,ELB already has ELB checks: compliant, no call', async () => {
    describes(group({ HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 300 }));
    const plan = await steps.plan(state());
    expect(plan).toMatchObject({ decision: 'noop', reason: 'already compliant: HealthCheckType EBS,ELB, grace period 300s' });
    expect(plan.plannedCalls).toBeUndefined();
    expect(autoScaling).not.toHaveReceivedCommand(UpdateAutoScalingGroupCommand);
  });

  test('a group on EBS: the plan adds ELB and keeps EBS, recording EBS to restore', async () => {
    describes(group({ HealthCheckType: 'EBS' }));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('act');
    expect(plan.summary).toBe('UpdateAutoScalingGroup web-asg: HealthCheckType EBS -> EBS,ELB, HealthCheckGracePeriod 0 -> 300s');
    expect(plan.details).toMatchObject({ previous: { HealthCheckType: 'EBS', HealthCheckGracePeriod: 0 }, planned: { HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 300 } });
    expect(plan.plannedCalls).toEqual([{ batch: 0, service: 'autoscaling', operation: 'UpdateAutoScalingGroup', target: 'web-asg' }]);
  });

  test('act writes EBS,ELB (never a bare ELB that would drop the EBS checks); rollback restores exactly EBS', async () => {
    autoScaling.on(UpdateAutoScalingGroupCommand).resolves({});
    const acted = await actThrough(steps, state('web-asg', acting('EBS')));
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'web-asg', HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 300 },
    ]);
    expect(acted.details).toEqual({ previous: { HealthCheckType: 'EBS', HealthCheckGracePeriod: 0 }, applied: { HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 300 } });
    expect(acted.calls.map((c) => c.parameters)).toEqual([{ AutoScalingGroupName: 'web-asg', HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 300 }]);

    autoScaling.reset();
    autoScaling.on(UpdateAutoScalingGroupCommand).resolves({});
    const rolledBack = await rollbackThrough(steps, state('web-asg', { act: { ...acted, calls: [] } }));
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'web-asg', HealthCheckType: 'EBS', HealthCheckGracePeriod: 0 },
    ]);
    expect(rolledBack.status).toBe('rolled-back');
  });

  test('act keeps VPC_LATTICE checks too; a previous EC2 becomes ELB', async () => {
    autoScaling.on(UpdateAutoScalingGroupCommand).resolves({});
    await actThrough(steps, state('web-asg', acting('VPC_LATTICE')));
    await actThrough(steps, state('web-asg', acting('EC2')));
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input.HealthCheckType)).toEqual(['VPC_LATTICE,ELB', 'ELB']);
  });

  test('act without a recorded previous value refuses to guess which checks to keep', async () => {
    await expect(actThrough(steps, state('web-asg', { plan: { ...actPlan, details: {} } }))).rejects.toThrow(/not guessing which checks to keep/);
    expect(autoScaling).not.toHaveReceivedCommand(UpdateAutoScalingGroupCommand);
  });

  test('a group whose only load balancer is a traffic source (AttachTrafficSources) is behind a load balancer', async () => {
    describes(group({ TargetGroupARNs: [], TrafficSources: [{ Identifier: TG, Type: 'elbv2' }] }));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('act');
    expect(plan.details.loadBalancers).toEqual([TG]);
    describes(group({ TargetGroupARNs: [], TrafficSources: [{ Identifier: 'web-clb', Type: 'elb' }] }));
    expect((await steps.plan(state())).decision).toBe('act');
  });

  test('VPC Lattice only: nothing to enforce (ELB checks would see nothing; VPC_LATTICE checks are not this runbook\'s), no call', async () => {
    describes(group({ TargetGroupARNs: [], TrafficSources: [{ Identifier: LATTICE, Type: 'vpc-lattice' }] }));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('noop');
    expect(plan.reason).toMatch(/^nothing to enforce: only VPC Lattice target group\(s\) are attached \(1\); ELB health checks would see nothing there/);
    expect(autoScaling).not.toHaveReceivedCommand(UpdateAutoScalingGroupCommand);
  });

  test('VPC Lattice and a target group, on VPC_LATTICE checks: ELB is added, VPC_LATTICE kept', async () => {
    describes(group({ HealthCheckType: 'VPC_LATTICE', TrafficSources: [{ Identifier: LATTICE, Type: 'vpc-lattice' }] }));
    const plan = await steps.plan(state());
    expect(plan.summary).toBe('UpdateAutoScalingGroup web-asg: HealthCheckType VPC_LATTICE -> VPC_LATTICE,ELB, HealthCheckGracePeriod 0 -> 300s');
    expect(plan.details).toMatchObject({ vpcLattice: [LATTICE], loadBalancers: [TG] });
  });

  test('a value with a type AWS does not document is refused (escalated), not rewritten', async () => {
    describes(group({ HealthCheckType: 'EBS,SOMETHING_NEW' }));
    const plan = await steps.plan(state());
    expect(plan).toMatchObject({ decision: 'escalate', reason: expect.stringMatching(/^HealthCheckType EBS,SOMETHING_NEW lists SOMETHING_NEW, not one of EC2, EBS, ELB, VPC_LATTICE/) });
    expect(plan.plannedCalls).toBeUndefined();
    expect(elbHealthCheckCompliance(group({ HealthCheckType: 'ELB,SOMETHING_NEW' })).status).toBe('compliant');
  });

  test('verification: the list includes ELB and the grace period is set (EBS,ELB passes; EBS alone is still pending)', async () => {
    const actedEbs: ActResult = { ...acted, details: { previous: { HealthCheckType: 'EBS', HealthCheckGracePeriod: 0 }, applied: { HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 300 } } };
    describes(group({ HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 300 }));
    const ok = await steps.check(state('web-asg', { act: actedEbs }));
    expect(ok.verdict).toBe('success');
    expect(ok.reason).toMatch(/HealthCheckType EBS,ELB$/);
    describes(group({ HealthCheckType: 'EBS', HealthCheckGracePeriod: 300 }));
    expect((await steps.check(state('web-asg', { act: actedEbs }))).verdict).toBe('pending');
    describes(group({ HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 0 }));
    expect((await steps.check(state('web-asg', { act: actedEbs }))).verdict).toBe('pending');
  });
});
