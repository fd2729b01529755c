import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseConfig, type MedicConfig } from '../config';
import { parseDuration } from './duration';

/**
 * A game-day scenario: which runbooks (a medic config), the simulated world they act on, what
 * happens when (timeline), what goes wrong on purpose (faults), and what must come of it
 * (expectations). The format is documented in docs/gameday.md.
 */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Simulated start time. */
  readonly start: Date;
  /** The reference app's configuration, or undefined when `app` builds the stack. */
  readonly config?: MedicConfig;
  /** A module exporting `gameDayStack(app)`, which builds the stack with your own CDK code (absolute path). */
  readonly app?: string;
  /** Modules exporting `install(world)`, simulating services your own runbooks call (absolute paths). */
  readonly services: string[];
  readonly world: WorldSpec;
  readonly timeline: TimelineEvent[];
  readonly faults: Fault[];
  readonly expect: Expectations;
  /** Stop a scenario still running after this much simulated time. */
  readonly limitSeconds: number;
  readonly file?: string;
}

/** Everything the simulated AWS holds, by service; each service module reads its own part. */
export interface WorldSpec {
  readonly alarms?: Record<string, AlarmSpec>;
  readonly [service: string]: unknown;
}

export interface AlarmSpec {
  /** @default 'OK' */
  readonly state?: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly namespace?: string;
  readonly metric?: string;
  /** Metric dimensions: they name the alarm's target in the events it sends. */
  readonly dimensions?: Record<string, string>;
  readonly threshold?: number;
  /** Back to OK this long after a runbook's call of `when` (e.g. `ecs:UpdateService`); absent: never. */
  readonly recovers?: { readonly when: string; readonly after: number };
}

export type TimelineEvent =
  | { readonly at: number; readonly kind: 'alarm'; readonly alarm: string; readonly deliveries: number }
  | { readonly at: number; readonly kind: 'kill-switch'; readonly value: 'on' | 'off'; readonly runbook?: string }
  | { readonly at: number; readonly kind: 'change-calendar'; readonly state: 'OPEN' | 'CLOSED' }
  | { readonly at: number; readonly kind: 'start'; readonly runbook: string; readonly input: Record<string, unknown> }
  | { readonly at: number; readonly kind: 'event'; readonly source: string; readonly detailType: string; readonly resources: string[]; readonly detail: Record<string, unknown>; readonly deliveries: number }
  /** The ledger reconciler runs (as its schedule would run it), in simulated time. */
  | { readonly at: number; readonly kind: 'reconcile' };

/** An API call that fails on purpose: `times` times from the first call, or every call in a window. */
export type Fault =
  | { readonly kind: 'api'; readonly operation: string; readonly error: string; readonly times: number }
  /** DynamoDB answers 503 from `from` for `for`; with `after`, from the moment that mutating call (`ecs:UpdateService`) first succeeds. */
  | { readonly kind: 'dynamodb-unavailable'; readonly from: number; readonly for: number; readonly after?: string };

export type Outcome = 'resolved' | 'observed' | 'deferred' | 'no-action-needed' | 'escalated' | 'denied' | 'rejected' | 'duplicate' | 'suppressed' | 'reconciled' | 'incomplete';
export const OUTCOMES: readonly Outcome[] = ['resolved', 'observed', 'deferred', 'no-action-needed', 'escalated', 'denied', 'rejected', 'duplicate', 'suppressed', 'reconciled', 'incomplete'];

export interface Expectations {
  /** Incidents by runbook and outcome: `count` of them (default: at least one... exactly `count` when given). */
  readonly incidents: Array<{ readonly runbook: string; readonly outcome: Outcome; readonly count?: number }>;
  /** Mutating calls by `service:Operation`, exactly this many. */
  readonly calls: Record<string, number>;
  /** Total incidents (duplicates included), when given. */
  readonly totalIncidents?: number;
  /** Messages to the escalation topic (escalations and reports), exactly, when given. */
  readonly notifications?: number;
  /** Leases still held by an incident when the scenario ends (expired holds that nobody released included), exactly, when given. */
  readonly leasesHeld?: number;
}

const DEFAULT_START = '2026-11-22T03:17:00Z';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(value: Json, allowed: string[], where: string): void {
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new Error(`${where}: unknown key(s) ${unknown.join(', ')} (known: ${allowed.join(', ')})`);
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`${where}: must be a non-empty string`);
  return value;
}

function count(value: unknown, where: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`${where}: must be a whole number`);
  return value;
}

function readEvent(raw: unknown, where: string): TimelineEvent {
  if (!isObject(raw)) throw new Error(`${where}: must be an object`);
  const at = parseDuration(raw.at ?? 0, `${where}.at`);
  const kinds = ['alarm', 'killSwitch', 'changeCalendar', 'start', 'event', 'reconcile'].filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) throw new Error(`${where}: give exactly one of alarm, killSwitch, changeCalendar, start, event, reconcile (got ${kinds.join(', ') || 'none'})`);
  switch (kinds[0]) {
    case 'reconcile':
      only(raw, ['at', 'reconcile'], where);
      if (raw.reconcile !== true) throw new Error(`${where}.reconcile: must be true`);
      return { at, kind: 'reconcile' };
    case 'alarm':
      only(raw, ['at', 'alarm', 'deliveries'], where);
      return { at, kind: 'alarm', alarm: text(raw.alarm, `${where}.alarm`), deliveries: count(raw.deliveries, `${where}.deliveries`, 1) };
    case 'killSwitch':
      only(raw, ['at', 'killSwitch', 'runbook'], where);
      if (raw.killSwitch !== 'on' && raw.killSwitch !== 'off') throw new Error(`${where}.killSwitch: must be on or off`);
      return { at, kind: 'kill-switch', value: raw.killSwitch, ...(raw.runbook !== undefined ? { runbook: text(raw.runbook, `${where}.runbook`) } : {}) };
    case 'changeCalendar':
      only(raw, ['at', 'changeCalendar'], where);
      if (raw.changeCalendar !== 'OPEN' && raw.changeCalendar !== 'CLOSED') throw new Error(`${where}.changeCalendar: must be OPEN or CLOSED`);
      return { at, kind: 'change-calendar', state: raw.changeCalendar };
    case 'start': {
      only(raw, ['at', 'start'], where);
      const start = raw.start;
      if (!isObject(start)) throw new Error(`${where}.start: must be { runbook, input }`);
      only(start, ['runbook', 'input'], `${where}.start`);
      if (!isObject(start.input)) throw new Error(`${where}.start.input: must be an object (the execution input)`);
      return { at, kind: 'start', runbook: text(start.runbook, `${where}.start.runbook`), input: start.input };
    }
    default: {
      only(raw, ['at', 'event', 'deliveries'], where);
      const event = raw.event;
      if (!isObject(event)) throw new Error(`${where}.event: must be { source, detailType, resources, detail }`);
      only(event, ['source', 'detailType', 'resources', 'detail'], `${where}.event`);
      if (!Array.isArray(event.resources)) throw new Error(`${where}.event.resources: must be a list of ARNs`);
      return {
        at, kind: 'event', source: text(event.source, `${where}.event.source`), detailType: text(event.detailType, `${where}.event.detailType`),
        resources: event.resources.map((r, i) => text(r, `${where}.event.resources[${i}]`)), detail: isObject(event.detail) ? event.detail : {},
        deliveries: count(raw.deliveries, `${where}.deliveries`, 1),
      };
    }
  }
}

function readFault(raw: unknown, where: string): Fault {
  if (!isObject(raw)) throw new Error(`${where}: must be an object`);
  if (raw.dynamodb !== undefined) {
    only(raw, ['dynamodb', 'from', 'for', 'after'], where);
    if (raw.dynamodb !== 'unavailable') throw new Error(`${where}.dynamodb: only "unavailable" is supported`);
    if (raw.after !== undefined && raw.from !== undefined) throw new Error(`${where}: give from or after, not both`);
    const after = raw.after === undefined ? undefined : text(raw.after, `${where}.after`);
    if (after !== undefined && !/^[a-z0-9-]+:[A-Za-z]+$/.test(after)) throw new Error(`${where}.after: "${after}" is not service:Operation (e.g. ecs:UpdateService)`);
    return { kind: 'dynamodb-unavailable', from: parseDuration(raw.from ?? 0, `${where}.from`), for: parseDuration(raw.for, `${where}.for`), ...(after ? { after } : {}) };
  }
  only(raw, ['operation', 'error', 'times'], where);
  const operation = text(raw.operation, `${where}.operation`);
  if (!/^[a-z0-9-]+:[A-Za-z]+$/.test(operation)) throw new Error(`${where}.operation: "${operation}" is not service:Operation (e.g. ecs:UpdateService)`);
  return { kind: 'api', operation, error: text(raw.error, `${where}.error`), times: count(raw.times, `${where}.times`, 1) };
}

function readAlarms(raw: unknown, where: string): Record<string, AlarmSpec> {
  if (raw === undefined) return {};
  if (!isObject(raw)) throw new Error(`${where}: must map alarm names to alarms`);
  const alarms: Record<string, AlarmSpec> = {};
  for (const [name, spec] of Object.entries(raw)) {
    const at = `${where}.${name}`;
    if (!isObject(spec)) throw new Error(`${at}: must be an object`);
    only(spec, ['state', 'namespace', 'metric', 'dimensions', 'threshold', 'recovers'], at);
    let recovers: AlarmSpec['recovers'];
    if (spec.recovers !== undefined && spec.recovers !== 'never') {
      if (!isObject(spec.recovers)) throw new Error(`${at}.recovers: must be { when: service:Operation, after: duration } or never`);
      only(spec.recovers, ['when', 'after'], `${at}.recovers`);
      recovers = { when: text(spec.recovers.when, `${at}.recovers.when`), after: parseDuration(spec.recovers.after, `${at}.recovers.after`) };
    }
    alarms[name] = { ...(spec as AlarmSpec), recovers };
  }
  return alarms;
}

function readExpectations(raw: unknown, where: string): Expectations {
  if (raw === undefined) return { incidents: [], calls: {} };
  if (!isObject(raw)) throw new Error(`${where}: must be an object`);
  only(raw, ['incidents', 'calls', 'totalIncidents', 'notifications', 'leasesHeld'], where);
  const incidents = (Array.isArray(raw.incidents) ? raw.incidents : raw.incidents === undefined ? [] : [null]).map((item, i) => {
    const at = `${where}.incidents[${i}]`;
    if (!isObject(item)) throw new Error(`${at}: must be { runbook, outcome, count? }`);
    only(item, ['runbook', 'outcome', 'count'], at);
    if (!OUTCOMES.includes(item.outcome as Outcome)) throw new Error(`${at}.outcome: must be one of ${OUTCOMES.join(', ')}`);
    return { runbook: text(item.runbook, `${at}.runbook`), outcome: item.outcome as Outcome, ...(item.count !== undefined ? { count: count(item.count, `${at}.count`, 1) } : {}) };
  });
  const calls: Record<string, number> = {};
  if (raw.calls !== undefined) {
    if (!isObject(raw.calls)) throw new Error(`${where}.calls: must map service:Operation to a count`);
    for (const [operation, n] of Object.entries(raw.calls)) calls[operation] = count(n, `${where}.calls.${operation}`, 0);
  }
  return {
    incidents,
    calls,
    ...(raw.totalIncidents !== undefined ? { totalIncidents: count(raw.totalIncidents, `${where}.totalIncidents`, 0) } : {}),
    ...(raw.notifications !== undefined ? { notifications: count(raw.notifications, `${where}.notifications`, 0) } : {}),
    ...(raw.leasesHeld !== undefined ? { leasesHeld: count(raw.leasesHeld, `${where}.leasesHeld`, 0) } : {}),
  };
}

/** Reads and checks a scenario; errors name the file and the offending key. Module paths are relative to `baseDir`. */
export function parseScenario(textContent: string, file = 'scenario', baseDir = process.cwd()): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(textContent);
  } catch (error) {
    throw new Error(`${file}: not valid YAML (${(error as Error).message})`, { cause: error });
  }
  if (!isObject(raw)) throw new Error(`${file}: must be a mapping`);
  only(raw, ['name', 'description', 'start', 'config', 'app', 'services', 'world', 'timeline', 'faults', 'expect', 'limit'], file);
  const start = new Date(String(raw.start ?? DEFAULT_START));
  if (Number.isNaN(start.getTime())) throw new Error(`${file}.start: "${String(raw.start)}" is not a date`);
  if ((raw.config === undefined) === (raw.app === undefined)) throw new Error(`${file}: give either config (the reference app) or app (a module building your stack)`);
  if (raw.config !== undefined && !isObject(raw.config)) throw new Error(`${file}.config: must be a medic configuration (as bin/medic.config.example.json)`);
  const config = raw.config === undefined ? undefined : parseConfig(JSON.stringify(raw.config), `${file}.config`);
  const modulePath = (value: unknown, where: string) => path.resolve(baseDir, text(value, where));
  if (raw.services !== undefined && !Array.isArray(raw.services)) throw new Error(`${file}.services: must list module paths`);
  const world = isObject(raw.world) ? raw.world : {};
  if (!Array.isArray(raw.timeline) || raw.timeline.length === 0) throw new Error(`${file}.timeline: must list at least one event`);
  return {
    name: text(raw.name, `${file}.name`),
    description: typeof raw.description === 'string' ? raw.description : '',
    start,
    ...(config ? { config } : { app: modulePath(raw.app, `${file}.app`) }),
    services: ((raw.services ?? []) as unknown[]).map((m, i) => modulePath(m, `${file}.services[${i}]`)),
    world: { ...world, alarms: readAlarms(world.alarms, `${file}.world.alarms`) },
    timeline: raw.timeline.map((e, i) => readEvent(e, `${file}.timeline[${i}]`)).sort((a, b) => a.at - b.at),
    faults: (Array.isArray(raw.faults) ? raw.faults : []).map((f, i) => readFault(f, `${file}.faults[${i}]`)),
    expect: readExpectations(raw.expect, `${file}.expect`),
    limitSeconds: parseDuration(raw.limit ?? '7d', `${file}.limit`),
    file,
  };
}

export function loadScenario(file: string): Scenario {
  if (!fs.existsSync(file)) throw new Error(`scenario ${file} does not exist`);
  return parseScenario(fs.readFileSync(file, 'utf8'), path.relative(process.cwd(), file) || file, path.dirname(path.resolve(file)));
}
