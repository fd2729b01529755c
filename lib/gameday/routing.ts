import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { TemplateResolver, runbooksOf, stateMachineId, type LocalEnv } from '../local/template-workflow';

/** An EventBridge rule of the stack that starts a runbook's state machine. */
export interface RuleRoute {
  readonly rule: string;
  readonly runbook: string;
  readonly pattern: Record<string, unknown>;
}

/**
 * The stack's rules that target a runbook state machine, read from the synthesized template. A
 * pattern naming resources of the same stack (an alarm defined next to the runbook: a GetAtt of its
 * ARN) is resolved to the ARNs those resources get in the simulated account.
 */
export function ruleTargets(template: Template, stack: Stack, env: LocalEnv): RuleRoute[] {
  const machines = new Map(runbooksOf(stack).map((r) => [stateMachineId(stack, r.name), r.name]));
  const resolver = new TemplateResolver(template.toJSON().Resources, env);
  const routes: RuleRoute[] = [];
  for (const [rule, resource] of Object.entries(template.findResources('AWS::Events::Rule'))) {
    if (!resource.Properties?.EventPattern) continue;
    const pattern = resolver.resolve(resource.Properties.EventPattern) as Record<string, unknown>;
    for (const target of resource.Properties?.Targets ?? []) {
      const runbook = machines.get(target.Arn?.Ref);
      if (runbook) routes.push({ rule, runbook, pattern });
    }
  }
  return routes;
}

/**
 * EventBridge matching for the patterns medic synthesizes: every field of the pattern must
 * match; a list matches a value in it (or, for a list in the event, any element in it); an
 * object matches field by field. Other pattern forms (prefix, numeric, ...) are not used by medic.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const fields = event as Record<string, unknown>;
  return Object.entries(pattern).every(([key, wanted]) => {
    const value = fields[key];
    if (Array.isArray(wanted)) {
      if (wanted.some((w) => typeof w === 'object' && w !== null)) throw new Error(`event pattern field ${key} uses a content filter the game day does not support`);
      return Array.isArray(value) ? value.some((v) => wanted.includes(v)) : wanted.includes(value);
    }
    if (typeof wanted === 'object' && wanted !== null) return matchesPattern(wanted as Record<string, unknown>, value);
    throw new Error(`event pattern field ${key} is not a list or an object`);
  });
}
