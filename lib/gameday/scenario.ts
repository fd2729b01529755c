import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { issueLines, oneLine, requiredOr, showValue, strictObject, withClosestKey } from '../config-issues';
import { medicConfigSchema, type MedicConfig } from '../config';
import type { Phase } from '../../lambdas/shared/ledger';
import { parseDuration } from './duration';
import type { FaultEffect } from './faults';

/**
 * A game-day scenario: which runbooks (a medic config), the simulated world they act on, what
 * happens when (timeline), what goes wrong on purpose (faults), and what must come of it
 * (expectations). The format is documented in docs/gameday.md.
 *
 * One zod schema ({@link scenarioSchema}) checks a scenario file and is the source of the types of
 * its parts (alarms, timeline events, faults, expectations). Every object is strict: an unknown or
 * misspelt key is an error naming it, never silently ignored. The world's services (other than
 * `alarms`) check their own parts when they are installed; the schema checks that `world` holds
 * only parts some service reads ({@link WORLD_KEYS}, or keys a scenario's own services module declares).
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

/**
 * The top-level keys of a scenario's `world`: each is the part one simulated service reads
 * (lib/gameday/services). The one list of them: a key not here (nor declared by the scenario's
 * own services module) is a scenario error. test/unit/scenario.test.ts checks it against what
 * the service modules read.
 */
export const WORLD_KEYS = {
  alarms: 'CloudWatch alarms (services/core.ts; checked by the scenario schema)',
  ecs: 'ECS services (services/ecs.ts)',
  autoScaling: 'Auto Scaling groups (services/auto-scaling.ts)',
  rds: 'RDS instances and Aurora clusters (services/rds.ts)',
  ec2: 'EC2 instances and their disks (services/ec2-disk.ts)',
  acm: 'ACM certificates and Route 53 zones (services/acm.ts)',
} as const;

/** Everything the simulated AWS holds, by service; each service module reads its own part. */
export interface WorldSpec {
  readonly alarms?: Record<string, AlarmSpec>;
  readonly [service: string]: unknown;
}

export type Outcome = 'resolved' | 'observed' | 'deferred' | 'no-action-needed' | 'escalated' | 'denied' | 'rejected' | 'duplicate' | 'suppressed' | 'reconciled' | 'swept' | 'incomplete';
export const OUTCOMES: readonly Outcome[] = ['resolved', 'observed', 'deferred', 'no-action-needed', 'escalated', 'denied', 'rejected', 'duplicate', 'suppressed', 'reconciled', 'swept', 'incomplete'];

const DEFAULT_START = '2026-11-22T03:17:00Z';

// ---- building blocks ----

const object = <T extends z.ZodRawShape>(shape: T, expected?: string) => strictObject(shape, 'key', expected);
const text = () => z.string({ error: requiredOr('must be a non-empty string') }).min(1, { error: 'must be a non-empty string' });
const WHOLE = 'must be a whole number';
const count = () => z.number({ error: requiredOr(WHOLE) }).int({ error: WHOLE }).nonnegative({ error: WHOLE });
const jsonObject = (expected: string) => z.record(z.string(), z.unknown(), { error: requiredOr(expected) });
const OPERATION = /^[a-z0-9-]+:[A-Za-z]+$/;
const operation = () => z.string({ error: requiredOr('must be service:Operation (e.g. ecs:UpdateService)') })
  .regex(OPERATION, { error: (issue) => `${showValue(issue.input)} is not service:Operation (e.g. ecs:UpdateService)` });
const DURATION = 'like 90s, 2m, 1h30m, or a number of seconds';
/** `90s`, `2m`, `1h30m`, `1d` or a number of seconds, as seconds. */
const duration = () => z.union([z.number(), z.string()], { error: requiredOr(`must be a duration (${DURATION})`) }).transform((value, ctx) => {
  try {
    return parseDuration(value, '');
  } catch {
    ctx.addIssue({ code: 'custom', message: `${showValue(value)} is not a duration (${DURATION})` });
    return z.NEVER;
  }
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An object that is one of several kinds, told apart by which key it has (`alarm:`,
 * `killSwitch:`, ...): exactly one must be present, and that kind's schema checks the rest (its
 * errors are the kind's own, not a union's "no option matched").
 */
function oneOfKeys<B extends Record<string, z.ZodType>>(branches: B) {
  type K = keyof B & string;
  const keys = Object.keys(branches) as K[];
  const expected = `give exactly one of ${keys.join(', ')}`;
  return z.unknown().transform((value, ctx): z.output<B[K]> => {
    if (!isObject(value)) {
      ctx.addIssue({ code: 'custom', message: `must be an object: ${expected}` });
      return z.NEVER;
    }
    const present = keys.filter((k) => value[k] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `${expected} (got ${present.join(', ') || 'none'})` });
      return z.NEVER;
    }
    const result = branches[present[0]].safeParse(value, { reportInput: true });
    if (result.success) return result.data as z.output<B[K]>;
    for (const issue of result.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  });
}

// ---- world ----

const alarmSchema = object({
  /** @default 'OK' */
  state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA'], { error: requiredOr('must be one of OK, ALARM, INSUFFICIENT_DATA') }).optional(),
  namespace: text().optional(),
  metric: text().optional(),
  /** Metric dimensions: they name the alarm's target in the events it sends. */
  dimensions: z.record(z.string(), z.string({ error: 'must be a string (quote it)' }), { error: requiredOr('must map dimension names to values') }).optional(),
  threshold: z.number({ error: requiredOr('must be a number') }).optional(),
  /** Back to OK this long after a runbook's call of `when` (e.g. `ecs:UpdateService`); absent or `never`: never. */
  recovers: z.union([
    z.literal('never'),
    object({ when: operation(), after: duration() }),
  ], { error: requiredOr('must be { when: service:Operation, after: duration } or never') }).optional()
    .transform((r) => (r === 'never' ? undefined : r)),
});
export type AlarmSpec = z.output<typeof alarmSchema>;

/** A services module of your own, and the `world` keys it reads. */
const serviceSchema = z.union([
  text(),
  object({ module: text(), world: z.array(text(), { error: requiredOr('must list the world keys the module reads') }) }),
], { error: requiredOr('must be a module path, or { module: <path>, world: [<keys it reads>] }') });

const worldSchema = z.looseObject({
  alarms: z.record(z.string(), alarmSchema, { error: requiredOr('must map alarm names to alarms') }).optional(),
}, { error: requiredOr('must be an object: each service\'s part of the simulated AWS') });

// ---- timeline ----

/** Every phase a ledger entry can record (lambdas/shared/ledger.ts), for `ledger.phases`. */
const PHASE_NAMES: Record<Phase, true> = {
  received: true, rejected: true, duplicate: true, admitted: true, denied: true, planned: true, deferred: true,
  'approval-requested': true, approved: true, 'approval-rejected': true, 'approval-expired': true,
  acting: true, acted: true, 'act-failed': true, checked: true, verified: true, 'verification-failed': true, 'rolled-back': true, 'rollback-failed': true,
  escalated: true, completed: true, swept: true, suppressed: true, digested: true, 'digest-sent': true, reconciled: true,
};
const PHASES = Object.keys(PHASE_NAMES) as Phase[];
const phase = () => z.enum(PHASES as [Phase, ...Phase[]], { error: requiredOr(`must be a phase: ${PHASES.join(', ')}`) });

/**
 * `when:` instead of `at:` - the event happens the moment an incident reaches a phase (its ledger
 * entry is written) or a runbook's mutating call succeeds, before the handler goes on: "between
 * Admit and Act", "right after the mutation". `runbook` narrows it to one runbook's incidents,
 * `occurrence` picks the n-th time (default the first), `delay` waits that long after it.
 */
const whenSchema = object({
  phase: phase().optional(),
  call: operation().optional(),
  runbook: text().optional(),
  occurrence: z.number({ error: requiredOr(WHOLE) }).int({ error: WHOLE }).min(1, { error: 'must be 1 or more' }).default(1),
  delay: duration().default(0),
}, 'must be { phase | call, runbook?, occurrence?, delay? }').superRefine((w, ctx) => {
  if ((w.phase === undefined) === (w.call === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of phase (a ledger phase) or call (service:Operation)' });
});
export type Trigger = z.output<typeof whenSchema>;

const at = () => duration().default(0);
const deliveries = () => count().default(1);

const timelineEventSchema = oneOfKeys({
  // The alarm goes to `state` (default ALARM) and CloudWatch sends the state change (the runbooks' rules take ALARM ones only).
  alarm: object({
    at: at(), alarm: text(), deliveries: deliveries(),
    state: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA'], { error: requiredOr('must be one of ALARM, OK, INSUFFICIENT_DATA') }).default('ALARM'),
  }).transform((e) => ({ at: e.at, kind: 'alarm' as const, alarm: e.alarm, state: e.state, deliveries: e.deliveries })),
  /** A resource changes: `{ <world key>: <that service's change> }` (docs/gameday.md lists each service's). */
  change: object({ at: at(), change: jsonObject('must be { <world key>: <the change> }, e.g. { ecs: { service: api, delete: true } }') }).transform((e, ctx) => {
    const keys = Object.keys(e.change);
    if (keys.length !== 1 || !isObject(e.change[keys[0]])) {
      ctx.addIssue({ code: 'custom', path: ['change'], message: `must name one world key with its change (got ${keys.join(', ') || 'none'}), e.g. { ecs: { service: api, delete: true } }` });
      return z.NEVER;
    }
    return { at: e.at, kind: 'change' as const, service: keys[0], change: e.change[keys[0]] as Record<string, unknown> };
  }),
  // Any value (only exactly "off" lets runbooks act: "Off", " off" and "" stop them), or the parameter deleted, or unreadable (AccessDenied).
  killSwitch: object({
    at: at(),
    killSwitch: z.union([
      z.string(),
      object({ deleted: z.literal(true, { error: 'must be true' }) }),
      object({ unreadable: z.literal(true, { error: 'must be true' }) }),
    ], { error: 'must be a value (on, off or any text), { deleted: true } or { unreadable: true }' }),
    runbook: text().optional(),
  })
    .transform((e) => ({ at: e.at, kind: 'kill-switch' as const, value: e.killSwitch, ...(e.runbook !== undefined ? { runbook: e.runbook } : {}) })),
  changeCalendar: object({ at: at(), changeCalendar: z.enum(['OPEN', 'CLOSED'], { error: 'must be OPEN or CLOSED' }) })
    .transform((e) => ({ at: e.at, kind: 'change-calendar' as const, state: e.changeCalendar })),
  start: object({ at: at(), start: object({ runbook: text(), input: jsonObject('must be an object (the execution input)') }, 'must be { runbook, input }') })
    .transform((e) => ({ at: e.at, kind: 'start' as const, runbook: e.start.runbook, input: e.start.input })),
  event: object({
    at: at(),
    event: object({
      source: text(),
      detailType: text(),
      resources: z.array(text(), { error: requiredOr('must be a list of ARNs') }),
      detail: jsonObject('must be an object (the event\'s detail)').default({}),
      // What the event itself claims (default: the stack's account and region, a fresh id, the delivery time).
      account: z.string({ error: requiredOr('must be an account id (text)') }).optional(),
      region: text().optional(),
      id: text().optional(),
      /** The event's `time`, from the scenario's simulated start (`at: 30m` with `time: 5m` delivers an event 25 minutes old). */
      time: duration().optional(),
    }, 'must be { source, detailType, resources, detail, account?, region?, id?, time? }'),
    deliveries: deliveries(),
  }).transform((e) => ({ at: e.at, kind: 'event' as const, ...e.event, deliveries: e.deliveries })),
  /**
   * A person answers an approval request (mode approve): through the approval endpoint, signed in
   * as `as` (a role session or user ARN), approving the plan it shows (or `planHash: stale`, one
   * it does not show any more) or rejecting it with a reason.
   */
  approve: object({ at: at(), approve: object({ as: text(), runbook: text().optional(), comment: text().optional(), planHash: z.literal('stale', { error: 'must be stale (leave it out to approve the plan shown)' }).optional() }, 'must be { as, runbook?, comment?, planHash? }') })
    .transform((e) => ({ at: e.at, kind: 'approval' as const, decision: 'approve' as const, ...e.approve })),
  reject: object({ at: at(), reject: object({ as: text(), runbook: text().optional(), reason: text() }, 'must be { as, reason, runbook? }') })
    .transform((e) => ({ at: e.at, kind: 'approval' as const, decision: 'reject' as const, ...e.reject })),
  /** A runbook's sweep runs (as its schedule would run it): the Auto Scaling health-check runbook with `sweep` set. */
  sweep: object({ at: at(), sweep: text() }).transform((e) => ({ at: e.at, kind: 'sweep' as const, runbook: e.sweep })),
  /** The ledger reconciler runs (as its schedule would run it), in simulated time. */
  reconcile: object({ at: at(), reconcile: z.literal(true, { error: 'must be true' }) })
    .transform((e) => ({ at: e.at, kind: 'reconcile' as const })),
});
/** A timeline event with its time: `at` (from the start) or `when` (a trigger). */
const timelineEntrySchema = z.unknown().transform((value, ctx) => {
  const { when, ...rest } = isObject(value) ? value : { when: undefined };
  const copyIssues = (issues: z.core.$ZodIssue[], prefix: PropertyKey[] = []) => {
    for (const issue of issues) ctx.addIssue({ ...issue, path: [...prefix, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
  };
  if (when !== undefined && rest.at !== undefined) {
    ctx.addIssue({ code: 'custom', message: 'give at (a time) or when (a trigger), not both' });
    return z.NEVER;
  }
  const event = timelineEventSchema.safeParse(isObject(value) ? rest : value, { reportInput: true });
  if (!event.success) {
    copyIssues(event.error.issues);
    return z.NEVER;
  }
  if (when === undefined) return event.data;
  const trigger = whenSchema.safeParse(when, { reportInput: true });
  if (!trigger.success) {
    copyIssues(trigger.error.issues, ['when']);
    return z.NEVER;
  }
  return { ...event.data, when: trigger.data };
});
export type TimelineEvent = z.output<typeof timelineEventSchema> & { readonly when?: Trigger };

// ---- faults ----

/** What a fault rule does to a call, beyond failing with an AWS error name. */
type SpecialEffect = 'timeout-after-effect' | 'latency' | 'timeout-while-running';
const TIMES = 'must be a whole number or always';

/**
 * A fault rule (`operation:`) or DynamoDB unavailable in a window (`dynamodb:`). A rule affects the
 * calls of one `service:Operation` (every simulated API, `dynamodb:<Operation>` and `lambda:InvokeFunction`,
 * which is also how Step Functions runs each task), optionally only those naming `target`, made by
 * `runbook`, inside `window`: the first `after` go through, the next `times` get the effect.
 */
const faultSchema = oneOfKeys({
  operation: object({
    operation: operation(),
    error: text(),
    /** With `error: latency`: how late the answer comes. */
    latency: duration().optional(),
    target: text().optional(),
    runbook: text().optional(),
    after: count().default(0),
    times: z.union([count(), z.literal('always')], { error: TIMES }).default(1),
    window: object({ from: duration().default(0), for: duration().optional() }, 'must be { from?, for? }').optional(),
  }).superRefine((f, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (f.error === 'latency' && f.latency === undefined) problem('latency', 'error: latency needs latency: <duration> (how late the answer comes)');
    if (f.error !== 'latency' && f.latency !== undefined) problem('latency', 'is only for error: latency');
    if (f.error === 'timeout-while-running' && f.operation !== 'lambda:InvokeFunction') problem('error', 'timeout-while-running is only for lambda:InvokeFunction (the handler runs on while its caller gives up)');
    if (f.runbook !== undefined && f.operation.startsWith('dynamodb:')) problem('runbook', 'DynamoDB faults affect every caller (the local DynamoDB cannot tell runbooks apart); use target: ledger, limiter or a table name');
  }).transform((f) => ({
    kind: 'api' as const,
    operation: f.operation,
    ...(f.target !== undefined ? { target: f.target } : {}),
    ...(f.runbook !== undefined ? { runbook: f.runbook } : {}),
    after: f.after,
    times: f.times === 'always' ? Number.MAX_SAFE_INTEGER : f.times,
    ...(f.window ? { window: f.window } : {}),
    effect: effectOf(f.error, f.latency),
  })),
  /** DynamoDB answers 503 from `from` for `for`; with `after`, from the moment that mutating call (`ecs:UpdateService`) first succeeds. */
  dynamodb: object({
    dynamodb: z.literal('unavailable', { error: 'only "unavailable" is supported' }),
    from: duration().optional(),
    for: duration(),
    after: operation().optional(),
  }).superRefine((f, ctx) => {
    if (f.from !== undefined && f.after !== undefined) ctx.addIssue({ code: 'custom', message: 'give from or after, not both' });
  }).transform((f) => ({ kind: 'dynamodb-unavailable' as const, from: f.from ?? 0, for: f.for, ...(f.after !== undefined ? { after: f.after } : {}) })),
});
export type Fault = z.output<typeof faultSchema>;
/** A fault rule (`operation:` in a scenario's faults). */
export type FaultRule = Extract<Fault, { kind: 'api' }>;

function effectOf(error: string, latency: number | undefined): FaultEffect {
  switch (error as SpecialEffect) {
    case 'timeout-after-effect': return { kind: 'timeout-after-effect' };
    case 'timeout-while-running': return { kind: 'timeout-while-running' };
    case 'latency': return { kind: 'latency', seconds: latency ?? 0 };
    default: return { kind: 'error', error };
  }
}

// ---- expectations ----

/** A count: a number is exact; `{ atLeast, atMost }` a range (either bound may be left out). */
const COUNT_RANGE = 'must be a whole number or { atLeast?, atMost? }';
const rangeSchema = object({ atLeast: count().optional(), atMost: count().optional() }, COUNT_RANGE);
/** A number (exact) or `{ atLeast?, atMost? }`; each checked by its own schema (its errors, not a union's). */
const countRange = () => z.unknown().transform((value, ctx): number | z.output<typeof rangeSchema> => {
  if (typeof value !== 'number' && !isObject(value)) {
    ctx.addIssue({ code: 'custom', message: `${COUNT_RANGE}, got ${showValue(value)}` });
    return z.NEVER;
  }
  const result = (typeof value === 'number' ? count() : rangeSchema).safeParse(value, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }
  const range = result.data;
  if (typeof range === 'object') {
    const problem = range.atLeast === undefined && range.atMost === undefined ? 'give atLeast, atMost or both'
      : range.atLeast !== undefined && range.atMost !== undefined && range.atLeast > range.atMost ? `atLeast (${range.atLeast}) is more than atMost (${range.atMost})` : undefined;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
  }
  return range;
});
export type CountRange = z.output<ReturnType<typeof countRange>>;

/** `service:Operation`, or `runbook/service:Operation` for the calls one runbook made. */
const CALL_KEY = /^(?:[A-Za-z0-9_.-]+\/)?[a-z0-9-]+:[A-Za-z]+$/;
const callKey = () => z.string({ error: requiredOr('must be service:Operation or runbook/service:Operation') })
  .regex(CALL_KEY, { error: (issue) => `${showValue(issue.input)} is not service:Operation or runbook/service:Operation (e.g. api-restart/ecs:UpdateService)` });

/** Text that must appear (`contains`) or match (`regex`, a JavaScript regular expression). */
const textMatcher = () => oneOfKeys({
  contains: object({ contains: text() }),
  regex: object({
    regex: text().superRefine((source, ctx) => {
      try {
        new RegExp(source);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${showValue(source)} is not a regular expression (${(error as Error).message})` });
      }
    }),
  }),
});
export type TextMatcher = z.output<ReturnType<typeof textMatcher>>;


const expectationsSchema = object({
  /** Incidents by runbook and outcome: `count` of them (a number or a range, when given; else at least one). */
  incidents: z.array(object({
    runbook: text(),
    outcome: z.enum(OUTCOMES as readonly Outcome[], { error: requiredOr(`must be one of ${OUTCOMES.join(', ')}`) }),
    count: countRange().optional(),
  }, 'must be { runbook, outcome, count? }'), { error: requiredOr('must be a list') }).default([]),
  /** Successful mutating calls by `service:Operation` (or `runbook/service:Operation`): a number (exact) or a range. */
  calls: z.record(callKey(), countRange(), {
    error: (issue) => (issue.code === 'invalid_key' ? 'is not service:Operation or runbook/service:Operation (e.g. api-restart/ecs:UpdateService)' : requiredOr('must map service:Operation to a count')(issue)),
  }).default({}),
  /** Successful mutating calls whose parameters include these (a subset match): `count` of them (else at least one). */
  callsWith: z.array(object({
    call: callKey(),
    parameters: jsonObject('must be an object (parameters the call must include)'),
    count: countRange().optional(),
  }, 'must be { call, parameters, count? }'), { error: requiredOr('must be a list') }).optional(),
  /** Messages to the escalation topic whose subject and body match: `count` of them (else at least one). */
  pages: z.array(object({
    subject: textMatcher().optional(),
    body: textMatcher().optional(),
    count: countRange().optional(),
  }, 'must be { subject?, body?, count? }'), { error: requiredOr('must be a list') }).optional(),
  /** The incidents' ledger trails. */
  ledger: object({
    /** Every incident of `runbook` (with `outcome`, when given) records exactly these phases, in order (consecutive repeats of a phase count as one). */
    phases: z.array(object({
      runbook: text(),
      outcome: z.enum(OUTCOMES as readonly Outcome[], { error: requiredOr(`must be one of ${OUTCOMES.join(', ')}`) }).optional(),
      phases: z.array(phase(), { error: requiredOr('must list phases') })
        .min(1, { error: 'must list at least one phase' }),
    }, 'must be { runbook, outcome?, phases }'), { error: requiredOr('must be a list') }).optional(),
    /** Every incident's last entry has an ending phase (ENDING_PHASES of lambdas/shared/ledger.ts). */
    terminal: z.literal(true, { error: 'must be true (leave it out to not check)' }).optional(),
    /** Every incident's hash chain verifies (verifyChain of lambdas/shared/ledger.ts). */
    chainsVerify: z.literal(true, { error: 'must be true (leave it out to not check)' }).optional(),
  }, 'must be { phases?, terminal?, chainsVerify? }').optional(),
  /** `denied` ledger entries of `runbook` whose category is `reason`: `count` of them (else at least one). */
  denials: z.array(object({
    runbook: text(),
    reason: text(),
    count: countRange().optional(),
  }, 'must be { runbook, reason, count? }'), { error: requiredOr('must be a list') }).optional(),
  /** Total incidents (duplicates included), when given. */
  totalIncidents: count().optional(),
  /** Messages to the escalation topic (escalations and reports), exactly, when given. */
  notifications: count().optional(),
  /** Leases still held by an incident when the scenario ends (expired holds that nobody released included), exactly, when given. */
  leasesHeld: count().optional(),
  /**
   * Answers to the timeline's approve/reject events (the approval endpoint for an ARN, the approval
   * page for an email address): by HTTP status (and who asked, which decision, which channel),
   * `count` of them (else at least one).
   */
  approvals: z.array(object({
    status: z.number({ error: requiredOr('must be an HTTP status (200, 403, 409, 410...)') }).int({ error: WHOLE }),
    as: text().optional(),
    decision: z.enum(['approve', 'reject'], { error: 'must be approve or reject' }).optional(),
    channel: z.enum(['api', 'link'], { error: 'must be api or link' }).optional(),
    count: countRange().optional(),
  }, 'must be { status, as?, decision?, channel?, count? }'), { error: requiredOr('must be a list') }).optional(),
  /** Events EventBridge gave up on (sent to a dead-letter queue) after its retries: a number (exact) or a range. */
  deadLetters: countRange().optional(),
  /** Self-alarms (the stack's alarms on its own machinery) that paged, by alarm logical id (or a part of it): how many pages each. */
  selfAlarms: z.record(z.string(), countRange(), { error: requiredOr('must map alarm logical ids (or a part of one) to a count') }).optional(),
});
export type Expectations = z.output<typeof expectationsSchema>;

// ---- the scenario ----

/** A scenario file, checked; module paths are still as written (relative to the file). */
export const scenarioSchema = object({
  name: text(),
  description: z.string({ error: 'must be text' }).default(''),
  start: z.string({ error: requiredOr(`must be a date (like ${DEFAULT_START})`) }).default(DEFAULT_START).transform((value, ctx) => {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) ctx.addIssue({ code: 'custom', message: `${showValue(value)} is not a date (like ${DEFAULT_START})` });
    return date;
  }),
  config: medicConfigSchema.optional(),
  app: text().optional(),
  services: z.array(serviceSchema, { error: requiredOr('must list module paths') }).default([]),
  world: worldSchema.default({}),
  timeline: z.array(timelineEntrySchema, { error: 'must list at least one event' }).min(1, { error: 'must list at least one event' }),
  faults: z.array(faultSchema, { error: requiredOr('must be a list') }).default([]),
  expect: expectationsSchema.default({ incidents: [], calls: {} }),
  limit: duration().default(parseDuration('7d', 'limit')),
}, 'must be a mapping').superRefine((scenario, ctx) => {
  if ((scenario.config === undefined) === (scenario.app === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give either config (the reference app) or app (a module building your stack)' });
  }
  const declared = scenario.services.flatMap((s) => (typeof s === 'string' ? [] : s.world));
  const known = [...Object.keys(WORLD_KEYS), ...declared];
  for (const key of Object.keys(scenario.world).filter((k) => !known.includes(k))) {
    ctx.addIssue({
      code: 'custom',
      path: ['world', key],
      message: withClosestKey(key, `unknown key (known: ${known.join(', ')}; a services module of your own declares the keys it reads: services: [{ module: <path>, world: [${key}] }])`),
    });
  }
});

/** A scenario that cannot be read: one line naming the file and the offending key. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(message: string, readonly problems: readonly string[] = [], options?: ErrorOptions) {
    super(message, options);
  }
}

/** Reads and checks a scenario; errors name the file and the offending key. Module paths are relative to `baseDir`. */
export function parseScenario(textContent: string, file = 'scenario', baseDir = process.cwd()): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(textContent);
  } catch (error) {
    // The YAML parser's message goes on with a picture of the line: its first line says it all.
    const first = (error as Error).message.split('\n')[0].replace(/:$/, '');
    throw new ScenarioError(`${file}: not valid YAML (${first})`, [], { cause: error });
  }
  const result = scenarioSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const problems = issueLines(result.error.issues);
    throw new ScenarioError(oneLine(file, problems), problems);
  }
  const s = result.data;
  const modulePath = (relative: string) => path.resolve(baseDir, relative);
  return {
    name: s.name,
    description: s.description,
    start: s.start,
    ...(s.config ? { config: s.config } : { app: modulePath(s.app!) }),
    services: s.services.map((m) => modulePath(typeof m === 'string' ? m : m.module)),
    world: { ...s.world, alarms: s.world.alarms ?? {} },
    timeline: [...s.timeline].sort((a, b) => a.at - b.at),
    faults: s.faults,
    expect: s.expect,
    limitSeconds: s.limit,
    file,
  };
}

export function loadScenario(file: string): Scenario {
  if (!fs.existsSync(file)) throw new ScenarioError(`scenario ${file} does not exist`);
  return parseScenario(fs.readFileSync(file, 'utf8'), path.relative(process.cwd(), file) || file, path.dirname(path.resolve(file)));
}
