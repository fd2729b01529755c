import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { EcsTaskRestartRunbook, type EcsTaskRestartRunbookProps } from '../../lib/runbooks/ecs-task-restart';
import { runbookNames as namesOf } from '../../lib/config';
import { MedicPlatform } from '../../lib/platform/platform';
import { ACCOUNT, REGION, alarmArn, synthStack, testConfig } from '../support/synth';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const ENV = { account: ACCOUNT, region: REGION };

interface State {
  Type: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Choices?: Array<Record<string, unknown> & { Next: string }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
  Retry?: Array<{ ErrorEquals: string[]; BackoffRate?: number; JitterStrategy?: string; MaxAttempts?: number; IntervalSeconds?: number }>;
  QueryLanguage?: string;
  Parameters?: Record<string, any>;
}
interface Definition {
  StartAt: string;
  States: Record<string, State>;
  QueryLanguage?: string;
  Comment?: string;
}

/**
 * Parses a state machine's DefinitionString. CloudFormation holds it as an `Fn::Join` of string
 * parts and token objects (Refs, GetAtts); each token becomes a placeholder `${TOKEN:n}` (CDK
 * renders tokens inside JSON strings, so the result is valid JSON) and is returned in `tokens`.
 */
function parseDefinition(definitionString: unknown): { definition: Definition; tokens: unknown[] } {
  const tokens: unknown[] = [];
  let text: string;
  if (typeof definitionString === 'string') {
    text = definitionString;
  } else {
    const join = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    if (!join) throw new Error(`unexpected DefinitionString ${JSON.stringify(definitionString).slice(0, 200)}`);
    const [separator, parts] = join;
    text = parts.map((p) => {
      if (typeof p === 'string') return p;
      tokens.push(p);
      return `\${TOKEN:${tokens.length - 1}}`;
    }).join(separator);
  }
  return { definition: JSON.parse(text) as Definition, tokens };
}

/** Every state name a state can move to. */
function transitionsOf(state: State): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...(state.Choices ?? []).map((c) => c.Next),
    ...(state.Catch ?? []).map((c) => c.Next),
  ];
}

// ---------------------------------------------------------------------------------------------
// The reference stack of the test config, synthesized once.

const { template } = synthStack(testConfig);
/** The runbooks started by alarms; `runbookNames` is every runbook, the failover drill included. */
const runbooks = testConfig.runbooks.ecsTaskRestart!;

interface Machine { id: string; properties: Record<string, any>; definition: Definition; tokens: unknown[] }
const machines: Record<string, Machine> = {};
for (const [id, r] of Object.entries(template.findResources('AWS::StepFunctions::StateMachine'))) {
  const { definition, tokens } = parseDefinition(r.Properties.DefinitionString);
  const name = definition.States['Load runbook settings']?.Parameters?.runbook?.name as string;
  machines[name] = { id, properties: r.Properties, definition, tokens };
}
const runbookNames = namesOf(testConfig);

function alarmRuleOf(t: Template, name: string): Record<string, any> {
  const rules = Object.values(t.findResources('AWS::Events::Rule', { Properties: { Description: `medic: alarms attached to runbook ${name} going to ALARM` } }));
  if (rules.length !== 1) throw new Error(`expected one alarm rule for ${name}, found ${rules.length}`);
  return rules[0].Properties;
}

const EXPECTED_STATES = [
  'Load runbook settings', 'Validate event', 'Admit', 'Plan', 'Act', 'Wait before verifying', 'Verify',
  'Wait between checks', 'Complete', 'Escalate',
];

describe('state machines', () => {
  test('there is one per configured runbook', () => {
    expect(Object.keys(machines).sort()).toEqual([...runbookNames].sort());
  });

  test.each(runbookNames)('%s: Standard, logs level ALL, X-Ray tracing on', (name) => {
    const { properties } = machines[name];
    expect(properties.StateMachineType).toBe('STANDARD');
    expect(properties.LoggingConfiguration?.Level).toBe('ALL');
    expect(properties.LoggingConfiguration?.Destinations).toHaveLength(1);
    expect(properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  test.each(runbookNames)('%s: JSONPath only (no JSONata, top-level or per state)', (name) => {
    const { definition } = machines[name];
    expect([undefined, 'JSONPath']).toContain(definition.QueryLanguage);
    const jsonata = Object.entries(definition.States).filter(([, s]) => s.QueryLanguage !== undefined && s.QueryLanguage !== 'JSONPath');
    expect(jsonata.map(([n]) => n)).toEqual([]);
  });

  test.each(runbookNames)('%s: contains every step of the loop, starting by loading the runbook settings', (name) => {
    const { definition } = machines[name];
    expect(definition.StartAt).toBe('Load runbook settings');
    expect(Object.keys(definition.States)).toEqual(expect.arrayContaining(EXPECTED_STATES));
    expect(definition.States['Wait before verifying'].Type).toBe('Wait');
    expect(definition.States['Wait between checks'].Type).toBe('Wait');
  });

  test.each(runbookNames)('%s: every transition leads to a state that exists', (name) => {
    const { definition } = machines[name];
    const dangling = Object.entries(definition.States)
      .flatMap(([from, s]) => transitionsOf(s).filter((to) => !(to in definition.States)).map((to) => `${from} -> ${to}`));
    expect(dangling).toEqual([]);
  });

  test.each(runbookNames)('%s: every Task state but Escalate catches all errors into Escalate', (name) => {
    const { definition } = machines[name];
    const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.map(([n]) => n)).toEqual(expect.arrayContaining(['Validate event', 'Admit', 'Plan', 'Act', 'Verify', 'Complete', 'Escalate', 'Send storm digest']));
    const uncaught = tasks
      .filter(([n]) => n !== 'Escalate' && n !== 'Send storm digest')
      .filter(([, s]) => !(s.Catch ?? []).some((c) => c.ErrorEquals.includes('States.ALL') && c.Next === 'Escalate'))
      .map(([n]) => n);
    expect(uncaught).toEqual([]);
    // Escalate (and the storm digest it sends) cannot escalate to itself: a failure ends the execution as failed, visibly.
    for (const state of ['Escalate', 'Send storm digest']) {
      const escalateCatch = definition.States[state].Catch ?? [];
      expect(escalateCatch.some((c) => c.ErrorEquals.includes('States.ALL') && definition.States[c.Next]?.Type === 'Fail')).toBe(true);
    }
  });

  test.each(runbookNames)('%s: every Task retries throttling with backoff rate 2 and full jitter', (name) => {
    const { definition } = machines[name];
    const withoutThrottlingRetry = Object.entries(definition.States)
      .filter(([, s]) => s.Type === 'Task')
      .filter(([, s]) => !(s.Retry ?? []).some((r) => r.ErrorEquals.includes('ThrottlingException') && r.BackoffRate === 2 && r.JitterStrategy === 'FULL'))
      .map(([n]) => n);
    expect(withoutThrottlingRetry).toEqual([]);
  });

  test.each(runbooks.map((r) => [r.name, r] as const))('%s: the settings state carries the configured mode and alarms, not the event\'s', (name, rb) => {
    const settings = machines[name].definition.States['Load runbook settings'];
    expect(settings.Type).toBe('Pass');
    expect(settings.Parameters?.runbook).toMatchObject({ name, mode: rb.mode, kind: 'ecs-task-restart', alarmArns: rb.alarmArns });
  });
});

describe('alarm rules', () => {
  test.each(runbooks.map((r) => [r.name, r.alarmArns] as const))('%s: pattern matches exactly its alarms going to ALARM', (name, arns) => {
    expect(alarmRuleOf(template, name).EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      resources: arns,
      detail: { state: { value: ['ALARM'] } },
    });
  });

  test('a runbook started by hand has no alarm rule', () => {
    expect(() => alarmRuleOf(template, 'orders-drill')).toThrow('found 0');
  });

  test.each(runbooks.map((r) => r.name))('%s: target is its own state machine, with a dead-letter queue', (name) => {
    const targets = alarmRuleOf(template, name).Targets as Array<Record<string, any>>;
    expect(targets).toHaveLength(1);
    expect(targets[0].Arn).toEqual({ Ref: machines[name].id });
    const dlq = targets[0].DeadLetterConfig?.Arn?.['Fn::GetAtt'];
    expect(dlq?.[1]).toBe('Arn');
    expect(Object.keys(template.findResources('AWS::SQS::Queue'))).toContain(dlq?.[0]);
  });
});

// ---------------------------------------------------------------------------------------------
// A stack built directly from the constructs: alarms imported by ARN and created in the stack.

describe('attaching alarms', () => {
  const importedArn = alarmArn('imported-by-arn');
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Attach', { env: ENV });
  const platform = new MedicPlatform(stack, 'Platform');
  const imported = cloudwatch.Alarm.fromAlarmArn(stack, 'Imported', importedArn);
  const runbook = new EcsTaskRestartRunbook(stack, 'Restart', {
    platform,
    name: 'attach-test',
    alarms: [imported],
    services: [{ clusterName: 'prod', serviceName: 'api' }],
  });
  const created = new cloudwatch.Alarm(stack, 'Created', {
    metric: new cloudwatch.Metric({ namespace: 'AWS/ECS', metricName: 'CPUUtilization', dimensionsMap: { ClusterName: 'prod', ServiceName: 'api' } }),
    threshold: 90,
    evaluationPeriods: 1,
  });
  runbook.attachTo(created);
  runbook.attachTo(created); // attaching twice is one attachment
  runbook.runbook.attachTo(imported);
  const attached = Template.fromStack(stack);
  const createdId = stack.getLogicalId(created.node.defaultChild as cloudwatch.CfnAlarm);

  test('the rule matches the imported alarm ARN and the created alarm, once each', () => {
    expect(alarmRuleOf(attached, 'attach-test').EventPattern.resources).toEqual([importedArn, { 'Fn::GetAtt': [createdId, 'Arn'] }]);
  });

  test('the workflow settings list both alarms', () => {
    const [, r] = Object.entries(attached.findResources('AWS::StepFunctions::StateMachine'))[0];
    const { definition, tokens } = parseDefinition(r.Properties.DefinitionString);
    const arns = definition.States['Load runbook settings'].Parameters?.runbook?.alarmArns as string[];
    expect(arns).toHaveLength(2);
    expect(arns[0]).toBe(importedArn);
    const token = /^\$\{TOKEN:(\d+)\}$/.exec(arns[1]);
    expect(token).not.toBeNull();
    expect(tokens[Number(token![1])]).toEqual({ 'Fn::GetAtt': [createdId, 'Arn'] });
  });

  test('a runbook attached to no alarm fails synthesis', () => {
    const lonelyApp = new App({ context: NO_BUNDLING });
    const lonely = new Stack(lonelyApp, 'Lonely', { env: ENV });
    new EcsTaskRestartRunbook(lonely, 'Restart', {
      platform: new MedicPlatform(lonely, 'Platform'),
      name: 'lonely',
      services: [{ clusterName: 'prod', serviceName: 'api' }],
    });
    expect(() => lonelyApp.synth()).toThrow(/runbook lonely is attached to no alarm/);
  });
});

// ---------------------------------------------------------------------------------------------
// Synth-time guards: a setting that disables a guard is an error, not a silent no-op.

describe('synth-time guards', () => {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Guards', { env: ENV });
  const platform = new MedicPlatform(stack, 'Platform');
  const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Alarm', alarmArn('guards'));
  let n = 0;
  const build = (overrides: Partial<EcsTaskRestartRunbookProps>) => () => {
    n += 1;
    return new EcsTaskRestartRunbook(stack, `Runbook${n}`, {
      platform,
      name: `guard-${n}`,
      alarms: [alarm],
      services: [{ clusterName: 'prod', serviceName: 'api' }],
      ...overrides,
    });
  };

  test('the defaults and the boundary values are accepted (so the failures below are the setting\'s)', () => {
    expect(build({})).not.toThrow();
    expect(build({ strategy: 'stopTasks', maxStopPercent: 1 })).not.toThrow();
    expect(build({ strategy: 'stopTasks', maxStopPercent: 50 })).not.toThrow();
    expect(build({ policy: { maxAttempts: 1, maxConcurrent: 1 } })).not.toThrow();
    expect(build({ policy: { maxAttempts: 10 } })).not.toThrow();
    expect(build({ verification: { maxChecks: 3, requiredConsecutiveSuccesses: 3, interval: Duration.seconds(5) } })).not.toThrow();
    expect(build({ mode: 'auto', name: 'ab' })).not.toThrow();
  });

  test.each([
    ['maxStopPercent 0', { maxStopPercent: 0 }, /maxStopPercent must be a whole number from 1 to 50 \(got 0\)/],
    ['maxStopPercent 60', { maxStopPercent: 60 }, /maxStopPercent must be a whole number from 1 to 50 \(got 60\)/],
    ['maxStopPercent 100', { maxStopPercent: 100 }, /maxStopPercent must be a whole number from 1 to 50 \(got 100\)/],
    ['policy.maxAttempts 0', { policy: { maxAttempts: 0 } }, /policy\.maxAttempts must be a whole number from 1 to 10 \(got 0\)/],
    ['policy.maxAttempts 11', { policy: { maxAttempts: 11 } }, /policy\.maxAttempts must be a whole number from 1 to 10 \(got 11\)/],
    ['policy.maxConcurrent 0', { policy: { maxConcurrent: 0 } }, /policy\.maxConcurrent must be a whole number from 1 to 20 \(got 0\)/],
    ['requiredConsecutiveSuccesses > maxChecks', { verification: { maxChecks: 3, requiredConsecutiveSuccesses: 4 } },
      /verification\.requiredConsecutiveSuccesses must be a whole number from 1 to 3 \(got 4\)/],
    ['verification.interval 1 second', { verification: { interval: Duration.seconds(1) } }, /verification\.interval \(seconds\) must be a whole number from 5 to 3600 \(got 1\)/],
    ['mode "yolo"', { mode: 'yolo' as unknown as EcsTaskRestartRunbookProps['mode'] }, /mode must be one of observe, approve, auto \(got "yolo"\)/],
    ['runbook name "Bad_Name"', { name: 'Bad_Name' }, /runbook name "Bad_Name" must be 2-40 characters of lowercase letters, digits and hyphens/],
    ['an empty services list', { services: [] }, /list at least one service it may restart/],
    ['service name "a/b"', { services: [{ clusterName: 'prod', serviceName: 'a/b' }] }, /"prod\/a\/b" is not a valid ECS cluster\/service name/],
    ['cluster name "a/b"', { services: [{ clusterName: 'a/b', serviceName: 'api' }] }, /"a\/b\/api" is not a valid ECS cluster\/service name/],
    ['verification longer than the workflow timeout', { timeout: Duration.minutes(10) }, /does not fit the 600s workflow timeout/],
  ] as Array<[string, Partial<EcsTaskRestartRunbookProps>, RegExp]>)('%s is a synth error', (_setting, overrides, message) => {
    expect(build(overrides)).toThrow(message);
  });
});
