import type { FaultRule } from './scenario';

/**
 * What an injected fault does to one call:
 * - `error`: the call fails with that AWS error and has no effect;
 * - `timeout-after-effect`: the call takes effect, then the caller sees a timeout (it cannot know it did);
 * - `latency`: the answer comes `seconds` of simulated time late;
 * - `timeout-while-running` (Lambda invocations only): Step Functions sees the invocation time out
 *   while the handler goes on running, so a retry overlaps it.
 */
export type FaultEffect =
  | { readonly kind: 'error'; readonly error: string }
  | { readonly kind: 'timeout-after-effect' }
  | { readonly kind: 'latency'; readonly seconds: number }
  | { readonly kind: 'timeout-while-running' };

/** One call as the rules see it: what is called, on what, by whom, when. */
export interface FaultedCall {
  /** IAM service prefix (`ecs`, `dynamodb`, `lambda`, ...). */
  readonly service: string;
  readonly operation: string;
  /** The names the call is about: every text value of its input, a table name, a task state... */
  readonly targets: readonly string[];
  /** The runbook whose execution makes the call, when known. */
  readonly runbook?: string;
}

/** The error SDK v3 throws when a request timed out (transient: its retry strategy retries it). */
export const TIMEOUT_ERROR = 'TimeoutError';

/** A rule's `target` names the call's resource: equal to one of its names, or the last segment of an ARN or path. */
export function targetMatches(target: string, names: readonly string[]): boolean {
  return names.some((name) => name === target || name.endsWith(`/${target}`) || name.endsWith(`:${target}`));
}

/** Every text value in a call's input, at any depth: what a `target` may name. */
export function textValues(input: unknown, into: string[] = []): string[] {
  if (typeof input === 'string') into.push(input);
  else if (Array.isArray(input)) for (const v of input) textValues(v, into);
  else if (input && typeof input === 'object' && !(input instanceof Uint8Array)) for (const v of Object.values(input)) textValues(v, into);
  return into;
}

/**
 * The scenario's fault rules, applied call by call. A rule counts the calls it matches (its
 * operation, target, runbook, inside its window); the first `after` of them go through, the next
 * `times` get its effect, and later ones go through again. The first matching rule with an effect
 * left decides; every matching rule counts the call.
 */
export class FaultRules {
  private readonly state: Array<{ readonly rule: FaultRule; seen: number; applied: number }>;

  constructor(rules: readonly FaultRule[], private readonly startedAtMs: number, private readonly now: () => number) {
    this.state = rules.map((rule) => ({ rule, seen: 0, applied: 0 }));
  }

  /** The effect injected into this call, if any (and counts the call against every rule it matches). */
  decide(call: FaultedCall): FaultEffect | undefined {
    let effect: FaultEffect | undefined;
    for (const s of this.state) {
      if (!this.matches(s.rule, call)) continue;
      s.seen++;
      if (effect || s.seen <= s.rule.after || s.applied >= s.rule.times) continue;
      s.applied++;
      effect = s.rule.effect;
    }
    return effect;
  }

  /** How many calls each rule affected, for the report (a rule that never fired is a scenario that did not test what it says). */
  applied(): Array<{ readonly rule: FaultRule; readonly applied: number }> {
    return this.state.map((s) => ({ rule: s.rule, applied: s.applied }));
  }

  private matches(rule: FaultRule, call: FaultedCall): boolean {
    if (rule.operation !== `${call.service}:${call.operation}`) return false;
    if (rule.runbook !== undefined && rule.runbook !== call.runbook) return false;
    if (rule.target !== undefined && !targetMatches(rule.target, call.targets)) return false;
    if (rule.window) {
      const from = this.startedAtMs + rule.window.from * 1000;
      const now = this.now();
      if (now < from || (rule.window.for !== undefined && now >= from + rule.window.for * 1000)) return false;
    }
    return true;
  }
}
