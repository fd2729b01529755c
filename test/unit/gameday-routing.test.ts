import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { fillTemplate, renderTargetInput } from '../../lib/gameday/event-input';
import { DEFAULT_RETRY_POLICY, eventBridgeRetryDelays, matchesPattern, ruleTargets, topicRules, type TopicRule } from '../../lib/gameday/routing';
import { runbooksOf, stateMachineId } from '../../lib/local/template-workflow';
import { ACCOUNT, REGION, synthStack, testConfig } from '../support/synth';

const ENV = { account: ACCOUNT, region: REGION };
let stack: Stack;
let template: Template;
let backstop: TopicRule;
let machineArn: string;

/** A "Step Functions Execution Status Change" event of api-restart's state machine, as EventBridge delivers it. */
const statusChange = (status: string, error: string | null) => ({
  version: '0', id: 'e1', 'detail-type': 'Step Functions Execution Status Change', source: 'aws.states', account: ACCOUNT, time: '2026-11-22T03:17:00Z', region: REGION,
  resources: [`${machineArn.replace(':stateMachine:', ':execution:')}:api-restart-7`],
  detail: {
    executionArn: `${machineArn.replace(':stateMachine:', ':execution:')}:api-restart-7`, stateMachineArn: machineArn, name: 'api-restart-7',
    status, startDate: 1, stopDate: 2, input: '{}', output: null, error, cause: error ? 'boom' : null,
  },
});

beforeAll(() => {
  // Synthesis takes seconds: once for the file.
  ({ stack, template } = synthStack(testConfig));
  machineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${stateMachineId(stack, 'api-restart')}`;
  backstop = topicRules(template, stack, ENV).find((r) => r.runbook === 'api-restart')!;
});

describe('the backstop rule of a runbook (topicRules)', () => {
  test('each runbook has one, publishing to the escalation topic', () => {
    const rules = topicRules(template, stack, ENV);
    expect(rules.map((r) => r.runbook).sort()).toEqual(runbooksOf(stack).map((r) => r.name).sort());
    expect(new Set(rules.map((r) => r.topic)).size).toBe(1);
    expect(template.toJSON().Resources[backstop.topic].Type).toBe('AWS::SNS::Topic');
  });

  test('matches a TIMED_OUT execution and one FAILED with States.Runtime, not one that escalated or refused its input', () => {
    expect(matchesPattern(backstop.pattern, statusChange('TIMED_OUT', null))).toBe(true);
    expect(matchesPattern(backstop.pattern, statusChange('ABORTED', null))).toBe(true);
    expect(matchesPattern(backstop.pattern, statusChange('FAILED', 'States.Runtime'))).toBe(true);
    expect(matchesPattern(backstop.pattern, statusChange('FAILED', 'Medic.Escalated'))).toBe(false);
    expect(matchesPattern(backstop.pattern, statusChange('FAILED', 'Medic.InputRefused'))).toBe(false);
    expect(matchesPattern(backstop.pattern, statusChange('SUCCEEDED', null))).toBe(false);
  });

  test('not an execution of another runbook', () => {
    const other = statusChange('TIMED_OUT', null);
    other.detail.stateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${stateMachineId(stack, 'api-observe')}`;
    expect(matchesPattern(backstop.pattern, other)).toBe(false);
  });

  test('its message names the execution, its status and its error (the text literal is published with its quotes, as AWS does)', () => {
    const failed = backstop.render(statusChange('FAILED', 'States.Runtime'));
    expect(failed).toMatch(/^"medic runbook api-restart: execution api-restart-7 ended FAILED \(States\.Runtime\) before it could escalate\./);
    expect(failed).toContain(`Look at the execution ${machineArn.replace(':stateMachine:', ':execution:')}:api-restart-7 and`);
    expect(failed.endsWith('"')).toBe(true);
    // A TIMED_OUT execution has no error: the placeholder in the text is empty.
    expect(backstop.render(statusChange('TIMED_OUT', null))).toContain('ended TIMED_OUT () before');
  });
});

describe('rule routes to the workflows (ruleTargets)', () => {
  test("a runbook's alarm rule retries 10 times for 2 hours, then into its dead-letter queue", () => {
    const route = ruleTargets(template, stack, ENV).find((r) => r.runbook === 'api-restart')!;
    expect(route.retryPolicy).toEqual({ maximumRetryAttempts: 10, maximumEventAgeSeconds: 7200 });
    expect(template.toJSON().Resources[route.deadLetterQueue!].Type).toBe('AWS::SQS::Queue');
    expect(route.deadLetterQueue).toMatch(/^EcsTaskRestartapirestartRunbookUndeliveredEvents/);
  });

  test('every route carries a policy, and a dead-letter queue of the stack', () => {
    for (const route of ruleTargets(template, stack, ENV)) {
      expect(route.retryPolicy.maximumRetryAttempts).toBe(10);
      expect(route.deadLetterQueue).toBeDefined();
    }
  });
});

describe('eventBridgeRetryDelays', () => {
  test("medic's targets: 10 retries, doubling from 1 s", () => {
    expect(eventBridgeRetryDelays({ maximumRetryAttempts: 10, maximumEventAgeSeconds: 7200 })).toEqual([1, 3, 7, 15, 31, 63, 127, 255, 511, 1023]);
  });
  test('no retry later than the maximum event age, and none for a target that does not retry', () => {
    expect(eventBridgeRetryDelays({ maximumRetryAttempts: 10, maximumEventAgeSeconds: 100 })).toEqual([1, 3, 7, 15, 31, 63]);
    expect(eventBridgeRetryDelays({ maximumRetryAttempts: 0, maximumEventAgeSeconds: 7200 })).toEqual([]);
  });
  test("EventBridge's default policy: waits capped at 512 s, so its retries fill its 24 hours", () => {
    const delays = eventBridgeRetryDelays(DEFAULT_RETRY_POLICY);
    expect(delays.at(-1)).toBeLessThanOrEqual(86_400);
    expect(86_400 - delays.at(-1)!).toBeLessThan(512);
    expect(delays.length).toBeLessThanOrEqual(185);
    expect(delays.slice(9, 11)).toEqual([1023, 1535]);
  });
});

describe('matchesPattern content filters', () => {
  test('$or: one alternative must match, besides the other fields', () => {
    const pattern = { source: ['s'], $or: [{ a: ['1'] }, { b: ['2'] }] };
    expect(matchesPattern(pattern, { source: 's', a: '1' })).toBe(true);
    expect(matchesPattern(pattern, { source: 's', b: '2' })).toBe(true);
    expect(matchesPattern(pattern, { source: 's', a: '2', b: '1' })).toBe(false);
    expect(matchesPattern(pattern, { source: 'x', a: '1' })).toBe(false);
  });
  test('anything-but: a value or a list; a missing field does not match', () => {
    expect(matchesPattern({ e: [{ 'anything-but': 'x' }] }, { e: 'y' })).toBe(true);
    expect(matchesPattern({ e: [{ 'anything-but': 'x' }] }, { e: 'x' })).toBe(false);
    expect(matchesPattern({ e: [{ 'anything-but': ['x', 'y'] }] }, { e: 'y' })).toBe(false);
    expect(matchesPattern({ e: [{ 'anything-but': ['x', 'y'] }] }, { e: null })).toBe(true);
    expect(matchesPattern({ e: [{ 'anything-but': ['x'] }] }, {})).toBe(false);
  });
  test('prefix, on a value or any element of a list', () => {
    expect(matchesPattern({ source: [{ prefix: 'aws.' }] }, { source: 'aws.acm' })).toBe(true);
    expect(matchesPattern({ source: [{ prefix: 'aws.' }] }, { source: 'custom' })).toBe(false);
    expect(matchesPattern({ resources: [{ prefix: 'arn:aws:ecs:' }] }, { resources: ['arn:aws:ec2:x', 'arn:aws:ecs:y'] })).toBe(true);
  });
  test('exists: true and false, nested too', () => {
    expect(matchesPattern({ detail: { error: [{ exists: true }] } }, { detail: { error: null } })).toBe(true);
    expect(matchesPattern({ detail: { error: [{ exists: true }] } }, { detail: {} })).toBe(false);
    expect(matchesPattern({ detail: { error: [{ exists: false }] } }, { detail: {} })).toBe(true);
    expect(matchesPattern({ detail: { error: [{ exists: false }] } }, {})).toBe(true);
  });
  test('other forms are an error naming the form, not a silent match or miss', () => {
    expect(() => matchesPattern({ n: [{ numeric: ['>', 0] }] }, { n: 1 })).toThrow(/field n uses the content filter "numeric", which the game day does not support/);
    expect(() => matchesPattern({ s: [{ suffix: '.png' }] }, { s: 'a.png' })).toThrow(/"suffix"/);
    expect(() => matchesPattern({ s: [{ 'anything-but': { prefix: 'a' } }] }, { s: 'b' })).toThrow(/anything-but/);
    expect(() => matchesPattern({ $or: { a: ['1'] } }, { a: '1' })).toThrow(/\$or is not a list of patterns/);
    expect(() => matchesPattern({ source: 'aws.acm' }, { source: 'aws.acm' })).toThrow(/not a list or an object/);
  });
});

describe('target input (InputTransformer, Input)', () => {
  const rule = { name: 'R', arn: 'arn:aws:events:eu-west-1:111111111111:rule/R' };
  const event = { time: 't', detail: { name: 'n"1', count: 3, nested: { a: 1 } } };
  test('placeholders in a JSON template: strings quoted outside string literals, escaped inside', () => {
    expect(fillTemplate('{"n": <n>, "c": <c>, "t": "<n> x<c>", "m": <missing>}', { n: 'n"1', c: 3, missing: undefined })).toBe('{"n": "n\\"1", "c": 3, "t": "n\\"1 x3", "m": null}');
    expect(JSON.parse(fillTemplate('{"o": <o>}', { o: { a: 1 } }))).toEqual({ o: { a: 1 } });
  });
  test('paths and predefined variables', () => {
    const target = { InputTransformer: { InputPathsMap: { name: '$.detail.name', a: '$.detail.nested.a' }, InputTemplate: '"<name> <a> <aws.events.rule-name> <unknown>"' } };
    expect(renderTargetInput(target, event, rule)).toBe('"n\\"1 1 R <unknown>"');
  });
  test('a constant Input is published as it is; with none, the whole event', () => {
    expect(renderTargetInput({ Input: '"text"' }, event, rule)).toBe('"text"');
    expect(JSON.parse(renderTargetInput({}, event, rule))).toEqual(event);
    expect(JSON.parse(renderTargetInput({ InputPath: '$.detail.nested' }, event, rule))).toEqual({ a: 1 });
  });
});
