import type { Stack } from 'aws-cdk-lib';
import { CfnRule } from 'aws-cdk-lib/aws-events';
import type { Template } from 'aws-cdk-lib/assertions';
import { TemplateResolver, runbooksOf, stateMachineId, type LocalEnv } from '../local/template-workflow';
import { renderTargetInput, type TargetInput } from './event-input';

export { matchesPattern } from './event-pattern';

/** How long and how often EventBridge retries a target whose call failed (the target's `RetryPolicy`). */
export interface RetryPolicy {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
}

/** EventBridge's policy for a target that sets none: 185 retries within 24 hours. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 };

/** An EventBridge rule of the stack that starts a runbook's state machine. */
export interface RuleRoute {
  readonly rule: string;
  readonly runbook: string;
  readonly pattern: Record<string, unknown>;
  /** The target's retry policy (EventBridge's default when it sets none). */
  readonly retryPolicy: RetryPolicy;
  /** Logical id of the target's dead-letter queue, when it has one in the stack. */
  readonly deadLetterQueue?: string;
}

/** A rule of the stack that publishes to one of its SNS topics (a runbook's timed-out backstop). */
export interface TopicRule {
  readonly rule: string;
  /** Logical id of the topic. */
  readonly topic: string;
  /** The runbook whose construct made the rule, if one did. */
  readonly runbook?: string;
  readonly pattern: Record<string, unknown>;
  readonly retryPolicy: RetryPolicy;
  readonly deadLetterQueue?: string;
  /** The message EventBridge publishes for a matched event (its target's input applied to it). */
  render(event: Record<string, unknown>): string;
}

/** The logical id a `Ref` or `Fn::GetAtt` names, if the value is one. */
function logicalIdOf(value: any): string | undefined {
  if (typeof value?.Ref === 'string') return value.Ref;
  const getAtt = value?.['Fn::GetAtt'];
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

function retryPolicyOf(target: any): RetryPolicy {
  return {
    maximumRetryAttempts: target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_RETRY_POLICY.maximumRetryAttempts,
    maximumEventAgeSeconds: target.RetryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_RETRY_POLICY.maximumEventAgeSeconds,
  };
}

/** Each event-pattern rule of the template with its resolved pattern, and each of its targets. */
function patternRules(template: Template, resolver: TemplateResolver): Array<{ rule: string; pattern: Record<string, unknown>; targets: any[] }> {
  return Object.entries(template.findResources('AWS::Events::Rule'))
    .filter(([, resource]) => resource.Properties?.EventPattern)
    .map(([rule, resource]) => ({
      rule,
      pattern: resolver.resolve(resource.Properties.EventPattern) as Record<string, unknown>,
      targets: resource.Properties.Targets ?? [],
    }));
}

/**
 * The stack's rules that target a runbook state machine, read from the synthesized template. A
 * pattern naming resources of the same stack (an alarm defined next to the runbook: a GetAtt of its
 * ARN) is resolved to the ARNs those resources get in the simulated account. Each route carries
 * its target's retry policy and dead-letter queue (a queue outside the stack is not simulated).
 */
export function ruleTargets(template: Template, stack: Stack, env: LocalEnv): RuleRoute[] {
  const machines = new Map(runbooksOf(stack).map((r) => [stateMachineId(stack, r.name), r.name]));
  const resolver = new TemplateResolver(template.toJSON().Resources, env);
  const routes: RuleRoute[] = [];
  for (const { rule, pattern, targets } of patternRules(template, resolver)) {
    for (const target of targets) {
      const runbook = machines.get(target.Arn?.Ref);
      if (!runbook) continue;
      const deadLetterQueue = logicalIdOf(target.DeadLetterConfig?.Arn);
      routes.push({ rule, runbook, pattern, retryPolicy: retryPolicyOf(target), ...(deadLetterQueue ? { deadLetterQueue } : {}) });
    }
  }
  return routes;
}

/** Logical id of each rule a runbook construct made, to its runbook's name. */
function rulesByRunbook(stack: Stack): Map<string, string> {
  const owners = new Map<string, string>();
  for (const runbook of runbooksOf(stack)) {
    for (const rule of runbook.node.findAll().filter((c): c is CfnRule => c instanceof CfnRule)) {
      owners.set(stack.resolve(rule.logicalId) as string, runbook.name);
    }
  }
  return owners;
}

/**
 * The stack's event-pattern rules whose target is one of its SNS topics (the runbooks' backstop
 * rules on executions that timed out, were aborted or failed without escalating), each with the
 * message EventBridge would publish for a matched event.
 */
export function topicRules(template: Template, stack: Stack, env: LocalEnv): TopicRule[] {
  const resources = template.toJSON().Resources as Record<string, any>;
  const resolver = new TemplateResolver(resources, env);
  const owners = rulesByRunbook(stack);
  const rules: TopicRule[] = [];
  for (const { rule, pattern, targets } of patternRules(template, resolver)) {
    const identity = { name: rule, arn: String(resolver.resolve({ 'Fn::GetAtt': [rule, 'Arn'] })) };
    for (const target of targets) {
      const topic = target.Arn?.Ref;
      if (resources[topic]?.Type !== 'AWS::SNS::Topic') continue;
      const input = resolver.resolve({ Input: target.Input, InputPath: target.InputPath, InputTransformer: target.InputTransformer }) as TargetInput;
      const deadLetterQueue = logicalIdOf(target.DeadLetterConfig?.Arn);
      rules.push({
        rule, topic, pattern, retryPolicy: retryPolicyOf(target),
        ...(owners.has(rule) ? { runbook: owners.get(rule) } : {}),
        ...(deadLetterQueue ? { deadLetterQueue } : {}),
        render: (event) => renderTargetInput(input, event, identity),
      });
    }
  }
  return rules;
}

/** First retry's delay, doubled for each next retry. */
export const RETRY_BASE_SECONDS = 1;
/** Longest wait between two retries: with it, the default policy's 185 retries take about its 24 hours, as AWS describes. */
export const RETRY_MAX_INTERVAL_SECONDS = 512;

/**
 * When EventBridge retries a target whose call failed: the simulated times, in seconds after the
 * first attempt (made when the event arrived, so they are also the event's age), of each retry.
 * The wait before retry n is `min(RETRY_BASE_SECONDS × 2^(n-1), RETRY_MAX_INTERVAL_SECONDS)`
 * (1, 2, 4, ... 512 s): at most `maximumRetryAttempts` retries, none later than
 * `maximumEventAgeSeconds`. When the last one fails too, the event goes to the dead-letter queue
 * (or is dropped). A simplification: AWS documents exponential backoff with jitter but neither its
 * base nor its cap, so the game day uses this fixed, jitter-free schedule to stay deterministic;
 * medic's targets (10 retries, 2 hours) retry at 1, 3, 7, ... 1023 s.
 */
export function eventBridgeRetryDelays(policy: RetryPolicy): number[] {
  const times: number[] = [];
  let at = 0;
  for (let n = 0; n < policy.maximumRetryAttempts; n++) {
    at += Math.min(RETRY_BASE_SECONDS * 2 ** n, RETRY_MAX_INTERVAL_SECONDS);
    if (at > policy.maximumEventAgeSeconds) break;
    times.push(at);
  }
  return times;
}
