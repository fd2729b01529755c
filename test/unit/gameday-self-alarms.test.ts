import type { Stack } from 'aws-cdk-lib';
import { SelfAlarms, executionEndFacts, type AlarmFact } from '../../lib/gameday/self-alarms';
import { runbooksOf, stateMachineId } from '../../lib/local/template-workflow';
import { ACCOUNT, REGION, synthStack, testConfig } from '../support/synth';

const ENV = { account: ACCOUNT, region: REGION };
const T0 = Date.parse('2026-11-22T03:17:00Z');
const MINUTE = 60_000;
let stack: Stack;
let resources: Record<string, any>;

beforeAll(() => {
  // Synthesis takes seconds: once for the file; each test builds its own SelfAlarms (alarm state is per instance).
  const synthesized = synthStack(testConfig);
  stack = synthesized.stack;
  resources = synthesized.template.toJSON().Resources;
});

const kindOf = (fact: AlarmFact) => fact.kind;

describe('SelfAlarms of the reference stack', () => {
  test('every alarm notifying the escalation topic is simulated: none is left unsimulated', () => {
    const alarms = new SelfAlarms(resources, ENV);
    const notifying = Object.values(resources).filter((r: any) => r.Type === 'AWS::CloudWatch::Alarm' && (r.Properties.AlarmActions ?? []).length > 0);
    expect(alarms.unsimulated).toEqual([]);
    expect(alarms.alarms).toHaveLength(notifying.length);
    const topic = alarms.alarms[0].topics[0];
    expect(resources[topic].Type).toBe('AWS::SNS::Topic');
    expect(alarms.alarms.every((a) => a.topics.length === 1 && a.topics[0] === topic)).toBe(true);
  });

  test('each runbook: timed out, failed without escalation, step handler errors, and its dead-letter queue', () => {
    const alarms = new SelfAlarms(resources, ENV);
    const runbooks = runbooksOf(stack);
    const count = (kind: AlarmFact['kind']) => alarms.alarms.filter((a) => a.watches.kind === kind).length;
    expect(count('execution-timed-out')).toBe(runbooks.length);
    expect(count('execution-failed-unescalated')).toBe(runbooks.length);
    expect(count('dead-letter')).toBe(runbooks.filter((r) => r.deadLetterQueue).length);
    // Step handlers, the shared handlers, the reconciler, the ledger export and the sweep: each watches the function its dimension names.
    const errorAlarms = Object.entries(resources).filter(([, r]: [string, any]) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === 'Errors');
    expect(count('function-error')).toBe(errorAlarms.length);
    for (const [id, r] of errorAlarms as Array<[string, any]>) {
      expect(alarms.alarms.find((a) => a.id === id)!.watches).toEqual({ kind: 'function-error', functionId: r.Properties.Dimensions[0].Value.Ref });
    }
    expect(alarms.alarms.filter((a) => /SweepErrorsAlarm|LedgerReconcilerErrorsAlarm/.test(a.id)).map((a) => a.watches.kind)).toEqual(['function-error', 'function-error']);
    expect(count('notification-failed')).toBe(1);
    const machine = stateMachineId(stack, 'api-restart');
    expect(alarms.watching({ kind: 'execution-failed-unescalated', stateMachineId: machine }).map((a) => a.id)).toEqual([
      expect.stringMatching(/^EcsTaskRestartapirestartRunbookSelfAlarmsFailedWithoutEscalationAlarm/),
    ]);
    expect(alarms.watching({ kind: 'execution-timed-out', stateMachineId: machine })[0].periodSeconds).toBe(300);
  });

  test('each fact kind pages once, with what CloudWatch publishes to SNS', () => {
    const alarms = new SelfAlarms(resources, ENV);
    const kinds = [...new Set(alarms.alarms.map((a) => kindOf(a.watches)))].sort();
    expect(kinds).toEqual(['dead-letter', 'execution-failed-unescalated', 'execution-timed-out', 'function-error', 'notification-failed']);
    for (const kind of kinds) {
      const alarm = alarms.alarms.find((a) => a.watches.kind === kind)!;
      const pages = alarms.record(alarm.watches, T0);
      expect(pages).toHaveLength(1);
      const [page] = pages;
      expect(page).toMatchObject({ alarm: alarm.id, topic: alarm.topics[0], topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:${alarm.topics[0]}`, at: '2026-11-22T03:17:00.000Z' });
      expect(page.subject).toBe(`ALARM: "${alarm.name}" in EU (Ireland)`.slice(0, 100));
      const message = JSON.parse(page.message);
      expect(message).toMatchObject({
        AlarmName: alarm.name, AlarmDescription: resources[alarm.id].Properties.AlarmDescription, AWSAccountId: ACCOUNT,
        NewStateValue: 'ALARM', OldStateValue: 'OK', StateChangeTime: '2026-11-22T03:17:00.000+0000', Region: 'EU (Ireland)',
        AlarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${alarm.name}`, AlarmActions: [page.topicArn], OKActions: [],
        Trigger: { EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, TreatMissingData: 'notBreaching' },
      });
      expect(message.NewStateReason).toMatch(/^Threshold Crossed: 1 out of the last 1 datapoints \[1\.0 \(22\/11\/26 03:1[057]:00\)\] was greater than the threshold \(0\.0\)/);
    }
  });

  test('the Trigger is the metric, or the metric-math queries, with dimensions as CloudWatch writes them', () => {
    const alarms = new SelfAlarms(resources, ENV);
    const trigger = (kind: AlarmFact['kind'], id = /./) => JSON.parse(alarms.record(alarms.alarms.find((a) => a.watches.kind === kind && id.test(a.id))!.watches, T0)[0].message).Trigger;
    const errors = trigger('function-error', /StepFunctionErrorsAlarm/);
    expect(errors).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', StatisticType: 'Statistic', Statistic: 'SUM', Period: 300 });
    expect(errors.Dimensions).toEqual([{ value: expect.any(String), name: 'FunctionName' }]);
    expect(trigger('dead-letter').Dimensions).toEqual([{ value: expect.stringMatching(/UndeliveredEvents/), name: 'QueueName' }]);
    const math = trigger('execution-failed-unescalated');
    expect(math.Metrics[0]).toEqual(expect.objectContaining({ Expression: 'FILL(failed, 0) - FILL(escalations, 0) - FILL(refused, 0)', ReturnData: true }));
    expect(math.Metrics.find((m: any) => m.Id === 'failed').MetricStat.Metric).toMatchObject({ MetricName: 'ExecutionsFailed', Namespace: 'AWS/States' });
  });

  test('a repeated fact inside the period does not page again; one after the quiet period does', () => {
    const alarms = new SelfAlarms(resources, ENV);
    const fact: AlarmFact = { kind: 'execution-timed-out', stateMachineId: stateMachineId(stack, 'api-restart') };
    expect(alarms.record(fact, T0)).toHaveLength(1);
    expect(alarms.record(fact, T0 + 2 * MINUTE)).toEqual([]);
    // Facts in the next period keep it in ALARM too.
    expect(alarms.record(fact, T0 + 6 * MINUTE)).toEqual([]);
    const [state] = alarms.states(T0 + 7 * MINUTE).filter((s) => s.watches.kind === fact.kind && s.watches.stateMachineId === fact.stateMachineId);
    expect(state).toMatchObject({ state: 'ALARM', pages: 1, since: '2026-11-22T03:17:00.000Z' });
    // Last fact at 03:23 (period 03:20-03:25): OK once the whole period 03:25-03:30 had none.
    const ok = alarms.states(Date.parse('2026-11-22T03:30:00Z')).find((s) => s.alarm === state.alarm)!;
    expect(ok).toMatchObject({ state: 'OK', since: '2026-11-22T03:30:00.000Z' });
    expect(alarms.record(fact, Date.parse('2026-11-22T03:31:00Z'))).toHaveLength(1);
    expect(alarms.states().find((s) => s.alarm === state.alarm)).toMatchObject({ state: 'ALARM', pages: 2 });
  });

  test('a fact pages only the alarms watching its resource', () => {
    const alarms = new SelfAlarms(resources, ENV);
    expect(alarms.record({ kind: 'execution-timed-out', stateMachineId: stateMachineId(stack, 'api-restart') }, T0)).toHaveLength(1);
    expect(alarms.record({ kind: 'execution-timed-out', stateMachineId: stateMachineId(stack, 'api-observe') }, T0)).toHaveLength(1);
    expect(alarms.record({ kind: 'function-error', functionId: 'NotAFunction' }, T0)).toEqual([]);
    expect(alarms.states().filter((s) => s.state === 'ALARM')).toHaveLength(2);
  });

  test('a dead-letter queue alarm stays in ALARM: the message stays in the queue', () => {
    const alarms = new SelfAlarms(resources, ENV);
    const alarm = alarms.alarms.find((a) => a.watches.kind === 'dead-letter')!;
    expect(alarms.record(alarm.watches, T0)).toHaveLength(1);
    expect(alarms.record(alarm.watches, T0 + 120 * MINUTE)).toEqual([]);
    expect(alarms.states(T0 + 240 * MINUTE).find((s) => s.alarm === alarm.id)!.state).toBe('ALARM');
  });
});

describe('executionEndFacts', () => {
  test('TIMED_OUT, and FAILED unless escalated or refused', () => {
    expect(executionEndFacts('M', 'TIMED_OUT')).toEqual([{ kind: 'execution-timed-out', stateMachineId: 'M' }]);
    expect(executionEndFacts('M', 'FAILED', 'States.Runtime')).toEqual([{ kind: 'execution-failed-unescalated', stateMachineId: 'M' }]);
    expect(executionEndFacts('M', 'FAILED', 'Medic.EscalationFailed')).toEqual([{ kind: 'execution-failed-unescalated', stateMachineId: 'M' }]);
    expect(executionEndFacts('M', 'FAILED', 'Medic.Escalated')).toEqual([]);
    expect(executionEndFacts('M', 'FAILED', 'Medic.InputRefused')).toEqual([]);
    expect(executionEndFacts('M', 'SUCCEEDED')).toEqual([]);
    expect(executionEndFacts('M', 'ABORTED')).toEqual([]);
  });
});

describe('alarms the game day cannot simulate', () => {
  const topic = { Type: 'AWS::SNS::Topic', Properties: {} };
  const fn = { Type: 'AWS::Lambda::Function', Properties: {} };
  const alarm = (properties: Record<string, unknown>) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmActions: [{ Ref: 'Topic' }], ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, EvaluationPeriods: 1, TreatMissingData: 'notBreaching',
      Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Period: 300, Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'Fn' } }], ...properties,
    },
  });

  test('are listed with the reason, never dropped', () => {
    const alarms = new SelfAlarms({
      Topic: topic, Fn: fn,
      Simulated: alarm({ AlarmName: 'errors' }),
      Threshold: alarm({ Threshold: 5 }),
      Missing: alarm({ TreatMissingData: 'missing' }),
      ThreeOfThree: alarm({ EvaluationPeriods: 3 }),
      Average: alarm({ Statistic: 'Average' }),
      Cpu: alarm({ Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Dimensions: [] }),
      OtherFunction: alarm({ Dimensions: [{ Name: 'FunctionName', Value: 'someone-elses' }] }),
      Outside: alarm({ AlarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:ops`] }),
      Disabled: alarm({ ActionsEnabled: false }),
      Math: alarm({ Namespace: undefined, MetricName: undefined, Statistic: undefined, Period: undefined, Dimensions: undefined, Metrics: [
        { Id: 'e', Expression: 'm * 2', ReturnData: true },
        { Id: 'm', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors' }, Period: 60, Stat: 'Sum' }, ReturnData: false },
      ] }),
      NoAction: alarm({ AlarmActions: [] }),
    }, ENV);
    expect(alarms.alarms.map((a) => [a.id, a.name])).toEqual([['Simulated', 'errors']]);
    const reasons = Object.fromEntries(alarms.unsimulated.map((u) => [u.id, u.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['Average', 'Cpu', 'Disabled', 'Math', 'Missing', 'OtherFunction', 'Outside', 'ThreeOfThree', 'Threshold']);
    expect(reasons.Threshold).toMatch(/GreaterThanThreshold 5/);
    expect(reasons.Missing).toMatch(/missing data as missing/);
    expect(reasons.ThreeOfThree).toMatch(/3 breaching datapoints/);
    expect(reasons.Average).toMatch(/statistic Average/);
    expect(reasons.Cpu).toMatch(/AWS\/EC2 CPUUtilization/);
    expect(reasons.OtherFunction).toMatch(/not a resource of the stack/);
    expect(reasons.Outside).toMatch(/outside the stack/);
    expect(reasons.Disabled).toMatch(/ActionsEnabled/);
    expect(reasons.Math).toMatch(/"m \* 2"/);
  });

  test('a long name is cut to the 100 characters of an SNS subject; a region without a name is its code', () => {
    const name = 'x'.repeat(120);
    const alarms = new SelfAlarms({ Topic: topic, Fn: fn, Long: alarm({ AlarmName: name }) }, { account: ACCOUNT, region: 'xx-test-1' });
    const [page] = alarms.record({ kind: 'function-error', functionId: 'Fn' }, T0);
    expect(page.subject).toBe(`ALARM: "${name}`.slice(0, 100));
    expect(JSON.parse(page.message)).toMatchObject({ AlarmName: name, Region: 'xx-test-1', AlarmDescription: null });
  });
});
