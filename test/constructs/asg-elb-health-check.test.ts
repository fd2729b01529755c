import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AsgElbHealthCheckRunbook, type AsgElbHealthCheckRunbookProps } from '../../lib/runbooks/asg-elb-health-check';
import { MedicPlatform } from '../../lib/platform/platform';
import { ACCOUNT, REGION, alarmArn, synthStack, testConfig } from '../support/synth';

const { template } = synthStack(testConfig);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any>; Metadata?: Record<string, unknown> }>;
const GROUP_ARN = (name: string) => `arn:\${AWS::Partition}:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/${name}`;

/** The IAM statements attached to the role of the function built from `entry` whose description contains `runbook`. */
function statementsOf(entry: string, runbook: string): Array<{ Action: string | string[]; Resource: unknown; Condition?: Record<string, any> }> {
  const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['medic:entry'] === entry
    && String(r.Properties.Description).includes(`runbook ${runbook}:`));
  const role = fn!.Properties.Role['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Array<{ Ref: string }>).some((x) => x.Ref === role))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
/** Renders `{ Fn::Join }` ARNs as `${AWS::Partition}`-style text. */
const text = (v: unknown): string => (typeof v === 'string' ? v
  : (v as any)['Fn::Join'] ? (v as any)['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : `\${${p.Ref}}`)).join('') : JSON.stringify(v));
const withAction = (statements: ReturnType<typeof statementsOf>, action: string) => statements.filter((s) => asList(s.Action).includes(action));

describe('IAM of the step handler', () => {
  const statements = statementsOf('asg-elb-health-check/index.ts', 'web-elb-health');

  test('autoscaling:UpdateAutoScalingGroup only on the configured group\'s ARN, or on any group carrying the opt-in tag', () => {
    const updates = withAction(statements, 'autoscaling:UpdateAutoScalingGroup');
    expect(updates).toHaveLength(2);
    const byArn = updates.find((s) => !s.Condition)!;
    expect(asList(byArn.Resource).map(text)).toEqual([GROUP_ARN('web-asg')]);
    const byTag = updates.find((s) => s.Condition)!;
    expect(asList(byTag.Resource).map(text)).toEqual([GROUP_ARN('*')]);
    expect(byTag.Condition).toEqual({ StringEquals: { 'autoscaling:ResourceTag/medic:enforce-elb-health-check': 'true' } });
  });

  test('no autoscaling action but Describe is granted on "*"', () => {
    const onStar = statements.filter((s) => asList(s.Resource).includes('*') && asList(s.Action).some((a) => String(a).startsWith('autoscaling:')));
    expect(onStar.flatMap((s) => asList(s.Action))).toEqual(['autoscaling:DescribeAutoScalingGroups']);
  });

  test('observe mode holds no UpdateAutoScalingGroup at all', () => {
    expect(withAction(statementsOf('asg-elb-health-check/index.ts', 'web-elb-observe'), 'autoscaling:UpdateAutoScalingGroup')).toEqual([]);
  });
});

describe('the sweep', () => {
  const statements = statementsOf('asg-elb-sweep/index.ts', 'web-elb-health');

  test('runs on its schedule and may start only its runbook\'s state machine, never update a group', () => {
    const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.Description === 'medic: sweep for runbook web-elb-health');
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.ScheduleExpression).toBe('rate(1 hour)');
    const starts = withAction(statements, 'states:StartExecution');
    expect(starts).toHaveLength(1);
    expect(asList(starts[0].Resource)).toEqual([{ Ref: expect.stringMatching(/^AsgElbHealthCheckwebelbhealthRunbookWorkflow/) }]);
    expect(withAction(statements, 'autoscaling:UpdateAutoScalingGroup')).toEqual([]);
  });

  test('the runbook\'s concurrency cap defaults to the sweep\'s cap, so a sweep\'s incidents are not denied by it', () => {
    const { template: swept } = synthStack({ ...testConfig, runbooks: { asgElbHealthCheck: [{ name: 'sweeper', autoScalingGroups: ['web-asg'], sweepMinutes: 60, maxPerSweep: 7 }] } });
    const machine = Object.values(swept.findResources('AWS::StepFunctions::StateMachine'))[0];
    const join = machine.Properties.DefinitionString['Fn::Join'];
    const definition = JSON.parse(join[1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join(join[0]));
    expect(definition.States['Load runbook settings'].Parameters.runbook.policy.maxConcurrent).toBe(7);
  });

  test('its failures alarm to the escalation topic', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && String(r.Properties.AlarmDescription).startsWith('medic: the sweep of runbook web-elb-health'));
    expect(alarms).toHaveLength(1);
    expect(alarms[0].Properties).toMatchObject({ MetricName: 'Errors', Threshold: 0 });
  });

  test('is absent unless configured', () => {
    const observeSweeps = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.Description === 'medic: sweep for runbook web-elb-observe');
    expect(observeSweeps).toEqual([]);
  });
});

describe('synth-time guards', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'AsgGuards', { env: { account: ACCOUNT, region: REGION } });
  const platform = new MedicPlatform(stack, 'Platform');
  const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Alarm', alarmArn('tg-unhealthy'));
  let n = 0;
  const build = (overrides: Partial<AsgElbHealthCheckRunbookProps>) => () => {
    n += 1;
    return new AsgElbHealthCheckRunbook(stack, `Asg${n}`, { platform, name: `asg-${n}`, alarms: [alarm], autoScalingGroups: ['web-asg'], ...overrides });
  };

  test('the defaults and boundary values are accepted (so the failures below are the setting\'s)', () => {
    expect(build({})).not.toThrow();
    expect(build({ healthCheckGracePeriod: Duration.seconds(60) })).not.toThrow();
    expect(build({ healthCheckGracePeriod: Duration.seconds(10), allowShortGracePeriod: true })).not.toThrow();
    expect(build({ alarms: [], autoScalingGroups: [], sweep: Duration.minutes(30), maxPerSweep: 20 })).not.toThrow();
  });

  test.each<[string, Partial<AsgElbHealthCheckRunbookProps>, RegExp]>([
    ['a grace period under 60 s', { healthCheckGracePeriod: Duration.seconds(59) }, /healthCheckGracePeriod 59s is under 60 s.*allowShortGracePeriod/],
    ['no group and no opt-in', { autoScalingGroups: [] }, /list autoScalingGroups or targetGroups, or set sweep \/ optInTag/],
    ['a malformed TargetGroup value', { targetGroups: { 'web-tg': 'web-asg' } }, /"web-tg" is not a TargetGroup dimension value/],
    ['maxPerSweep 0', { sweep: Duration.hours(1), maxPerSweep: 0 }, /maxPerSweep must be a whole number from 1 to 20/],
    ['a sweep every minute', { sweep: Duration.minutes(1) }, /sweep must be between 5 minutes and 7 days/],
    ['a runbook cap below the sweep cap', { sweep: Duration.hours(1), maxPerSweep: 5, policy: { maxConcurrent: 2 } }, /policy\.maxConcurrent \(2\) is below maxPerSweep \(5\)/],
    ['a group name with a colon', { autoScalingGroups: ['web:asg'] }, /"web:asg" is not an Auto Scaling group name this runbook accepts/],
  ])('%s is a synth error', (_, overrides, message) => {
    expect(build(overrides)).toThrow(message);
  });

  test('alarms attached with only opted-in groups (no configured group) fail synthesis: every alarm would be rejected', () => {
    const app2 = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack2 = new Stack(app2, 'AsgAlarmsOnly', { env: { account: ACCOUNT, region: REGION } });
    const runbook = new AsgElbHealthCheckRunbook(stack2, 'Asg', { platform: new MedicPlatform(stack2, 'Platform'), name: 'tag-only', autoScalingGroups: [], sweep: Duration.hours(1) });
    runbook.attachTo(cloudwatch.Alarm.fromAlarmArn(stack2, 'A', alarmArn('x')));
    expect(() => Template.fromStack(stack2)).toThrow(/has alarms attached but no autoScalingGroups or targetGroups/);
  });
});
