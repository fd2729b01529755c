import { TemplateResolver, type LocalEnv } from '../local/template-workflow';
import { REFUSED_INPUT_ERROR } from '../platform/runbook-workflow';
import { alarmNotification, type AlarmDefinition } from './alarm-message';
import { classifyAlarm, factResource, type AlarmFact } from './self-alarm-kinds';

export type { AlarmFact } from './self-alarm-kinds';

/** An alarm of the stack that notifies one of its SNS topics, and the fact that sets it off. */
export interface SelfAlarm {
  /** Logical id. */
  readonly id: string;
  readonly name: string;
  readonly arn: string;
  /** Logical ids of the stack's topics among its AlarmActions. */
  readonly topics: string[];
  readonly watches: AlarmFact;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
}

/** An alarm that notifies a topic but watches what the game day does not simulate. */
export interface UnsimulatedAlarm {
  readonly id: string;
  readonly name: string;
  readonly reason: string;
}

/** A notification to publish: what CloudWatch sends a topic of an alarm action. */
export interface AlarmPage {
  /** Logical id of the alarm. */
  readonly alarm: string;
  /** Logical id and ARN of the topic. */
  readonly topic: string;
  readonly topicArn: string;
  /** ISO time of the state change. */
  readonly at: string;
  readonly subject: string;
  readonly message: string;
}

/** An alarm's state, for the report. */
export interface SelfAlarmState {
  readonly alarm: string;
  readonly name: string;
  readonly watches: AlarmFact;
  readonly state: 'OK' | 'ALARM';
  /** ISO time of the last change (none while it has been OK from the start). */
  readonly since?: string;
  /** How many times it went to ALARM (and published). */
  readonly pages: number;
}

interface Status {
  state: 'OK' | 'ALARM';
  since?: number;
  lastFact?: number;
  periodStart?: number;
  countInPeriod: number;
  pages: number;
}

const factKey = (fact: AlarmFact): string => `${fact.kind}:${factResource(fact)}`;

/**
 * The facts CloudWatch would count when an execution ends: `ExecutionsTimedOut` for TIMED_OUT, and for
 * the self-alarm on `failed - escalations - refused`, a FAILED execution whose error is neither
 * `Medic.Escalated` nor `Medic.InputRefused` (Escalate counts `Escalations` only after the topic
 * accepted its message, and Validate counts `InputsRefused`, so those two cancel their failure).
 * A simplification: CloudWatch subtracts per 5-minute period, and a failure and its escalation
 * written on both sides of a boundary could skew one period; the game day ignores that.
 */
export function executionEndFacts(stateMachineId: string, status: string, error?: string): AlarmFact[] {
  if (status === 'TIMED_OUT') return [{ kind: 'execution-timed-out', stateMachineId }];
  if (status === 'FAILED' && error !== 'Medic.Escalated' && error !== REFUSED_INPUT_ERROR) return [{ kind: 'execution-failed-unescalated', stateMachineId }];
  return [];
}

/** A GetAtt of a queue's or topic's name is its logical id in the simulated account (as its Ref says). */
function withNames(value: any, resources: Record<string, any>): any {
  if (Array.isArray(value)) return value.map((v) => withNames(v, resources));
  if (value === null || typeof value !== 'object') return value;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && ['QueueName', 'TopicName'].includes(getAtt[1]) && resources[getAtt[0]]) return getAtt[0];
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withNames(v, resources)]));
}

const logicalId = (value: any): string | undefined => (typeof value?.Ref === 'string' ? value.Ref : undefined);

/**
 * The stack's alarms that notify one of its SNS topics (medic's self-alarms all notify the
 * escalation topic), simulated on the facts the game day sees: `record(fact, atMs)` returns the
 * notifications CloudWatch would publish then. Every such alarm is either simulated (`alarms`) or
 * listed with the reason it is not (`unsimulated`).
 *
 * Simplifications, each documented in docs/gameday.md:
 * - An alarm goes to ALARM at the moment of its fact (CloudWatch would after the period ends and
 *   its evaluation runs, a minute or so later), and publishes once to each of its topics.
 * - It stays in ALARM while facts keep coming and goes back to OK at the end of the first
 *   EvaluationPeriods whole periods (aligned to the clock, as CloudWatch's are) with no fact: missing
 *   data is not breaching. Only then does a new fact page again. OK actions are not published.
 * - A dead-letter queue alarm stays in ALARM: the message stays visible (nobody receives from the
 *   queue in a game day), so the metric keeps breaching.
 * - An alarm without an AlarmName is named after its logical id, the name the offline resolver
 *   gives every unnamed resource (so its ARN is the one rules and policies resolve to), where
 *   CloudFormation would generate `<stack>-<logical id>-<suffix>`.
 */
export class SelfAlarms {
  readonly alarms: SelfAlarm[] = [];
  readonly unsimulated: UnsimulatedAlarm[] = [];
  private readonly status = new Map<string, Status>();
  private readonly definitions = new Map<string, AlarmDefinition & { actions: { ok: string[]; alarm: string[]; insufficientData: string[] }; statistic?: string }>();

  private readonly resolver: TemplateResolver;

  constructor(resources: Record<string, any>, env: LocalEnv) {
    const resolver = this.resolver = new TemplateResolver(resources, env);
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
      const raw = resource.Properties ?? {};
      const actions: any[] = raw.AlarmActions ?? [];
      const topics = actions.map(logicalId).filter((t): t is string => t !== undefined && resources[t]?.Type === 'AWS::SNS::Topic');
      let properties: Record<string, any>;
      try {
        properties = resolver.resolve(withNames(raw, resources)) as Record<string, any>;
      } catch (error) {
        if (topics.length > 0) this.unsimulated.push({ id, name: id, reason: `its properties do not resolve offline: ${(error as Error).message}` });
        continue;
      }
      const outside = (properties.AlarmActions as unknown[] ?? []).filter((a, i) => String(a).startsWith('arn:aws:sns:') && !topics.includes(logicalId(actions[i])!));
      // Not an alarm that notifies anyone (an application alarm that starts a runbook): not a self-alarm.
      if (topics.length === 0 && outside.length === 0) continue;
      const name = String(properties.AlarmName ?? id);
      const skip = (reason: string) => this.unsimulated.push({ id, name, reason });
      if (topics.length === 0) { skip(`it notifies only topics outside the stack (${outside.join(', ')})`); continue; }
      if (properties.ActionsEnabled === false) { skip('its actions are disabled (ActionsEnabled false): it never pages'); continue; }
      const watches = classifyAlarm(raw, resources);
      if (typeof watches === 'string') { skip(watches); continue; }
      const periodSeconds = Number(properties.Period ?? Math.max(...(properties.Metrics as any[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Period)));
      const alarm: SelfAlarm = {
        id, name, arn: String(resolver.resolve({ 'Fn::GetAtt': [id, 'Arn'] })), topics, watches, periodSeconds, evaluationPeriods: Number(properties.EvaluationPeriods),
      };
      this.alarms.push(alarm);
      this.status.set(id, { state: 'OK', countInPeriod: 0, pages: 0 });
      const list = (key: string) => ((properties[key] ?? []) as unknown[]).map(String);
      this.definitions.set(id, {
        name, arn: alarm.arn, description: properties.AlarmDescription, account: env.account, region: env.region, properties, periodSeconds,
        actions: { ok: list('OKActions'), alarm: list('AlarmActions'), insufficientData: list('InsufficientDataActions') }, statistic: properties.Statistic,
      });
    }
  }

  /** The alarms that watch a fact (none: nothing pages for it). */
  watching(fact: AlarmFact): SelfAlarm[] {
    return this.alarms.filter((a) => factKey(a.watches) === factKey(fact));
  }

  /**
   * Records that `fact` happened at simulated time `atMs` (facts come in time order); returns the
   * notifications to publish now: one per topic of each watching alarm that went from OK to ALARM.
   */
  record(fact: AlarmFact, atMs: number): AlarmPage[] {
    const pages: AlarmPage[] = [];
    for (const alarm of this.watching(fact)) {
      const status = this.settled(alarm, atMs);
      const periodMs = alarm.periodSeconds * 1000;
      const periodStart = Math.floor(atMs / periodMs) * periodMs;
      status.countInPeriod = status.periodStart === periodStart ? status.countInPeriod + 1 : 1;
      status.periodStart = periodStart;
      status.lastFact = Math.max(status.lastFact ?? atMs, atMs);
      if (status.state === 'ALARM') continue;
      Object.assign(status, { state: 'ALARM', since: atMs, pages: status.pages + 1 });
      const definition = this.definitions.get(alarm.id)!;
      // Sum counts the period's facts; Maximum of a count (queue depth) is one.
      const value = definition.statistic === 'Maximum' ? 1 : status.countInPeriod;
      const { subject, message } = alarmNotification(definition, atMs, value, periodStart, definition.actions);
      for (const topic of alarm.topics) {
        const topicArn = String(this.resolver.resolve({ Ref: topic }));
        pages.push({ alarm: alarm.id, topic, topicArn, at: new Date(atMs).toISOString(), subject, message });
      }
    }
    return pages;
  }

  /** Each simulated alarm's state at `atMs` (default: as of the last fact recorded). */
  states(atMs?: number): SelfAlarmState[] {
    return this.alarms.map((alarm) => {
      const status = atMs === undefined ? this.status.get(alarm.id)! : this.settled(alarm, atMs);
      return {
        alarm: alarm.id, name: alarm.name, watches: alarm.watches, state: status.state, pages: status.pages,
        ...(status.since !== undefined ? { since: new Date(status.since).toISOString() } : {}),
      };
    });
  }

  /** The alarm's status at `atMs`: back to OK once EvaluationPeriods whole periods after its last fact's passed without one. */
  private settled(alarm: SelfAlarm, atMs: number): Status {
    const status = this.status.get(alarm.id)!;
    if (status.state !== 'ALARM' || status.lastFact === undefined || alarm.watches.kind === 'dead-letter') return status;
    const periodMs = alarm.periodSeconds * 1000;
    const okAt = (Math.floor(status.lastFact / periodMs) + 1 + alarm.evaluationPeriods) * periodMs;
    if (atMs >= okAt) Object.assign(status, { state: 'OK', since: okAt });
    return status;
  }
}
