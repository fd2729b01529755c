import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { runbookNames as namesOf } from '../../lib/config';
import { RUNBOOK_KINDS } from '../../lib/runbooks';
import type { RunbookConstruct } from '../../lib/platform/runbook-kind';
import { synthStack, testConfig } from '../support/synth';

/** The dashboard and medic's alarms on itself, on the synthesized test stack. */

const { stack, template } = synthStack(testConfig);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const runbookNames = namesOf(testConfig);

const idOf = (construct: IConstruct): string => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const topicId = ofType('AWS::SNS::Topic').map(([id]) => id)[0];

/** Every runbook of the stack with the logical ids of its state machine and step handler. */
const runbooks = RUNBOOK_KINDS.flatMap((kind) => stack.runbooksOf<RunbookConstruct>(kind)).map((r) => ({
  name: r.runbook.name,
  stateMachine: idOf(r.runbook.stateMachine),
  stepFunction: idOf(r.stepFunction),
  selfAlarms: r.runbook.selfAlarms,
}));

const OUTCOMES = ['resolved', 'observed', 'deferred', 'no-action-needed', 'escalated', 'rejected', 'duplicate', 'suppressed'];
const REASONS = ['kill-switch', 'change-freeze', 'mode', 'target-busy', 'blast-radius', 'rate-limit', 'guard-unavailable'];

// ---- dashboard ------------------------------------------------------------------------------

interface Widget {
  type: string;
  x: number;
  y: number;
  width: number;
  properties: { title?: string; markdown?: string; metrics?: unknown[][]; alarms?: unknown[] };
}

/** The dashboard body as JSON, each intrinsic (a Ref to a state machine, a function, ...) replaced by `<Ref:Id>`. */
function dashboardWidgets(): Widget[] {
  const [[, dashboard]] = ofType('AWS::CloudWatch::Dashboard');
  const body = dashboard.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part) => {
    if (typeof part === 'string') return part;
    const intrinsic = part as Record<string, unknown>;
    if ('Ref' in intrinsic) return `<Ref:${intrinsic.Ref}>`;
    if ('Fn::GetAtt' in intrinsic) return `<GetAtt:${(intrinsic['Fn::GetAtt'] as string[]).join('.')}>`;
    return `<${JSON.stringify(intrinsic).replace(/"/g, '')}>`;
  }).join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

const widgets = dashboardWidgets();
const widget = (title: string): Widget => {
  const found = widgets.filter((w) => w.properties.title === title);
  if (found.length !== 1) throw new Error(`expected one widget "${title}", found ${found.length}`);
  return found[0];
};
/** A graph's metrics as `[namespace, name, { dimension: value }]` (the rendering options left out). */
const metricsOf = (w: Widget): unknown[][] => (w.properties.metrics ?? []).map((m) => {
  const [namespace, name, ...rest] = m.filter((part) => typeof part !== 'object') as string[];
  const dimensions: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) dimensions[rest[i]] = rest[i + 1];
  return [namespace, name, dimensions];
});
const optionsOf = (w: Widget): Array<Record<string, unknown>> => (w.properties.metrics ?? []).map((m) => m.find((part) => typeof part === 'object') as Record<string, unknown>);

describe('dashboard', () => {
  test('one dashboard, named medic-<stack name>', () => {
    const dashboards = ofType('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0][1].Properties.DashboardName).toBe('medic-MedicTest');
  });

  test('names every runbook of the config, one header each, in the stack\'s order', () => {
    const headers = widgets.filter((w) => w.type === 'text' && w.properties.markdown?.startsWith('## ')).map((w) => w.properties.markdown);
    expect(headers).toEqual(runbookNames.map((name) => expect.stringMatching(new RegExp(`^## ${name} \\(mode (observe|approve|auto)\\)$`))));
  });

  test.each(runbookNames)('%s: incidents by outcome, every outcome the handlers emit, summed and stacked', (name) => {
    const w = widget(`${name}: incidents by outcome`);
    expect(metricsOf(w)).toEqual(OUTCOMES.map((outcome) => ['Medic', 'Incidents', { runbook: name, outcome }]));
    expect(optionsOf(w).every((o) => o.stat === 'Sum')).toBe(true);
    expect((w.properties as Record<string, unknown>).stacked).toBe(true);
  });

  test.each(runbookNames)('%s: denials by reason, every category admit derives', (name) => {
    expect(metricsOf(widget(`${name}: denials by reason`))).toEqual(REASONS.map((reason) => ['Medic', 'Denials', { runbook: name, reason }]));
  });

  test.each(runbookNames)('%s: time to remediate at p50, p90 and max', (name) => {
    const w = widget(`${name}: time to remediate`);
    expect(metricsOf(w)).toEqual(Array(3).fill(['Medic', 'TimeToRemediate', { runbook: name }]));
    expect(optionsOf(w).map((o) => o.stat)).toEqual(['p50', 'p90', 'Maximum']);
  });

  test.each(runbookNames)('%s: verification failures and escalations', (name) => {
    expect(metricsOf(widget(`${name}: verification failures, escalations`))).toEqual([
      ['Medic', 'VerificationsFailed', { runbook: name }],
      ['Medic', 'Escalations', { runbook: name }],
    ]);
  });

  test.each(runbooks)('$name: executions of its own state machine', ({ name, stateMachine }) => {
    expect(metricsOf(widget(`${name}: executions`))).toEqual(
      ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'].map((metric) => ['AWS/States', metric, { StateMachineArn: `<Ref:${stateMachine}>` }]),
    );
  });

  test('one row per runbook: its graphs side by side, filling the 24 columns', () => {
    for (const { name } of runbooks) {
      const row = widgets.filter((w) => w.properties.title?.startsWith(`${name}: `));
      expect(row).toHaveLength(5);
      expect(new Set(row.map((w) => w.y)).size).toBe(1);
      expect(row.reduce((sum, w) => sum + w.width, 0)).toBe(24);
    }
  });

  test('the header row: errors of the four shared handlers and the escalation topic\'s failed deliveries, above the runbooks', () => {
    const platform = stack.platform;
    const handlers = [platform.validateFunction, platform.admitFunction, platform.completeFunction, platform.escalateFunction];
    const errors = widget('Shared handler errors');
    expect(metricsOf(errors)).toEqual(handlers.map((fn) => ['AWS/Lambda', 'Errors', { FunctionName: `<Ref:${idOf(fn)}>` }]));
    const deliveries = widget('Escalation topic: deliveries failed');
    expect(metricsOf(deliveries)[0]).toEqual(['AWS/SNS', 'NumberOfNotificationsFailed', { TopicName: `<GetAtt:${topicId}.TopicName>` }]);
    const firstRunbookRow = Math.min(...widgets.filter((w) => w.properties.title?.includes(': incidents')).map((w) => w.y));
    expect(errors.y).toBeLessThan(firstRunbookRow);
    expect(deliveries.y).toBeLessThan(firstRunbookRow);
  });

  test('the self-alarms\' states are on the dashboard', () => {
    const listed = widgets.filter((w) => w.type === 'alarm').flatMap((w) => w.properties.alarms ?? []);
    expect(listed).toHaveLength(6 + 3 * runbookNames.length);
  });
});

// ---- self-alarms ----------------------------------------------------------------------------

type Alarm = { id: string; props: Record<string, any> };
const alarms: Alarm[] = ofType('AWS::CloudWatch::Alarm').map(([id, r]) => ({ id, props: r.Properties }));

/** The single alarm on `metricName` with exactly these dimensions. */
function alarmOn(metricName: string, dimensions: Array<{ Name: string; Value: unknown }>): Alarm {
  const found = alarms.filter((a) => a.props.MetricName === metricName && JSON.stringify(a.props.Dimensions) === JSON.stringify(dimensions));
  if (found.length !== 1) throw new Error(`expected one alarm on ${metricName} ${JSON.stringify(dimensions)}, found ${found.length}`);
  return found[0];
}

/** Alarms medic raises on itself: anything counted notifies the escalation topic; no data is not a problem. */
function expectSelfAlarm(alarm: Alarm): void {
  expect(alarm.props).toMatchObject({
    AlarmActions: [{ Ref: topicId }],
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
  });
  expect(alarm.props.AlarmDescription).toMatch(/^medic: /);
}

describe.each(runbooks)('self-alarms of runbook $name', ({ name, stateMachine, stepFunction, selfAlarms }) => {
  test('executions that timed out', () => {
    const alarm = alarmOn('ExecutionsTimedOut', [{ Name: 'StateMachineArn', Value: { Ref: stateMachine } }]);
    expect(alarm.props).toMatchObject({ Namespace: 'AWS/States', Statistic: 'Sum', Period: 300 });
    expectSelfAlarm(alarm);
    expect(idOf(selfAlarms.timedOut)).toBe(alarm.id);
  });

  test('executions that failed without an escalation: ExecutionsFailed minus the runbook\'s Escalations', () => {
    const found = alarms.filter((a) => JSON.stringify(a.props.Metrics ?? []).includes(`"Ref":"${stateMachine}"`));
    expect(found).toHaveLength(1);
    const alarm = found[0];
    expectSelfAlarm(alarm);
    const queries = alarm.props.Metrics as Array<{ Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: Record<string, any> }>;
    const expression = queries.find((q) => q.Expression)!;
    // A refused hand-typed input fails its execution on purpose and is counted as InputsRefused.
    expect(expression).toMatchObject({ Expression: 'FILL(failed, 0) - FILL(escalations, 0) - FILL(refused, 0)' });
    expect(expression.ReturnData ?? true).toBe(true);
    const stat = (id: string) => queries.find((q) => q.Id === id)!.MetricStat!;
    expect(stat('failed')).toEqual({
      Metric: { Namespace: 'AWS/States', MetricName: 'ExecutionsFailed', Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachine } }] },
      Period: 300,
      Stat: 'Sum',
    });
    expect(stat('escalations')).toEqual({
      Metric: { Namespace: 'Medic', MetricName: 'Escalations', Dimensions: [{ Name: 'runbook', Value: name }] },
      Period: 300,
      Stat: 'Sum',
    });
    expect(stat('refused')).toEqual({
      Metric: { Namespace: 'Medic', MetricName: 'InputsRefused', Dimensions: [{ Name: 'runbook', Value: name }] },
      Period: 300,
      Stat: 'Sum',
    });
    expect(queries.filter((q) => q.Id !== expression.Id).every((q) => q.ReturnData === false)).toBe(true);
    expect(idOf(selfAlarms.failedWithoutEscalation)).toBe(alarm.id);
  });

  test('errors of its step handler', () => {
    const alarm = alarmOn('Errors', [{ Name: 'FunctionName', Value: { Ref: stepFunction } }]);
    expect(alarm.props).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Period: 300 });
    expectSelfAlarm(alarm);
    expect(idOf(selfAlarms.stepFunctionErrors)).toBe(alarm.id);
  });
});

describe('self-alarms of the platform', () => {
  const platform = stack.platform;

  test.each([
    ['validate', () => platform.validateFunction],
    ['admit', () => platform.admitFunction],
    ['complete', () => platform.completeFunction],
    ['escalate', () => platform.escalateFunction],
    ['ledgerWriter', () => platform.ledgerWriterFunction],
  ] as const)('errors of the shared %s handler', (name, fn) => {
    const alarm = alarmOn('Errors', [{ Name: 'FunctionName', Value: { Ref: idOf(fn()) } }]);
    expect(alarm.props).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum' });
    expectSelfAlarm(alarm);
    expect(idOf(platform.selfAlarms.handlerErrors[name])).toBe(alarm.id);
  });

  test('escalation topic deliveries that failed, exposed for routing to a second channel', () => {
    const alarm = alarmOn('NumberOfNotificationsFailed', [{ Name: 'TopicName', Value: { 'Fn::GetAtt': [topicId, 'TopicName'] } }]);
    expect(alarm.props).toMatchObject({ Namespace: 'AWS/SNS', Statistic: 'Sum' });
    expectSelfAlarm(alarm);
    expect(idOf(platform.selfAlarms.escalationDeliveryFailed)).toBe(alarm.id);
  });
});

describe('the escalation topic lets each self-alarm publish', () => {
  test('every self-alarm is a SourceArn of the CloudWatch statement of the topic policy', () => {
    const selfAlarmIds = [...stack.platform.selfAlarms.alarms, ...runbooks.flatMap((r) => r.selfAlarms.alarms)].map(idOf);
    expect(new Set(selfAlarmIds).size).toBe(3 * runbookNames.length + 6);
    const statements = ofType('AWS::SNS::TopicPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
    const fromCloudWatch = statements.filter((s) => s.Effect === 'Allow' && s.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(fromCloudWatch).toHaveLength(1);
    expect(fromCloudWatch[0]).toMatchObject({ Action: 'sns:Publish', Resource: { Ref: topicId } });
    const sources = [fromCloudWatch[0].Condition.ArnEquals['aws:SourceArn']].flat();
    for (const id of selfAlarmIds) expect(sources).toContainEqual({ 'Fn::GetAtt': [id, 'Arn'] });
  });
});
