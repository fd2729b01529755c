import { MEDIC_NAMESPACE } from '../platform/self-monitoring';

/** Something the game day sees happen that a self-alarm counts (resources by logical id). */
export type AlarmFact =
  /** A function's invocation ended in an unhandled error (Lambda `Errors`). */
  | { readonly kind: 'function-error'; readonly functionId: string }
  /** An execution hit its state machine's timeout (Step Functions `ExecutionsTimedOut`). */
  | { readonly kind: 'execution-timed-out'; readonly stateMachineId: string }
  /** An execution ended FAILED without an escalation or a refused input (`failed - escalations - refused`). */
  | { readonly kind: 'execution-failed-unescalated'; readonly stateMachineId: string }
  /** A message arrived in a queue (SQS `ApproximateNumberOfMessagesVisible`): an event EventBridge could not deliver. */
  | { readonly kind: 'dead-letter'; readonly queueId: string }
  /** A topic failed to deliver a message to a subscriber (SNS `NumberOfNotificationsFailed`). */
  | { readonly kind: 'notification-failed'; readonly topicId: string };

/** The resource a fact is about, by logical id. */
export function factResource(fact: AlarmFact): string {
  switch (fact.kind) {
    case 'function-error': return fact.functionId;
    case 'execution-timed-out':
    case 'execution-failed-unescalated': return fact.stateMachineId;
    case 'dead-letter': return fact.queueId;
    case 'notification-failed': return fact.topicId;
  }
}

/** The logical id a dimension value names (a Ref, or a GetAtt of `attribute`) if it is a resource of `type`. */
function resourceOf(value: any, type: string, resources: Record<string, any>, attribute?: string): string | undefined {
  const getAtt = value?.['Fn::GetAtt'];
  const id = attribute ? (Array.isArray(getAtt) && getAtt[1] === attribute ? getAtt[0] : undefined) : value?.Ref;
  return typeof id === 'string' && resources[id]?.Type === type ? id : undefined;
}

/** The value of a metric's dimensions when they are exactly `name` (CloudWatch matches the whole set). */
function only(dimensions: any[] | undefined, name: string): unknown {
  return dimensions?.length === 1 && dimensions[0].Name === name ? dimensions[0].Value : undefined;
}

/**
 * Whether one occurrence (a datapoint of 1) breaches and none (0) does not: what makes an alarm a
 * pager on "anything counted", the only alarms the game day can evaluate from facts.
 */
function oneOccurrenceBreaches(operator: string, threshold: number): boolean {
  if (operator === 'GreaterThanThreshold') return threshold >= 0 && threshold < 1;
  if (operator === 'GreaterThanOrEqualToThreshold') return threshold > 0 && threshold <= 1;
  return false;
}

/** The fact a single-metric alarm counts, or why it is not simulated. */
function classifyMetric(p: Record<string, any>, resources: Record<string, any>): AlarmFact | string {
  if (p.ExtendedStatistic !== undefined || !['Sum', 'Maximum'].includes(p.Statistic)) {
    return `it uses the statistic ${p.ExtendedStatistic ?? p.Statistic}; the game day simulates Sum and Maximum of counts`;
  }
  const unknown = (what: string) => `it watches ${p.Namespace} ${p.MetricName} of ${what} that is not a resource of the stack (or with other dimensions)`;
  switch (`${p.Namespace} ${p.MetricName}`) {
    case 'AWS/Lambda Errors': {
      const functionId = resourceOf(only(p.Dimensions, 'FunctionName'), 'AWS::Lambda::Function', resources);
      return functionId ? { kind: 'function-error', functionId } : unknown('a function');
    }
    case 'AWS/States ExecutionsTimedOut': {
      const stateMachineId = resourceOf(only(p.Dimensions, 'StateMachineArn'), 'AWS::StepFunctions::StateMachine', resources);
      return stateMachineId ? { kind: 'execution-timed-out', stateMachineId } : unknown('a state machine');
    }
    case 'AWS/SQS ApproximateNumberOfMessagesVisible': {
      const queueId = resourceOf(only(p.Dimensions, 'QueueName'), 'AWS::SQS::Queue', resources, 'QueueName');
      return queueId ? { kind: 'dead-letter', queueId } : unknown('a queue');
    }
    case 'AWS/SNS NumberOfNotificationsFailed': {
      const topicId = resourceOf(only(p.Dimensions, 'TopicName'), 'AWS::SNS::Topic', resources, 'TopicName');
      return topicId ? { kind: 'notification-failed', topicId } : unknown('a topic');
    }
  }
  return `it watches ${p.Namespace} ${p.MetricName}, which the game day does not produce`;
}

/**
 * The fact of a metric-math alarm of the form medic writes, `FILL(failed, 0) - FILL(escalations, 0)
 * - FILL(refused, 0)` (a state machine's ExecutionsFailed less Medic's Escalations and
 * InputsRefused), or why it is not simulated.
 */
function classifyMath(metrics: any[], resources: Record<string, any>): AlarmFact | string {
  const expressions = metrics.filter((m) => m.Expression !== undefined);
  const returned = metrics.filter((m) => m.ReturnData !== false);
  if (expressions.length !== 1 || returned.length !== 1 || returned[0] !== expressions[0]) return 'its metric math has more than one expression';
  const expression = String(expressions[0].Expression);
  const refused = `its metric math "${expression}" is not failed executions less escalations and refused inputs`;
  const stats = new Map(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat]));
  const terms = expression.split('-').map((t) => /^\s*(?:FILL\(\s*(\w+)\s*,\s*0\s*\)|(\w+))\s*$/.exec(t)).map((m) => stats.get(m?.[1] ?? m?.[2]));
  if (terms.some((t) => t === undefined)) return refused;
  const [failed, ...subtracted] = terms;
  const stateMachineId = resourceOf(only(failed.Metric.Dimensions, 'StateMachineArn'), 'AWS::StepFunctions::StateMachine', resources);
  if (failed.Metric.Namespace !== 'AWS/States' || failed.Metric.MetricName !== 'ExecutionsFailed' || !stateMachineId || !['Sum', 'Maximum'].includes(failed.Stat)) return refused;
  const less = subtracted.filter((s) => s.Metric.Namespace === MEDIC_NAMESPACE).map((s) => s.Metric.MetricName).sort();
  if (less.length !== subtracted.length || less.join() !== 'Escalations,InputsRefused') return refused;
  return { kind: 'execution-failed-unescalated', stateMachineId };
}

/**
 * What an alarm's template properties (unresolved: its dimensions name resources by Ref or
 * GetAtt) count, as a fact kind, or why the game day cannot simulate it: it must treat missing data
 * as not breaching, page on one datapoint and on any occurrence (`> 0`), and watch one of the
 * metrics above.
 */
export function classifyAlarm(p: Record<string, any>, resources: Record<string, any>): AlarmFact | string {
  if (p.TreatMissingData !== 'notBreaching') return `it treats missing data as ${p.TreatMissingData ?? 'missing'}; the game day simulates notBreaching only`;
  const datapoints = p.DatapointsToAlarm ?? p.EvaluationPeriods;
  if (datapoints !== 1) return `it needs ${datapoints} breaching datapoints; the game day simulates alarms on one`;
  if (!oneOccurrenceBreaches(p.ComparisonOperator, p.Threshold)) return `it compares ${p.ComparisonOperator} ${p.Threshold}; the game day simulates alarms on any occurrence (> 0)`;
  return p.Metrics ? classifyMath(p.Metrics, resources) : classifyMetric(p, resources);
}
