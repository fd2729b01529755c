import { MAX_EVENT_BYTES, parseAlarmEvent } from '../../lambdas/validate/alarm-event';
import type { RunbookSpec } from '../../lambdas/shared/types';
import { ALARM, ecsRunbookSpec, ecsTargetSpec } from '../support/fixtures';
import { accepted, rejection } from '../support/parsed';
import { ACCOUNT, REGION, alarmArn, alarmEvent } from '../support/synth';

/** The default ECS runbook spec, with `allowed` replacing its allow-list. */
function spec(overrides: Partial<RunbookSpec> & { allowed?: Array<Record<string, string>> } = {}): RunbookSpec {
  const { allowed, ...rest } = overrides;
  return ecsRunbookSpec({ target: ecsTargetSpec(allowed), ...rest });
}

const TWO_SERVICES = [{ ClusterName: 'prod', ServiceName: 'api' }, { ClusterName: 'prod', ServiceName: 'web' }];

/** alarmEvent() with its detail edited in place. */
function withDetail(edit: (detail: Record<string, any>) => void, options: Parameters<typeof alarmEvent>[0] = { alarm: ALARM }): Record<string, unknown> {
  const event = alarmEvent(options);
  edit(event.detail as Record<string, any>);
  return event;
}

describe('parseAlarmEvent: a valid alarm event', () => {
  test('yields the trigger and the target named by the alarm dimensions', () => {
    const parsed = accepted(parseAlarmEvent(alarmEvent({ alarm: ALARM, timestamp: '2026-11-22T03:17:22.318+0000' }), spec()));
    expect(parsed.trigger).toMatchObject({
      kind: 'alarm',
      source: alarmArn(ALARM),
      name: ALARM,
      at: '2026-11-22T03:17:22.318Z',
    });
    expect(parsed.trigger.reason).toContain('Threshold Crossed');
    expect(parsed.target).toEqual({
      type: 'ecs-service',
      id: 'prod/api',
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/api`,
      region: REGION,
      account: ACCOUNT,
      dimensions: { ClusterName: 'prod', ServiceName: 'api' },
    });
    expect(parsed.incidentId).toMatch(/^api-restart-20261122T031722Z-[0-9a-f]{12}$/);
  });

  test('picks the listed service out of a two-service allow-list', () => {
    const event = alarmEvent({ alarm: ALARM, dimensions: { ClusterName: 'prod', ServiceName: 'web' } });
    const parsed = accepted(parseAlarmEvent(event, spec({ allowed: TWO_SERVICES })));
    expect(parsed.target.id).toBe('prod/web');
    expect(parsed.target.arn).toBe(`arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`);
  });

  test('falls back to the single allowed service when the alarm has no dimensions', () => {
    const parsed = accepted(parseAlarmEvent(alarmEvent({ alarm: ALARM, dimensions: {} }), spec()));
    expect(parsed.target.id).toBe('prod/api');
    expect(parsed.target.dimensions).toEqual({ ClusterName: 'prod', ServiceName: 'api' });
  });

  test('accepts several metrics that agree on the dimensions', () => {
    const event = withDetail((detail) => {
      const metric = detail.configuration.metrics[0];
      detail.configuration.metrics.push({ ...metric, id: 'm2' });
    });
    expect(accepted(parseAlarmEvent(event, spec())).target.id).toBe('prod/api');
  });
});

describe('parseAlarmEvent: the incident id is deterministic', () => {
  test('the same event delivered twice is the same incident', () => {
    // A redelivery is the same event (EventBridge keeps its id, time and detail).
    const event = alarmEvent({ alarm: ALARM });
    const first = accepted(parseAlarmEvent(structuredClone(event), spec()));
    const second = accepted(parseAlarmEvent(structuredClone(event), spec()));
    expect(second.incidentId).toBe(first.incidentId);
  });

  test('another state transition (timestamp) is another incident', () => {
    const first = accepted(parseAlarmEvent(alarmEvent({ alarm: ALARM, timestamp: '2026-11-22T03:17:22.318+0000' }), spec()));
    const later = accepted(parseAlarmEvent(alarmEvent({ alarm: ALARM, timestamp: '2026-11-22T03:17:22.319+0000' }), spec()));
    expect(later.incidentId).not.toBe(first.incidentId);
  });

  test('another runbook attached to the same alarm gets another incident', () => {
    const event = alarmEvent({ alarm: ALARM });
    const first = accepted(parseAlarmEvent(event, spec()));
    const other = accepted(parseAlarmEvent(event, spec({ name: 'api-restart-2' })));
    expect(other.incidentId).not.toBe(first.incidentId);
    // Not just the readable prefix: the digest differs too.
    expect(other.incidentId.slice(-12)).not.toBe(first.incidentId.slice(-12));
  });
});

describe('parseAlarmEvent: rejects what it cannot turn into an incident', () => {
  test.each([
    ['null', null],
    ['an array', [alarmEvent({ alarm: ALARM })]],
    ['a string', 'CloudWatch Alarm State Change'],
    ['a number', 42],
  ])('an event that is %s', (_, event) => {
    expect(rejection(parseAlarmEvent(event, spec()))).toMatch(/not a JSON object/);
  });

  test('an event from another source', () => {
    const event = { ...alarmEvent({ alarm: ALARM }), source: 'aws.ec2' };
    const reason = rejection(parseAlarmEvent(event, spec()));
    expect(reason).toMatch(/not a CloudWatch alarm state change/);
    expect(reason).toContain('aws.ec2');
  });

  test('an event with another detail-type', () => {
    const event = { ...alarmEvent({ alarm: ALARM }), 'detail-type': 'EC2 Instance State-change Notification' };
    const reason = rejection(parseAlarmEvent(event, spec()));
    expect(reason).toMatch(/not a CloudWatch alarm state change/);
    expect(reason).toContain('EC2 Instance State-change Notification');
  });

  test('a detail that is a string instead of an object', () => {
    const event = { ...alarmEvent({ alarm: ALARM }), detail: JSON.stringify(alarmEvent({ alarm: ALARM }).detail) };
    expect(rejection(parseAlarmEvent(event, spec()))).toMatch(/detail is not a JSON object/);
  });

  test('an alarm that is not attached to this runbook', () => {
    const reason = rejection(parseAlarmEvent(alarmEvent({ alarm: 'someone-elses-alarm' }), spec()));
    expect(reason).toContain(alarmArn('someone-elses-alarm'));
    expect(reason).toMatch(/not attached to runbook api-restart/);
  });

  test.each(['OK', 'INSUFFICIENT_DATA'])('a transition to %s', (state) => {
    const reason = rejection(parseAlarmEvent(alarmEvent({ alarm: ALARM, state }), spec()));
    expect(reason).toContain(state);
    expect(reason).toMatch(/only on ALARM/);
  });

  test('no dimensions when the allow-list has two services', () => {
    const reason = rejection(parseAlarmEvent(alarmEvent({ alarm: ALARM, dimensions: {} }), spec({ allowed: TWO_SERVICES })));
    expect(reason).toMatch(/no ClusterName, ServiceName dimension/);
    expect(reason).toMatch(/falls back to its single configured target only for a single-metric alarm without dimensions/);
  });

  test('only some of the dimensions, even with a single allowed service', () => {
    const reason = rejection(parseAlarmEvent(alarmEvent({ alarm: ALARM, dimensions: { ClusterName: 'prod' } }), spec()));
    expect(reason).toMatch(/no ServiceName dimension/);
  });

  test('metrics that disagree on a dimension', () => {
    const event = withDetail((detail) => {
      const metric = detail.configuration.metrics[0];
      detail.configuration.metrics.push({
        ...metric,
        id: 'm2',
        metricStat: { ...metric.metricStat, metric: { ...metric.metricStat.metric, dimensions: { ClusterName: 'prod', ServiceName: 'web' } } },
      });
    });
    const reason = rejection(parseAlarmEvent(event, spec({ allowed: TWO_SERVICES })));
    expect(reason).toMatch(/disagree on dimension ServiceName/);
    expect(reason).toContain('"api" vs "web"');
  });

  test('a resource that is not an alarm ARN', () => {
    const event = { ...alarmEvent({ alarm: ALARM }), resources: [`arn:aws:sns:${REGION}:${ACCOUNT}:topic`] };
    const reason = rejection(parseAlarmEvent(event, spec()));
    expect(reason).toMatch(/is not a CloudWatch alarm ARN/);
    expect(reason).toContain(`arn:aws:sns:${REGION}:${ACCOUNT}:topic`);
  });

  test('an alarm ARN with a malformed account', () => {
    const event = { ...alarmEvent({ alarm: ALARM }), resources: [`arn:aws:cloudwatch:${REGION}:1111:alarm:${ALARM}`] };
    expect(rejection(parseAlarmEvent(event, spec()))).toMatch(/is not a CloudWatch alarm ARN/);
  });

  test.each([
    ['no resources', []],
    ['two resources', [alarmArn(ALARM), alarmArn('prod-api-latency')]],
    ['a non-string resource', [{ arn: alarmArn(ALARM) }]],
  ])('%s', (_, resources) => {
    const event = { ...alarmEvent({ alarm: ALARM }), resources };
    expect(rejection(parseAlarmEvent(event, spec()))).toMatch(/exactly one alarm ARN/);
  });

  test('an alarm in another account (even when its ARN was attached by mistake)', () => {
    const foreign = `arn:aws:cloudwatch:${REGION}:222222222222:alarm:${ALARM}`;
    const event = alarmEvent({ alarm: ALARM, account: '222222222222' });
    const reason = rejection(parseAlarmEvent(event, spec({ alarmArns: [alarmArn(ALARM), foreign] })));
    expect(reason).toContain('222222222222');
    expect(reason).toMatch(/acts only in account 111111111111/);
  });

  test('an event whose account field differs from the alarm ARN', () => {
    const event = { ...alarmEvent({ alarm: ALARM }), account: '222222222222' };
    expect(rejection(parseAlarmEvent(event, spec()))).toMatch(/acts only in account 111111111111/);
  });

  test('an alarm in another region (even when its ARN was attached by mistake)', () => {
    const foreign = `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${ALARM}`;
    const event = alarmEvent({ alarm: ALARM, region: 'us-east-1' });
    const reason = rejection(parseAlarmEvent(event, spec({ alarmArns: [alarmArn(ALARM), foreign] })));
    expect(reason).toContain('us-east-1');
    expect(reason).toMatch(/acts only in region eu-west-1/);
  });

  test('an attached alarm ARN in another account, in an event from this account', () => {
    const foreign = `arn:aws:cloudwatch:${REGION}:222222222222:alarm:${ALARM}`;
    const event = { ...alarmEvent({ alarm: ALARM }), resources: [foreign] };
    expect(rejection(parseAlarmEvent(event, spec({ alarmArns: [foreign] })))).toMatch(/111111111111\/222222222222.*acts only in account/);
  });

  test('an attached alarm ARN in another region, in an event from this region', () => {
    const foreign = `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${ALARM}`;
    const event = { ...alarmEvent({ alarm: ALARM }), resources: [foreign] };
    expect(rejection(parseAlarmEvent(event, spec({ alarmArns: [foreign] })))).toMatch(/eu-west-1\/us-east-1.*acts only in region/);
  });

  test('an attached alarm ARN in another partition', () => {
    const foreign = `arn:aws-cn:cloudwatch:${REGION}:${ACCOUNT}:alarm:${ALARM}`;
    const event = { ...alarmEvent({ alarm: ALARM }), resources: [foreign] };
    expect(rejection(parseAlarmEvent(event, spec({ alarmArns: [foreign] })))).toMatch(/partition aws-cn; expected aws/);
  });

  test('an event whose region field differs from the alarm ARN', () => {
    const event = { ...alarmEvent({ alarm: ALARM }), region: 'us-east-1' };
    expect(rejection(parseAlarmEvent(event, spec()))).toMatch(/acts only in region eu-west-1/);
  });

  test.each(['../x', 'a b', 'api/../../other', ''])('a dimension value outside the pattern: %j', (value) => {
    const event = alarmEvent({ alarm: ALARM, dimensions: { ClusterName: 'prod', ServiceName: value } });
    const reason = rejection(parseAlarmEvent(event, spec()));
    expect(reason).toContain(`dimension ServiceName "${value}" is not a valid ecs-service name`);
  });

  test('a pattern is anchored: a valid prefix does not make a value valid', () => {
    const event = alarmEvent({ alarm: ALARM, dimensions: { ClusterName: 'prod', ServiceName: 'api\nother' } });
    expect(rejection(parseAlarmEvent(event, spec()))).toMatch(/is not a valid ecs-service name/);
  });

  test('a service that is not in the allow-list', () => {
    const event = alarmEvent({ alarm: ALARM, dimensions: { ClusterName: 'prod', ServiceName: 'billing' } });
    expect(rejection(parseAlarmEvent(event, spec({ allowed: TWO_SERVICES })))).toBe(
      "ecs-service prod/billing is not in runbook api-restart's allow-list");
  });

  test('a service whose name matches an allowed one in another cluster', () => {
    const event = alarmEvent({ alarm: ALARM, dimensions: { ClusterName: 'staging', ServiceName: 'api' } });
    expect(rejection(parseAlarmEvent(event, spec()))).toMatch(/staging\/api is not in .*allow-list/);
  });

  test('an event over 64 KB', () => {
    const event = withDetail((detail) => { detail.state.reason = 'x'.repeat(MAX_EVENT_BYTES); });
    const reason = rejection(parseAlarmEvent(event, spec()));
    expect(reason).toMatch(/bytes, over the 65536-byte limit/);
  });

  test('an event just under 64 KB is still read', () => {
    const empty = withDetail((detail) => { detail.state.reason = ''; });
    const room = MAX_EVENT_BYTES - Buffer.byteLength(JSON.stringify(empty), 'utf8');
    const event = withDetail((detail) => { detail.state.reason = 'y'.repeat(room); });
    expect(Buffer.byteLength(JSON.stringify(event), 'utf8')).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(accepted(parseAlarmEvent(event, spec())).trigger.reason).toHaveLength(1000);
  });

  test.each(['yesterday', '', '2026-13-45T99:99:99.000+0000'])('an unparseable state timestamp %j', (timestamp) => {
    const event = withDetail((detail) => { detail.state.timestamp = timestamp; });
    const reason = rejection(parseAlarmEvent(event, spec()));
    expect(reason).toContain(`the alarm state timestamp "${timestamp}" is not a date`);
  });

  test('a missing state timestamp', () => {
    const event = withDetail((detail) => { delete detail.state.timestamp; });
    expect(rejection(parseAlarmEvent(event, spec()))).toMatch(/is not a date/);
  });
});

describe('parseAlarmEvent: target aliases (a target group alarm names the group behind it)', () => {
  const aliased = (allowed: Array<Record<string, string>>) => spec({
    target: {
      ...ecsTargetSpec(allowed),
      aliases: [{ dimensions: { TargetGroup: 'targetgroup/api/0123456789abcdef' }, target: { ClusterName: 'prod', ServiceName: 'api' } }],
    },
  });

  test('an alarm carrying the alias dimension resolves to the aliased target', () => {
    const event = alarmEvent({ alarm: ALARM, dimensions: { TargetGroup: 'targetgroup/api/0123456789abcdef', LoadBalancer: 'app/web/1' } });
    expect(accepted(parseAlarmEvent(event, aliased(TWO_SERVICES))).target.id).toBe('prod/api');
  });

  test('another target group does not match the alias, and with two allowed targets there is no fallback', () => {
    const event = alarmEvent({ alarm: ALARM, dimensions: { TargetGroup: 'targetgroup/other/0123456789abcdef' } });
    expect(rejection(parseAlarmEvent(event, aliased(TWO_SERVICES)))).toMatch(/has no ClusterName, ServiceName dimension/);
  });

  test('the aliased target must still be in the allow-list', () => {
    const event = alarmEvent({ alarm: ALARM, dimensions: { TargetGroup: 'targetgroup/api/0123456789abcdef' } });
    expect(rejection(parseAlarmEvent(event, aliased([{ ClusterName: 'prod', ServiceName: 'web' }])))).toMatch(/ecs-service prod\/api is not in runbook api-restart's allow-list/);
  });
});

// Event shapes as CloudWatch publishes them (the "Alarm events and EventBridge" page of the CloudWatch guide).
const ONE_SERVICE = [{ ClusterName: 'prod', ServiceName: 'api' }];
const metricMath = (edit: (detail: Record<string, any>) => void = () => undefined) => withDetail((d) => {
  d.configuration = {
    metrics: [
      { id: 'e1', expression: 'm1 / m2 * 100', label: 'error rate', returnData: true },
      { id: 'm1', metricStat: { metric: { namespace: 'AWS/ApplicationELB', name: 'HTTPCode_Target_5XX_Count', dimensions: { LoadBalancer: 'app/web/1' } }, period: 60, stat: 'Sum' }, returnData: false },
      { id: 'm2', metricStat: { metric: { namespace: 'AWS/ApplicationELB', name: 'RequestCount', dimensions: { LoadBalancer: 'app/web/1' } }, period: 60, stat: 'Sum' }, returnData: false },
    ],
  };
  edit(d);
});
const composite = () => withDetail((d) => {
  d.configuration = { alarmRule: 'ALARM(api-5xx) OR ALARM(api-latency)', actionsSuppressor: 'maintenance', actionsSuppressorWaitPeriod: 120, actionsSuppressorExtensionPeriod: 180 };
});
const insights = () => withDetail((d) => {
  d.configuration = { metrics: [{ id: 'q1', expression: 'SELECT AVG(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId)', period: 60, returnData: true }] };
});

describe('parseAlarmEvent: suppressed and muted alarms are not acted on', () => {
  test.each(['WaitPeriod', 'ExtensionPeriod', 'Alarm'])('actions suppressed by %s: accepted, marked suppressed with CloudWatch\'s reason', (by) => {
    const event = withDetail((d) => { d.state.actionsSuppressedBy = by; d.state.actionsSuppressedReason = `Actions suppressed by ${by}`; });
    expect(accepted(parseAlarmEvent(event, spec())).suppressed).toBe(`the alarm's actions are suppressed (${by}): Actions suppressed by ${by}`);
  });

  test('muted by an alarm mute rule: marked suppressed, naming the rule', () => {
    const event = withDetail((d) => { d.muteDetail = { muteRuleName: 'weekly-maintenance' }; });
    expect(accepted(parseAlarmEvent(event, spec())).suppressed).toBe('the alarm is muted by rule weekly-maintenance');
  });

  test('an ordinary alarm event is not suppressed', () => {
    expect(accepted(parseAlarmEvent(alarmEvent({ alarm: ALARM }), spec())).suppressed).toBeUndefined();
    expect(accepted(parseAlarmEvent(withDetail((d) => { d.muteDetail = {}; }), spec())).suppressed).toBeUndefined();
  });
});

describe('parseAlarmEvent: the single-target fallback only for a single-metric alarm with no dimension at all', () => {
  test('a single-metric alarm without dimensions: the one configured service', () => {
    expect(accepted(parseAlarmEvent(alarmEvent({ alarm: ALARM, dimensions: {} }), spec({ allowed: ONE_SERVICE }))).target.id).toBe('prod/api');
  });

  test('an alarm whose dimensions name another kind of resource (an EC2 InstanceId): rejected, naming the dimension', () => {
    const reason = rejection(parseAlarmEvent(alarmEvent({ alarm: ALARM, dimensions: { InstanceId: 'i-0123456789abcdef0' } }), spec({ allowed: ONE_SERVICE })));
    expect(reason).toMatch(/its dimensions \(InstanceId=i-0123456789abcdef0\) name another resource/);
  });

  test('an ALB alarm (LoadBalancer dimension) on an ECS runbook: rejected, not restarted', () => {
    expect(rejection(parseAlarmEvent(alarmEvent({ alarm: ALARM, dimensions: { LoadBalancer: 'app/web/1' } }), spec({ allowed: ONE_SERVICE })))).toMatch(/LoadBalancer=app\/web\/1/);
  });

  test('a target group the alias map does not know: rejected, not the one configured target', () => {
    const aliased = spec({ allowed: ONE_SERVICE });
    const withAlias = { ...aliased, target: { ...aliased.target!, aliases: [{ dimensions: { TargetGroup: 'targetgroup/api/1' }, target: { ClusterName: 'prod', ServiceName: 'api' } }] } };
    expect(rejection(parseAlarmEvent(alarmEvent({ alarm: ALARM, dimensions: { TargetGroup: 'targetgroup/other/2' } }), withAlias))).toMatch(/name another resource or an unmapped one/);
  });

  test.each([
    ['a composite alarm', composite, /a composite alarm/],
    ['a Metrics Insights alarm', insights, /a Metrics Insights alarm/],
    ['a metric-math alarm', metricMath, /name another resource/],
  ])('%s never falls back to the one configured service', (_, event, why) => {
    expect(rejection(parseAlarmEvent(event(), spec({ allowed: ONE_SERVICE })))).toMatch(why);
  });

  test('a metric-math alarm whose metrics name the service still resolves it (restart verification reads the alarm\'s state)', () => {
    const event = metricMath((d) => {
      for (const m of d.configuration.metrics.slice(1)) m.metricStat.metric.dimensions = { ClusterName: 'prod', ServiceName: 'api' };
    });
    expect(accepted(parseAlarmEvent(event, spec())).target.id).toBe('prod/api');
  });
});

describe('parseAlarmEvent: alarm kinds a runbook cannot verify are refused before acting', () => {
  const diskSpec = (): RunbookSpec => ecsRunbookSpec({
    name: 'disk-prune',
    target: { type: 'ec2-instance', dimensions: { InstanceId: 'i-[0-9a-f]{8,17}' }, idTemplate: '{InstanceId}', arnTemplate: 'arn:{partition}:ec2:{region}:{account}:instance/{InstanceId}', allowed: [{ InstanceId: 'i-0123456789abcdef0' }], singleMetricAlarms: true },
  });
  const onInstance = (d: Record<string, any>) => {
    for (const m of d.configuration.metrics.slice(1)) m.metricStat.metric.dimensions = { InstanceId: 'i-0123456789abcdef0' };
  };

  test('a single-metric disk alarm: accepted', () => {
    expect(accepted(parseAlarmEvent(alarmEvent({ alarm: ALARM, dimensions: { InstanceId: 'i-0123456789abcdef0' } }), diskSpec())).target.id).toBe('i-0123456789abcdef0');
  });

  test('a metric-math alarm on the instance: rejected, naming the kind (its metric could never be read back)', () => {
    expect(rejection(parseAlarmEvent(metricMath(onInstance), diskSpec()))).toBe(
      `alarm ${ALARM} is a metric-math or anomaly-detection alarm; runbook disk-prune verifies by reading the alarm's one metric, so it acts only on single-metric alarms`,
    );
  });

  test('a Metrics Insights alarm: rejected, naming the kind', () => {
    expect(rejection(parseAlarmEvent(insights(), diskSpec()))).toMatch(/is a Metrics Insights alarm; runbook disk-prune verifies by reading/);
  });
});

describe('parseAlarmEvent: the exact words of each rejection, and shapes CloudWatch may send', () => {
  const diskSpec = (): RunbookSpec => ecsRunbookSpec({
    name: 'disk-prune',
    target: { type: 'ec2-instance', dimensions: { InstanceId: 'i-[0-9a-f]{8,17}' }, idTemplate: '{InstanceId}', arnTemplate: 'arn:{partition}:ec2:{region}:{account}:instance/{InstanceId}', allowed: [{ InstanceId: 'i-0123456789abcdef0' }], singleMetricAlarms: true },
  });
  const onInstance = { InstanceId: 'i-0123456789abcdef0' };

  test('an event that cannot be serialised is rejected, not thrown', () => {
    const event = alarmEvent({ alarm: ALARM }) as Record<string, any>;
    event.detail.loop = event;
    expect(rejection(parseAlarmEvent(event, spec()))).toBe('the event cannot be serialised as JSON for alarm events');
  });

  test('an event over the limit: its size and the limit', () => {
    const event = withDetail((detail) => { detail.state.reason = 'x'.repeat(MAX_EVENT_BYTES); });
    const size = Buffer.byteLength(JSON.stringify(event), 'utf8');
    expect(rejection(parseAlarmEvent(event, spec()))).toBe(`the event is ${size} bytes, over the ${MAX_EVENT_BYTES}-byte limit for alarm events`);
  });

  test('a resource that is not an alarm ARN is quoted, cut at 300 characters', () => {
    const long = `arn:aws:sns:${REGION}:${ACCOUNT}:${'t'.repeat(400)}`;
    expect(rejection(parseAlarmEvent({ ...alarmEvent({ alarm: ALARM }), resources: [long] }, spec()))).toBe(`"${long.slice(0, 300)}" is not a CloudWatch alarm ARN`);
  });

  test('a runbook without an alarm target is not started by alarms', () => {
    expect(rejection(parseAlarmEvent(alarmEvent({ alarm: ALARM }), ecsRunbookSpec({ target: undefined })))).toBe('runbook api-restart is not started by alarms');
  });

  test('metrics that disagree: both values named', () => {
    const event = withDetail((detail) => {
      const metric = detail.configuration.metrics[0];
      detail.configuration.metrics.push({ ...metric, id: 'm2', metricStat: { ...metric.metricStat, metric: { ...metric.metricStat.metric, dimensions: { ClusterName: 'prod', ServiceName: 'web' } } } });
    });
    expect(rejection(parseAlarmEvent(event, spec({ allowed: TWO_SERVICES })))).toBe('the alarm\'s metrics disagree on dimension ServiceName ("api" vs "web")');
  });

  test('entries of metrics that are not objects, and dimension values that are not strings, are ignored', () => {
    const event = withDetail((detail) => {
      detail.configuration.metrics.unshift('junk', null);
      detail.configuration.metrics[2].metricStat.metric.dimensions = { ...onInstance, Extra: 5 };
    });
    const parsed = accepted(parseAlarmEvent(event, diskSpec()));
    expect(parsed.target.dimensions).toEqual(onInstance);
  });

  test('the alarm kinds: one metric with a metricStat is single-metric; one expression, or a Metrics Insights query among others, is not', () => {
    const kindOf = (metrics: unknown[]) => {
      const event = withDetail((d) => { d.configuration = { metrics }; });
      const result = parseAlarmEvent(event, diskSpec());
      return result.ok ? 'accepted' : result.reason.replace(/^alarm \S+ is (.*?); runbook.*$/, '$1');
    };
    const stat = { id: 'm1', metricStat: { metric: { namespace: 'CWAgent', name: 'disk_used_percent', dimensions: onInstance }, period: 60, stat: 'Average' }, returnData: true };
    expect(kindOf([stat])).toBe('accepted');
    expect(kindOf([{ id: 'e1', expression: 'ANOMALY_DETECTION_BAND(m1)', returnData: true }])).toBe('a metric-math or anomaly-detection alarm');
    expect(kindOf([{ ...stat, id: 'm1' }, { id: 'q1', expression: 'SELECT MAX(disk_used_percent) FROM CWAgent', returnData: true }])).toBe('a Metrics Insights alarm');
    expect(kindOf([stat, { ...stat, id: 'm2' }])).toBe('a metric-math or anomaly-detection alarm');
  });

  test('dimensions naming another resource: rejected with them (each value cut at 200), with or without aliases', () => {
    const long = 'app/' + 'w'.repeat(300);
    const event = alarmEvent({ alarm: ALARM, dimensions: { LoadBalancer: long } });
    expect(rejection(parseAlarmEvent(event, spec({ allowed: TWO_SERVICES })))).toBe(
      `the alarm has no ClusterName, ServiceName dimension; its dimensions (LoadBalancer=${long.slice(0, 200)}) name another resource, so runbook api-restart does not guess its target`,
    );
    const withAliases = spec({ target: { ...ecsTargetSpec(TWO_SERVICES), aliases: [{ dimensions: { TargetGroup: 'targetgroup/api/1' }, target: { ClusterName: 'prod', ServiceName: 'api' } }] } });
    expect(rejection(parseAlarmEvent(event, withAliases))).toMatch(/name another resource or an unmapped one, so runbook api-restart does not guess its target$/);
  });

  test('an alias matches only when every one of its dimensions does; the alarm\'s own dimensions win over an alias', () => {
    const target = { ...ecsTargetSpec(TWO_SERVICES), aliases: [{ dimensions: { TargetGroup: 'targetgroup/api/1', LoadBalancer: 'app/web/1' }, target: { ClusterName: 'prod', ServiceName: 'api' } }] };
    expect(rejection(parseAlarmEvent(alarmEvent({ alarm: ALARM, dimensions: { TargetGroup: 'targetgroup/api/1' } }), spec({ target })))).toMatch(/has no ClusterName, ServiceName dimension/);
    expect(accepted(parseAlarmEvent(alarmEvent({ alarm: ALARM, dimensions: { TargetGroup: 'targetgroup/api/1', LoadBalancer: 'app/web/1' } }), spec({ target }))).target.id).toBe('prod/api');
    const both = alarmEvent({ alarm: ALARM, dimensions: { TargetGroup: 'targetgroup/api/1', LoadBalancer: 'app/web/1', ClusterName: 'prod', ServiceName: 'web' } });
    expect(accepted(parseAlarmEvent(both, spec({ target }))).target.id).toBe('prod/web');
  });

  test('a state reason that is not a string is left out; a timestamp that is not a string is not a date', () => {
    expect(accepted(parseAlarmEvent(withDetail((d) => { d.state.reason = 42; }), spec())).trigger.reason).toBeUndefined();
    expect(rejection(parseAlarmEvent(withDetail((d) => { d.state.timestamp = 1764000000000; }), spec()))).toBe('the alarm state timestamp "" is not a date');
  });

  test('suppression: an empty suppressor is none; a suppressor without a reason, a mute without a rule name, a rule by ARN, a long rule name cut at 200', () => {
    const suppressedBy = (edit: (d: Record<string, any>) => void) => accepted(parseAlarmEvent(withDetail(edit), spec())).suppressed;
    expect(suppressedBy((d) => { d.state.actionsSuppressedBy = ''; d.state.actionsSuppressedReason = 'x'; })).toBeUndefined();
    expect(suppressedBy((d) => { d.state.actionsSuppressedBy = 'WaitPeriod'; })).toBe('the alarm\'s actions are suppressed (WaitPeriod)');
    expect(suppressedBy((d) => { d.state.actionsSuppressedBy = 'Alarm'; d.state.actionsSuppressedReason = 7; })).toBe('the alarm\'s actions are suppressed (Alarm)');
    expect(suppressedBy((d) => { d.muteDetail = null; })).toBeUndefined();
    expect(suppressedBy((d) => { d.muteDetail = { mutedAt: '2026-11-22T03:00:00Z' }; })).toBe('the alarm is muted');
    expect(suppressedBy((d) => { d.muteDetail = { muteRuleArn: 'arn:aws:cloudwatch:eu-west-1:111111111111:alarm-mute-rule:weekly' }; })).toBe('the alarm is muted by rule arn:aws:cloudwatch:eu-west-1:111111111111:alarm-mute-rule:weekly');
    expect(suppressedBy((d) => { d.muteDetail = { muteRuleName: 'r'.repeat(300) }; })).toBe(`the alarm is muted by rule ${'r'.repeat(200)}`);
  });

  test('a target template naming a dimension the runbook does not define fails loudly (a bug, never a guessed target)', () => {
    const broken = spec({ target: { ...ecsTargetSpec(), idTemplate: '{ClusterName}/{Missing}' } });
    expect(() => parseAlarmEvent(alarmEvent({ alarm: ALARM }), broken)).toThrow('template placeholder {Missing} has no value');
  });
});
