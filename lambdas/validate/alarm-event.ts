import { sha256Hex } from '../shared/canonical-json';
import type { RunbookSpec, Target, Trigger } from '../shared/types';

/** Events larger than this are rejected unread: an alarm state change is a few KB. */
export const MAX_EVENT_BYTES = 64 * 1024;

const ALARM_ARN = /^arn:(aws|aws-cn|aws-us-gov):cloudwatch:([a-z0-9-]+):(\d{12}):alarm:(.{1,255})$/;

export type ParsedAlarm =
  | {
    readonly ok: true; readonly trigger: Trigger; readonly target: Target; readonly incidentId: string;
    /** CloudWatch suppressed or muted the alarm's actions for this change: medic records it and does not act. */
    readonly suppressed?: string;
  }
  | { readonly ok: false; readonly reason: string };

const reject = (reason: string): ParsedAlarm => ({ ok: false, reason });

/** Why `value` is too large (or not serialisable) to be read, or undefined when it may be read. */
export function sizeProblem(value: unknown, what: string, limit: number): string | undefined {
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return `${what} cannot be serialised as JSON`;
  }
  return size > limit ? `${what} is ${size} bytes, over the ${limit}-byte limit` : undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What kind of alarm the event describes (its `configuration`), and its metric dimensions merged across metrics; differing values conflict. */
interface AlarmShape {
  /**
   * `metric`: one metric (`metricStat`); `math`: several metrics or an expression (metric math,
   * anomaly detection); `insights`: a Metrics Insights query; `composite`: an alarm rule over other
   * alarms (no metric, no dimension).
   */
  readonly kind: 'metric' | 'math' | 'insights' | 'composite';
  readonly dims: Record<string, string>;
  readonly conflict?: string;
}

function alarmShape(detail: Record<string, unknown>): AlarmShape {
  const configuration = isObject(detail.configuration) ? detail.configuration : {};
  if (typeof configuration.alarmRule === 'string') return { kind: 'composite', dims: {} };
  const metrics = Array.isArray(configuration.metrics) ? configuration.metrics.filter(isObject) : [];
  const dims: Record<string, string> = {};
  for (const metric of metrics) {
    const stat = isObject(metric.metricStat) ? metric.metricStat : undefined;
    const dimensions = stat && isObject(stat.metric) && isObject(stat.metric.dimensions) ? stat.metric.dimensions : {};
    for (const [name, value] of Object.entries(dimensions)) {
      if (typeof value !== 'string') continue;
      if (dims[name] !== undefined && dims[name] !== value) {
        return { kind: 'math', dims, conflict: `the alarm's metrics disagree on dimension ${name} ("${dims[name]}" vs "${value}")` };
      }
      dims[name] = value;
    }
  }
  const insights = metrics.some((m) => typeof m.expression === 'string' && /\bSELECT\b/i.test(m.expression));
  const kind = insights ? 'insights' : metrics.length === 1 && isObject(metrics[0].metricStat) ? 'metric' : 'math';
  return { kind, dims };
}

const KIND_NAMES: Record<AlarmShape['kind'], string> = {
  metric: 'a single-metric alarm', math: 'a metric-math or anomaly-detection alarm', insights: 'a Metrics Insights alarm', composite: 'a composite alarm',
};

/**
 * CloudWatch tells in the event when the alarm's actions are not to run: a composite alarm's
 * actions suppressor (`state.actionsSuppressedBy`: WaitPeriod, ExtensionPeriod or Alarm) or an
 * alarm mute rule (`muteDetail`). medic honours both like the alarm's own actions would.
 */
function suppression(detail: Record<string, unknown>): string | undefined {
  const state = isObject(detail.state) ? detail.state : {};
  if (typeof state.actionsSuppressedBy === 'string' && state.actionsSuppressedBy) {
    const why = typeof state.actionsSuppressedReason === 'string' ? `: ${state.actionsSuppressedReason.slice(0, 300)}` : '';
    return `the alarm's actions are suppressed (${state.actionsSuppressedBy})${why}`;
  }
  const mute = detail.muteDetail;
  if (mute !== undefined && mute !== null && !(isObject(mute) && Object.keys(mute).length === 0)) {
    const rule = isObject(mute) ? (mute.muteRuleName ?? mute.muteRuleArn ?? mute.ruleName) : undefined;
    return `the alarm is muted${typeof rule === 'string' ? ` by rule ${rule.slice(0, 200)}` : ''}`;
  }
  return undefined;
}

function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, key: string) => {
    if (values[key] === undefined) throw new Error(`template placeholder {${key}} has no value`);
    return values[key];
  });
}

/** `20261122T031722Z`: sortable, readable, and safe in keys and execution names. */
export function compactTime(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d+/, '').replace(/\+0000$/, 'Z');
}

/**
 * Turns an EventBridge "CloudWatch Alarm State Change" event into a trigger and a target, or
 * says in words why it cannot. The incident id is derived from runbook, alarm and state
 * timestamp, so redelivery of the same transition yields the same incident.
 */
export function parseAlarmEvent(event: unknown, runbook: RunbookSpec): ParsedAlarm {
  const tooLarge = sizeProblem(event, 'the event', MAX_EVENT_BYTES);
  if (tooLarge) return reject(`${tooLarge} for alarm events`);
  if (!isObject(event)) return reject('the event is not a JSON object');
  if (event.source !== 'aws.cloudwatch' || event['detail-type'] !== 'CloudWatch Alarm State Change') {
    return reject(`not a CloudWatch alarm state change (source "${String(event.source)}", detail-type "${String(event['detail-type'])}")`);
  }
  if (!isObject(event.detail)) return reject('the event\'s detail is not a JSON object');
  const detail = event.detail;
  const resources = Array.isArray(event.resources) ? event.resources : [];
  if (resources.length !== 1 || typeof resources[0] !== 'string') return reject('the event must name exactly one alarm ARN in resources');
  const arnMatch = ALARM_ARN.exec(resources[0]);
  if (!arnMatch) return reject(`"${resources[0].slice(0, 300)}" is not a CloudWatch alarm ARN`);
  const [alarmArn, partition, region, account, alarmName] = arnMatch;
  if (account !== runbook.account || event.account !== runbook.account) {
    return reject(`the alarm is in account ${String(event.account)}/${account}; runbook ${runbook.name} acts only in account ${runbook.account}`);
  }
  if (region !== runbook.region || event.region !== runbook.region) {
    return reject(`the alarm is in region ${String(event.region)}/${region}; runbook ${runbook.name} acts only in region ${runbook.region}`);
  }
  if (partition !== runbook.partition) return reject(`the alarm is in partition ${partition}; expected ${runbook.partition}`);
  if (!runbook.alarmArns.includes(alarmArn)) return reject(`alarm ${alarmArn} is not attached to runbook ${runbook.name}`);
  const state = isObject(detail.state) ? detail.state : {};
  if (state.value !== 'ALARM') return reject(`the alarm's new state is ${String(state.value)}; runbooks act only on ALARM`);
  const timestamp = typeof state.timestamp === 'string' ? state.timestamp : '';
  const at = Date.parse(timestamp.replace(/\+0000$/, 'Z'));
  if (!timestamp || Number.isNaN(at)) return reject(`the alarm state timestamp "${timestamp}" is not a date`);

  const { kind, dims, conflict } = alarmShape(detail);
  if (conflict) return reject(conflict);
  const spec = runbook.target;
  if (!spec) return reject(`runbook ${runbook.name} is not started by alarms`);
  // Verification that reads the alarm's own metric cannot prove anything for other kinds: refuse before acting.
  if (spec.singleMetricAlarms && kind !== 'metric') {
    return reject(`alarm ${alarmName} is ${KIND_NAMES[kind]}; runbook ${runbook.name} verifies by reading the alarm's one metric, so it acts only on single-metric alarms`);
  }
  const wanted = Object.keys(spec.dimensions);
  const missing = wanted.filter((name) => dims[name] === undefined);
  const alias = spec.aliases?.find((a) => Object.entries(a.dimensions).every(([name, value]) => dims[name] === value));
  const present = Object.entries(dims).map(([name, value]) => `${name}=${value.slice(0, 200)}`).join(', ');
  let values: Record<string, string>;
  if (missing.length > 0 && alias) {
    values = { ...alias.target };
  } else if (missing.length === 0) {
    values = Object.fromEntries(wanted.map((name) => [name, dims[name]]));
  } else if (missing.length === wanted.length && spec.allowed.length === 1 && kind === 'metric' && present === '') {
    // Only a single-metric alarm with no dimension at all says nothing about which resource it watches.
    values = { ...spec.allowed[0] };
  } else if (present) {
    return reject(`the alarm has no ${missing.join(', ')} dimension; its dimensions (${present}) name another resource${spec.aliases ? ' or an unmapped one' : ''}, `
      + `so runbook ${runbook.name} does not guess its target`);
  } else {
    return reject(`the alarm (${KIND_NAMES[kind]}) has no ${missing.join(', ')} dimension, and runbook ${runbook.name} falls back to its single configured target `
      + 'only for a single-metric alarm without dimensions');
  }
  for (const name of wanted) {
    if (!new RegExp(`^(?:${spec.dimensions[name]})$`).test(values[name])) {
      return reject(`dimension ${name} "${values[name].slice(0, 300)}" is not a valid ${spec.type} name`);
    }
  }
  if (!spec.allowedByTag && !spec.allowed.some((allowed) => wanted.every((name) => allowed[name] === values[name]))) {
    return reject(`${spec.type} ${render(spec.idTemplate, values)} is not in runbook ${runbook.name}'s allow-list`);
  }
  const placeholders = { ...values, region, account, partition };
  const trigger: Trigger = {
    kind: 'alarm',
    source: alarmArn,
    name: alarmName,
    at: new Date(at).toISOString(),
    reason: typeof state.reason === 'string' ? state.reason.slice(0, 1000) : undefined,
  };
  const target: Target = {
    type: spec.type,
    id: render(spec.idTemplate, values),
    arn: render(spec.arnTemplate, placeholders),
    region,
    account,
    dimensions: values,
  };
  const digest = sha256Hex(`${runbook.name}|${alarmArn}|${timestamp}`).slice(0, 12);
  const suppressed = suppression(detail);
  return { ok: true, trigger, target, incidentId: `${runbook.name}-${compactTime(trigger.at)}-${digest}`, ...(suppressed ? { suppressed } : {}) };
}
