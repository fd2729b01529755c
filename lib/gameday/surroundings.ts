import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { LocalEnv, LocalExecution } from '../local/template-workflow';
import { eventBridgeRetryDelays, matchesPattern, ruleTargets, topicRules, type RuleRoute, type TopicRule } from './routing';
import { SelfAlarms, executionEndFacts, type AlarmFact, type SelfAlarmState, type UnsimulatedAlarm } from './self-alarms';
import type { World } from './world';

/** An event EventBridge gave up on: it went to the target's dead-letter queue. */
export interface DeadLetter {
  readonly at: string;
  readonly rule: string;
  readonly runbook: string;
  readonly queue?: string;
  readonly error: string;
  readonly event: Record<string, unknown>;
}

/** What the surroundings left, for the report. */
export interface SurroundingsRecord {
  readonly deadLetters: DeadLetter[];
  readonly selfAlarms: SelfAlarmState[];
  readonly unsimulatedAlarms: UnsimulatedAlarm[];
}

/**
 * What surrounds the workflows and matters to safety (docs/gameday.md, "Retries, the backstop and
 * the self-alarms"): EventBridge delivering an event to each runbook whose rule matches it, with the
 * target's retries and dead-letter queue when Step Functions refuses the StartExecution (a
 * `states:StartExecution` fault rule); the backstop rule paging an execution that ended without
 * escalating; and the stack's self-alarms, paging through the escalation topic as CloudWatch does.
 */
export class Surroundings {
  readonly deadLetters: DeadLetter[] = [];
  private readonly routes: RuleRoute[];
  private readonly backstops: TopicRule[];
  private readonly alarms: SelfAlarms;

  constructor(
    template: Template, stack: Stack, private readonly env: LocalEnv, private readonly world: World,
    /** Starts an execution of the runbook's state machine with the event as its input. */
    private readonly start: (runbook: string, input: Record<string, unknown>) => void,
  ) {
    this.routes = ruleTargets(template, stack, env);
    this.backstops = topicRules(template, stack, env);
    this.alarms = new SelfAlarms(template.toJSON().Resources, env);
    const topic = Object.entries(template.findResources('AWS::SNS::Topic'))[0]?.[0];
    if (topic) world.onDeliveryFailure(() => this.record({ kind: 'notification-failed', topicId: topic }));
  }

  /** EventBridge receives `event` (`deliveries` times: a duplicate delivery is a second copy). */
  put(event: Record<string, unknown>, deliveries: number): void {
    for (const route of this.routes.filter((r) => matchesPattern(r.pattern, event))) {
      for (let d = 0; d < deliveries; d++) this.deliver(route, event, [0, ...eventBridgeRetryDelays(route.retryPolicy)], this.world.clock.now());
    }
  }

  /** An execution ended: the backstop rules see its status change, and the self-alarms its metrics. */
  executionEnded(stateMachineId: string, executionArn: string, name: string, result: LocalExecution): void {
    const detail = {
      executionArn, stateMachineArn: `arn:aws:states:${this.env.region}:${this.env.account}:stateMachine:${stateMachineId}`, name, status: result.status,
      ...(result.error ? { error: result.error.name, cause: result.error.message } : {}),
    };
    const now = new Date().toISOString();
    const event = {
      version: '0', id: `gameday-status-${name}`, 'detail-type': 'Step Functions Execution Status Change', source: 'aws.states',
      account: this.env.account, time: now, region: this.env.region, resources: [executionArn], detail,
    };
    for (const backstop of this.backstops.filter((b) => matchesPattern(b.pattern, event))) {
      this.world.notify({ at: now, message: backstop.render(event) });
    }
    for (const fact of executionEndFacts(stateMachineId, result.status, result.error?.name)) this.record(fact);
  }

  /** A function's invocation ended in an unhandled error (its `Errors` metric). */
  functionFailed(functionId: string): void {
    this.record({ kind: 'function-error', functionId });
  }

  /** What the report shows of the surroundings. */
  snapshot(): SurroundingsRecord {
    return { deadLetters: this.deadLetters, selfAlarms: this.alarms.states(this.world.clock.now()), unsimulatedAlarms: this.alarms.unsimulated };
  }

  private record(fact: AlarmFact): void {
    for (const page of this.alarms.record(fact, this.world.clock.now())) this.world.notify({ at: page.at, subject: page.subject, message: page.message });
  }

  /**
   * One attempt to start the route's runbook (EventBridge's StartExecution, under the scenario's
   * `states:StartExecution` fault rules), then the next at its retry time; after the last, the
   * dead-letter queue. A timeout after effect started the execution, and EventBridge retries it
   * anyway: a second execution for one event, as at-least-once delivery allows.
   */
  private deliver(route: RuleRoute, event: Record<string, unknown>, attempts: number[], firstMs: number): void {
    const [, ...later] = attempts;
    const effect = this.world.faults.decide({ service: 'states', operation: 'StartExecution', targets: [route.runbook, route.rule], runbook: route.runbook });
    if (effect?.kind === 'latency') {
      this.world.clock.schedule(this.world.clock.now() + effect.seconds * 1000, () => this.start(route.runbook, event));
      return;
    }
    if (effect?.kind !== 'error') this.start(route.runbook, event);
    if (effect === undefined) return;
    if (later.length > 0) {
      this.world.clock.schedule(firstMs + later[0] * 1000, () => this.deliver(route, event, later, firstMs));
      return;
    }
    this.deadLetters.push({
      at: new Date().toISOString(), rule: route.rule, runbook: route.runbook, error: effect.kind === 'error' ? effect.error : effect.kind, event,
      ...(route.deadLetterQueue ? { queue: route.deadLetterQueue } : {}),
    });
    if (route.deadLetterQueue) this.record({ kind: 'dead-letter', queueId: route.deadLetterQueue });
  }
}
