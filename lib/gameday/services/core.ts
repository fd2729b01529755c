import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCalendarStateCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { AlarmSpec } from '../scenario';
import type { World } from '../world';

/** The alarms of the world, their state now, and how they recover after an action. */
export class Alarms {
  private readonly states = new Map<string, string>();
  /** When each alarm last changed state (CloudWatch's StateTransitionedTimestamp). */
  private readonly since = new Map<string, Date>();

  constructor(private readonly world: World) {
    const specs = world.spec.alarms ?? {};
    for (const [name, spec] of Object.entries(specs)) this.set(name, spec.state ?? 'OK');
    world.onAction((call) => {
      for (const [name, spec] of Object.entries(specs)) {
        if (spec.recovers && spec.recovers.when === `${call.service}:${call.operation}` && this.states.get(name) !== 'OK') {
          world.later(spec.recovers.after, () => this.set(name, 'OK'));
        }
      }
    });
    world.stub(CloudWatchClient).on(DescribeAlarmsCommand).callsFake((input: { AlarmNames?: string[] }) =>
      world.answer('cloudwatch', 'DescribeAlarms', input, false, () => ({
        MetricAlarms: (input.AlarmNames ?? []).filter((n) => specs[n]).map((n) => this.describe(n, specs[n])),
      })));
  }

  spec(name: string): AlarmSpec | undefined {
    return this.world.spec.alarms?.[name];
  }

  state(name: string): string {
    return this.states.get(name) ?? 'OK';
  }

  /** Sets an alarm's state as changed now (a timeline `alarm` event is a transition even from ALARM: it is what the event reports). */
  set(name: string, state: string): void {
    this.states.set(name, state);
    this.since.set(name, new Date());
  }

  private describe(name: string, spec: AlarmSpec): MetricAlarm {
    const { account, region } = this.world.env;
    return {
      AlarmName: name,
      AlarmArn: `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`,
      StateValue: this.state(name) as MetricAlarm['StateValue'],
      StateTransitionedTimestamp: this.since.get(name),
      StateUpdatedTimestamp: this.since.get(name),
      Namespace: spec.namespace,
      MetricName: spec.metric,
      Dimensions: Object.entries(spec.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
      Threshold: spec.threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
    };
  }
}

/** Kill-switch parameters, the change calendar and the escalation topic. */
export function installPlatformServices(world: World): void {
  // As the stack creates them: every switch off.
  world.parameters.set(world.killSwitchName(), 'off');
  for (const runbook of Object.keys(world.env.killSwitches.runbooks)) world.parameters.set(world.killSwitchName(runbook), 'off');
  const ssm = world.stub(SSMClient);
  ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => world.answer('ssm', 'GetParameters', input, false, () => ({
    Parameters: input.Names.filter((n) => world.parameters.has(n)).map((n) => ({ Name: n, Value: world.parameters.get(n) })),
    InvalidParameters: input.Names.filter((n) => !world.parameters.has(n)),
  })));
  ssm.on(GetCalendarStateCommand).callsFake((input: Record<string, unknown>) =>
    world.answer('ssm', 'GetCalendarState', input, false, () => ({ State: world.changeCalendar })));
  // The page-marks bucket: S3's conditional create (If-None-Match "*") answers 412 when the key exists.
  const marks = new Set<string>();
  const s3 = world.stub(S3Client);
  s3.on(PutObjectCommand).callsFake((input: { Key: string; IfNoneMatch?: string }) => world.answer('s3', 'PutObject', input, false, () => {
    if (input.IfNoneMatch === '*' && marks.has(input.Key)) {
      throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } });
    }
    marks.add(input.Key);
    return { ETag: '"gameday"' };
  }));
  s3.on(DeleteObjectCommand).callsFake((input: { Key: string }) => world.answer('s3', 'DeleteObject', input, false, () => {
    marks.delete(input.Key);
    return {};
  }));
  world.stub(SNSClient).on(PublishCommand).callsFake((input: { Subject?: string; Message?: string }) => world.answer('sns', 'Publish', input, false, () => {
    world.notifications.push({ at: new Date().toISOString(), subject: input.Subject, message: input.Message });
    return { MessageId: `m-${world.notifications.length}` };
  }));
}
