import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeDBClustersCommand, DescribeDBInstancesCommand, FailoverDBClusterCommand, RDSClient, RebootDBInstanceCommand,
  type DBCluster, type DBInstance,
} from '@aws-sdk/client-rds';
import { cloudWatch } from '../shared/clients';
import { describeError } from '../shared/errors';
import { runbookHandler, type ActOutput, type CheckResult, type RunbookSteps } from '../shared/runbook-steps';
import type { Plan, Report, WorkflowState } from '../shared/types';
import type { ManualTrigger } from '../validate/manual-input';
import { resolveRdsFailoverDrillOptions, type RdsFailoverDrillOptions } from './options';

export type { RdsFailoverDrillOptions } from './options';

/** Where the primary was before the drill: recorded by Plan, carried by Act, compared by Verify. */
export type PreState =
  | { readonly kind: 'instance'; readonly primaryAz: string; readonly secondaryAz?: string }
  | { readonly kind: 'cluster'; readonly writer: string; readonly readers: string[]; readonly targetReader?: string };

/** What Verify carries from one check to the next (in the check's readings). */
interface Carried {
  readonly sawFailoverInProgress?: boolean;
  /**
   * The first reading of the database `available` again: after the failover was seen in
   * progress, or (a failover finished between two readings) with the primary already moved.
   * The failover time and the guard-recovery budget count from it, not from the reading where the
   * moved AZ / writer first showed (RDS may report those later: see `check`).
   */
  readonly availableAt?: string;
  readonly guardTimeline?: Array<{ at: string; states: Record<string, string> }>;
}

const rds = new RDSClient({});
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MAX_TIMELINE = 40;

function optionsOf(state: WorkflowState): RdsFailoverDrillOptions {
  return resolveRdsFailoverDrillOptions(state.runbook.options as Partial<RdsFailoverDrillOptions>);
}

function targetOf(state: WorkflowState): { kind: 'instance' | 'cluster'; id: string } {
  const target = state.incident!.target!;
  return { kind: target.type === 'rds-cluster' ? 'cluster' : 'instance', id: target.id };
}

const isNotFound = (error: unknown): boolean => ['DBInstanceNotFoundFault', 'DBClusterNotFoundFault'].includes((error as Error)?.name);

/** A database that does not exist reads as undefined; any other error propagates. */
async function unlessNotFound<T>(describe: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await describe();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

const describeInstance = (id: string): Promise<DBInstance | undefined> =>
  unlessNotFound(async () => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0]);
const describeCluster = (id: string): Promise<DBCluster | undefined> =>
  unlessNotFound(async () => (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))).DBClusters?.[0]);

/** Names of pending modifications (RDS returns an object whose set fields are the pending changes). */
function pendingModifications(pending: object | undefined): string[] {
  return Object.entries(pending ?? {}).filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)).map(([k]) => k);
}

/**
 * Parameter groups whose changes wait for a reboot. SDK `DBParameterGroupStatus.ParameterApplyStatus`:
 * "`pending-reboot`: The parameter group change will be applied after the DB instance reboots";
 * `RebootDBInstance`: "if you change the DB parameter group associated with the DB instance, you
 * must reboot the instance for the changes to take effect". A reboot with failover is a reboot.
 */
const pendingRebootGroups = (db: DBInstance): string[] =>
  (db.DBParameterGroups ?? []).filter((g) => g.ParameterApplyStatus === 'pending-reboot').map((g) => g.DBParameterGroupName ?? '(unnamed)');

/**
 * Cluster members whose DB cluster parameter group status is `pending-reboot` (SDK
 * `DBClusterMember.DBClusterParameterGroupStatus`: "the status of the DB cluster parameter group
 * for this member"). `ModifyDBClusterParameterGroup` says such changes apply "after a reboot
 * without failover"; whether a failover (which restarts the writer and the promoted reader)
 * applies them too is not documented, so the drill treats them like an instance's.
 */
const pendingRebootMembers = (cluster: DBCluster): string[] =>
  (cluster.DBClusterMembers ?? []).filter((m) => m.DBClusterParameterGroupStatus === 'pending-reboot').map((m) => m.DBInstanceIdentifier ?? '(unnamed)');

/**
 * Aurora or a Multi-AZ DB cluster, from DescribeDBClusters (SDK doc comments): `Engine` is
 * `aurora-mysql` / `aurora-postgresql` (Aurora; `aurora` is Aurora MySQL's old name) or `mysql` /
 * `postgres` (Multi-AZ DB clusters: `CreateDBClusterMessage.Engine`); `DBClusterInstanceClass`
 * is set "only for non-Aurora Multi-AZ DB clusters".
 */
export function clusterKind(cluster: DBCluster): 'aurora' | 'multi-az-db-cluster' | 'unknown' {
  const engine = cluster.Engine ?? '';
  if (engine.startsWith('aurora')) return 'aurora';
  if (cluster.DBClusterInstanceClass || engine === 'mysql' || engine === 'postgres') return 'multi-az-db-cluster';
  return 'unknown';
}

/**
 * Why FailoverDBCluster cannot promote the configured reader of this cluster, or undefined.
 * SDK `FailoverDBClusterMessage.TargetDBInstanceIdentifier`: "Specify the DB instance identifier
 * for an Aurora Replica or a Multi-AZ readable standby in the DB cluster [...] This setting isn't
 * supported for RDS for MySQL Multi-AZ DB clusters." Aurora and RDS for PostgreSQL Multi-AZ DB
 * clusters take it. A cluster that reports no engine cannot be told apart: refused (fail closed).
 */
export function targetReaderRefusal(id: string, cluster: DBCluster, targetReader: string): string | undefined {
  const remedy = `remove "${id}" from the drill's targetReaders to let RDS choose the reader to promote`;
  if (!cluster.Engine) {
    return `cluster ${id} reports no engine, so it cannot be told whether FailoverDBCluster may promote the configured target reader ${targetReader} (RDS for MySQL Multi-AZ DB clusters do not support a target): ${remedy}`;
  }
  if (cluster.Engine === 'mysql' && clusterKind(cluster) === 'multi-az-db-cluster') {
    return `cluster ${id} is an RDS for MySQL Multi-AZ DB cluster, which does not support promoting a chosen reader (FailoverDBCluster TargetDBInstanceIdentifier "isn't supported for RDS for MySQL Multi-AZ DB clusters"), `
      + `but ${targetReader} is configured as its target reader: ${remedy}`;
  }
  return undefined;
}

const writerOf = (cluster: DBCluster): string | undefined => cluster.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;
const readersOf = (cluster: DBCluster): string[] =>
  (cluster.DBClusterMembers ?? []).filter((m) => !m.IsClusterWriter && m.DBInstanceIdentifier).map((m) => m.DBInstanceIdentifier!);

/** Every guard alarm's state; any alarm not found reads as `MISSING`. */
async function readGuards(names: string[]): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  const out = await cloudWatch().send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
  const found = new Map([...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].map((a) => [a.AlarmName, a.StateValue ?? 'UNKNOWN']));
  return Object.fromEntries(names.map((n) => [n, found.get(n) ?? 'MISSING']));
}

const notOk = (states: Record<string, string>): string[] => Object.entries(states).filter(([, s]) => s !== 'OK').map(([n, s]) => `${n} is ${s}`);

/** A scheduled drill runs only inside its window; a drill started by hand is the operator's call. */
export function windowRefusal(state: WorkflowState, now: Date): string | undefined {
  if (state.incident!.trigger?.kind !== 'schedule') return undefined;
  const window = optionsOf(state).window;
  if (!window) return 'a scheduled drill needs a configured window, and none is configured';
  const day = DAYS[now.getUTCDay()];
  const hour = now.getUTCHours();
  if (window.days.includes(day) && hour >= window.startHourUtc && hour < window.endHourUtc) return undefined;
  return `it is ${day} ${String(hour).padStart(2, '0')}:xx UTC, outside the drill window (${window.days.join(',')} ${window.startHourUtc}:00-${window.endHourUtc}:00 UTC)`;
}

function describePre(pre: PreState): string {
  return pre.kind === 'instance'
    ? `primary in ${pre.primaryAz}, standby in ${pre.secondaryAz ?? 'an unreported AZ'}`
    : `writer ${pre.writer}, readers ${pre.readers.join(', ')}`;
}

function describeAction(id: string, pre: PreState): string {
  if (pre.kind === 'instance') return `RebootDBInstance ForceFailover=true on ${id} (${describePre(pre)})`;
  return `FailoverDBCluster on ${id} (${describePre(pre)}), promoting ${pre.targetReader ?? 'a reader RDS chooses'}`;
}

const refuse = (reason: string, details: Record<string, unknown> = {}): Plan =>
  ({ decision: 'escalate', reason: `drill refused: ${reason}`, summary: 'no failover: the database is not safe to fail over now', details });

const ALLOW_HINT = 'apply them on purpose first (a reboot in a maintenance window), or start the drill with "allowPendingReboot": true to let the drill apply them';

interface Preflight {
  readonly pre?: PreState;
  readonly refusal?: string;
  readonly readings: Record<string, unknown>;
  /** Parameter changes the failover will (instance) or may (cluster) apply, allowed by the input: said in the plan and report. */
  readonly pendingReboot?: string;
}

async function preflightInstance(id: string, allowPendingReboot: boolean): Promise<Preflight> {
  const db = await describeInstance(id);
  if (!db) return { refusal: `DB instance ${id} not found`, readings: {} };
  const pendingGroups = pendingRebootGroups(db);
  const readings = {
    status: db.DBInstanceStatus, engine: db.Engine, multiAZ: db.MultiAZ, availabilityZone: db.AvailabilityZone, secondaryAvailabilityZone: db.SecondaryAvailabilityZone,
    ...(pendingGroups.length > 0 ? { pendingRebootParameterGroups: pendingGroups } : {}),
  };
  if (db.DBClusterIdentifier) return { refusal: `${id} is a member of cluster ${db.DBClusterIdentifier}: drill the cluster (dbClusterIdentifier)`, readings };
  if (db.MultiAZ !== true) return { refusal: `${id} is a single-AZ instance: there is no standby to fail over to`, readings };
  if (db.DBInstanceStatus !== 'available') return { refusal: `${id} is ${db.DBInstanceStatus ?? 'in an unreported state'}, not available`, readings };
  const pending = pendingModifications(db.PendingModifiedValues);
  if (pending.length > 0) return { refusal: `${id} has pending modifications (${pending.join(', ')}) that a reboot would apply`, readings };
  const pendingText = pendingGroups.length > 0 ? `DB parameter group ${pendingGroups.join(', ')} of ${id} is pending-reboot: the reboot with failover will apply its changes` : undefined;
  if (pendingText && !allowPendingReboot) return { refusal: `${pendingText}; ${ALLOW_HINT}`, readings };
  if (!db.AvailabilityZone) return { refusal: `${id} reports no availability zone, so a failover could not be verified`, readings };
  return { pre: { kind: 'instance', primaryAz: db.AvailabilityZone, secondaryAz: db.SecondaryAvailabilityZone }, readings, ...(pendingText ? { pendingReboot: pendingText } : {}) };
}

async function preflightCluster(id: string, targetReader: string | undefined, allowPendingReboot: boolean): Promise<Preflight> {
  const cluster = await describeCluster(id);
  if (!cluster) return { refusal: `DB cluster ${id} not found`, readings: {} };
  const writer = writerOf(cluster);
  const readers = readersOf(cluster);
  const pendingMembers = pendingRebootMembers(cluster);
  const readings = {
    status: cluster.Status, engine: cluster.Engine, engineMode: cluster.EngineMode, clusterKind: clusterKind(cluster),
    dbClusterInstanceClass: cluster.DBClusterInstanceClass, multiAZ: cluster.MultiAZ, writer, readers,
    ...(pendingMembers.length > 0 ? { pendingRebootMembers: pendingMembers } : {}),
  };
  if (cluster.Status !== 'available') return { refusal: `cluster ${id} is ${cluster.Status ?? 'in an unreported state'}, not available`, readings };
  const pending = pendingModifications(cluster.PendingModifiedValues);
  if (pending.length > 0) return { refusal: `cluster ${id} has pending modifications (${pending.join(', ')})`, readings };
  const pendingText = pendingMembers.length > 0
    ? `the DB cluster parameter group of cluster ${id} is pending-reboot on ${pendingMembers.join(', ')}: the failover restarts the writer and the promoted reader and may apply its changes`
    : undefined;
  if (pendingText && !allowPendingReboot) return { refusal: `${pendingText}; ${ALLOW_HINT}`, readings };
  if (!writer) return { refusal: `cluster ${id} reports no writer instance`, readings };
  if (readers.length === 0) return { refusal: `cluster ${id} has no reader to fail over to`, readings };
  if (targetReader) {
    const unsupported = targetReaderRefusal(id, cluster, targetReader);
    if (unsupported) return { refusal: unsupported, readings };
    if (!readers.includes(targetReader)) {
      return { refusal: `the configured target reader ${targetReader} is not a reader of cluster ${id} (readers: ${readers.join(', ')})`, readings };
    }
  }
  return { pre: { kind: 'cluster', writer, readers, ...(targetReader ? { targetReader } : {}) }, readings, ...(pendingText ? { pendingReboot: pendingText } : {}) };
}

/** `"allowPendingReboot": true` in the drill's input: validated by Validate and carried on the incident's trigger. */
const allowsPendingReboot = (state: WorkflowState): boolean => (state.incident?.trigger as ManualTrigger | undefined)?.allowPendingReboot === true;

const seconds = (from: string, to: string): number => Math.round((Date.parse(to) - Date.parse(from)) / 1000);

export const steps: RunbookSteps = {
  async plan(state) {
    const { kind, id } = targetOf(state);
    const options = optionsOf(state);
    const outsideWindow = windowRefusal(state, new Date());
    if (outsideWindow) return refuse(outsideWindow);
    const allowPendingReboot = allowsPendingReboot(state);
    const preflight = kind === 'instance' ? await preflightInstance(id, allowPendingReboot) : await preflightCluster(id, options.targetReaders[id], allowPendingReboot);
    if (!preflight.pre) return refuse(preflight.refusal!, preflight.readings);
    let guards: Record<string, string>;
    try {
      guards = await readGuards(options.guardAlarmNames);
    } catch (error) {
      return refuse(`the guard alarms could not be read (failing closed): ${describeError(error)}`, preflight.readings);
    }
    const unhealthy = notOk(guards);
    if (unhealthy.length > 0) return refuse(`guard alarm(s) not OK before the drill: ${unhealthy.join('; ')}`, { ...preflight.readings, guards });

    const summary = describeAction(id, preflight.pre);
    const guardText = options.guardAlarmNames.length > 0 ? `guard alarms OK (${options.guardAlarmNames.join(', ')})` : 'no guard alarms configured';
    const pendingLine = preflight.pendingReboot ? `PENDING REBOOT: ${preflight.pendingReboot} (allowed by "allowPendingReboot": true)` : undefined;
    const report: Report = {
      title: `RDS failover drill of ${id}`,
      verdict: 'DRY RUN: every preflight passed',
      figures: { database: id, kind, before: preflight.pre, guards, ...(preflight.pendingReboot ? { pendingReboot: preflight.pendingReboot } : {}) },
      lines: [`DATABASE: ${id} (${kind})`, `BEFORE: ${describePre(preflight.pre)}`, `WOULD DO: ${summary}`, ...(pendingLine ? [pendingLine] : []), `GUARDS: ${guardText}`],
    };
    const operation = kind === 'instance' ? 'RebootDBInstance' : 'FailoverDBCluster';
    const changes = preflight.pendingReboot ? `pending-reboot parameter changes allowed by the input (${preflight.pendingReboot})` : 'no pending changes';
    return {
      decision: 'act',
      reason: `${id} is available, has a failover target and ${changes}; ${guardText}`,
      summary,
      details: { preState: preflight.pre, guards, ...(preflight.pendingReboot ? { pendingReboot: preflight.pendingReboot, allowPendingReboot: true } : {}) },
      report,
      plannedCalls: [{ batch: 0, service: 'rds', operation, target: id }],
    };
  },

  async act(state, gate): Promise<ActOutput> {
    const { id } = targetOf(state);
    const pre = state.plan!.details.preState as PreState;
    const requestedAt = new Date().toISOString();
    if (pre.kind === 'instance') {
      const parameters = { DBInstanceIdentifier: id, ForceFailover: true };
      await gate.call({ service: 'rds', operation: 'RebootDBInstance', target: id, parameters },
        () => rds.send(new RebootDBInstanceCommand(parameters)), (out) => ({ status: out.DBInstance?.DBInstanceStatus }));
      return {
        summary: `requested a reboot with failover of ${id} at ${requestedAt}`,
        batch: 0,
        moreBatches: false,
        details: { requestedAt, preState: pre },
      };
    }
    const parameters = { DBClusterIdentifier: id, ...(pre.targetReader ? { TargetDBInstanceIdentifier: pre.targetReader } : {}) };
    await gate.call({ service: 'rds', operation: 'FailoverDBCluster', target: id, parameters },
      () => rds.send(new FailoverDBClusterCommand(parameters)), (out) => ({ status: out.DBCluster?.Status }));
    return {
      summary: `requested a failover of cluster ${id}${pre.targetReader ? ` to ${pre.targetReader}` : ''} at ${requestedAt}`,
      batch: 0,
      moreBatches: false,
      details: { requestedAt, preState: pre },
    };
  },

  async check(state): Promise<CheckResult> {
    const { kind, id } = targetOf(state);
    const options = optionsOf(state);
    const { requestedAt, preState: pre } = state.act!.details as { requestedAt: string; preState: PreState };
    const carried: Carried = state.verify?.batch === 0 ? (state.verify.lastReadings as Carried) : {};
    const now = new Date().toISOString();
    let readings: Record<string, unknown> = { requestedAt, ...carried };
    const failoverTimedOut = seconds(requestedAt, now) > options.failoverTimeoutSeconds;

    // 1. The database: available again, with the primary/writer moved.
    let status: string | undefined;
    let moved: boolean;
    let after: string;
    try {
      if (kind === 'instance') {
        const db = await describeInstance(id);
        status = db?.DBInstanceStatus;
        after = db?.AvailabilityZone ?? 'unknown';
        moved = !!db?.AvailabilityZone && pre.kind === 'instance' && db.AvailabilityZone !== pre.primaryAz;
        readings = { ...readings, status: status ?? 'not found', availabilityZone: after };
      } else {
        const cluster = await describeCluster(id);
        status = cluster?.Status;
        after = (cluster && writerOf(cluster)) ?? 'unknown';
        moved = pre.kind === 'cluster' && after !== 'unknown' && after !== pre.writer;
        readings = { ...readings, status: status ?? 'not found', writer: after };
      }
    } catch (error) {
      return { verdict: 'inconclusive', reason: `${id} could not be read: ${describeError(error)}`, readings };
    }
    const sawFailoverInProgress = carried.sawFailoverInProgress === true || (status !== undefined && status !== 'available');
    const availableAt = carried.availableAt ?? (status === 'available' && (sawFailoverInProgress || moved) ? now : undefined);
    readings = { ...readings, sawFailoverInProgress, ...(availableAt ? { availableAt } : {}) };
    const elapsed = `${seconds(requestedAt, now)}s after the failover request (timeout: ${options.failoverTimeoutSeconds}s)`;

    if (!(status === 'available' && moved)) {
      const role = kind === 'instance' ? 'primary' : 'writer';
      if (status === 'available' && sawFailoverInProgress) {
        // Available again in place. RDS may report the new primary AZ after the status is back to
        // `available` (RDS User Guide, failover process for Multi-AZ: "When the failover is
        // complete, it can take additional time for the RDS console to reflect the new
        // Availability Zone"), so this is not yet a verdict: keep reading until the failover
        // timeout, and call it "did not fail over" only then. Success needs the moved AZ / writer
        // on `requiredConsecutiveSuccesses` readings in a row, so one early reading cannot pass it.
        if (failoverTimedOut) {
          return { verdict: 'failure', reason: `${id} is available again but did not fail over: ${kind === 'instance' ? 'primary AZ' : 'writer'} is still ${after} ${elapsed}`, readings };
        }
        return { verdict: 'pending', reason: `waiting: ${id} is available again, ${role} still ${after} (RDS may report the new ${kind === 'instance' ? 'AZ' : 'writer'} after the status; reading again until the failover timeout)`, readings };
      }
      const waiting = `${id} is ${status ?? 'not found'}, ${moved ? `${role} moved` : `${role} still ${after}`}`;
      if (failoverTimedOut) {
        return { verdict: 'failure', reason: `${waiting} ${elapsed}`, readings };
      }
      return { verdict: 'pending', reason: `waiting: ${waiting}`, readings };
    }
    if (pre.kind === 'cluster' && pre.targetReader && after !== pre.targetReader) {
      return { verdict: 'failure', reason: `cluster ${id} failed over to ${after}, not to the requested reader ${pre.targetReader}`, readings };
    }
    const availableSince = availableAt ?? now; // always set by now: the database is available and moved

    // 2. The application: the guard alarms OK again within the recovery time.
    let guards: Record<string, string>;
    try {
      guards = await readGuards(options.guardAlarmNames);
    } catch (error) {
      return { verdict: 'inconclusive', reason: `database failed over, but the guard alarms could not be read: ${describeError(error)}`, readings };
    }
    const timeline = [...(carried.guardTimeline ?? [])];
    const last = timeline[timeline.length - 1];
    if (!last || JSON.stringify(last.states) !== JSON.stringify(guards)) timeline.push({ at: now, states: guards });
    readings = { ...readings, guardTimeline: timeline.slice(-MAX_TIMELINE) };
    const unhealthy = notOk(guards);
    if (unhealthy.length > 0) {
      const waited = seconds(availableSince, now);
      if (waited > options.guardRecoverySeconds) {
        return { verdict: 'failure', reason: `failed over, but guard alarm(s) not OK ${waited}s after the database was available: ${unhealthy.join('; ')}`, readings };
      }
      return { verdict: 'pending', reason: `failed over; waiting for guard alarm(s): ${unhealthy.join('; ')}`, readings };
    }

    const failoverSeconds = seconds(requestedAt, availableSince);
    const recoverySeconds = seconds(requestedAt, now);
    const before = pre.kind === 'instance' ? pre.primaryAz : pre.writer;
    const report: Report = {
      title: `RDS failover drill of ${id}`,
      verdict: 'PASSED',
      figures: { database: id, kind, before: pre, after, requestedAt, availableAt: availableSince, failoverSeconds, recoverySeconds, guardTimeline: readings.guardTimeline },
      lines: [
        `DATABASE: ${id} (${kind})`,
        `${kind === 'instance' ? 'PRIMARY AZ' : 'WRITER'}: ${before} -> ${after}`,
        `FAILOVER: ${failoverSeconds}s from the request to available (measured at the verification interval, ${state.runbook.verification.intervalSeconds}s)`,
        `APPLICATION: guard alarms OK ${recoverySeconds}s after the request${options.guardAlarmNames.length === 0 ? ' (no guard alarms configured)' : ''}`,
        `GUARD TIMELINE: ${timeline.map((t) => `${t.at} ${Object.entries(t.states).map(([n, s]) => `${n}=${s}`).join(',') || '-'}`).join(' | ')}`,
      ],
    };
    return { verdict: 'success', reason: `${id} failed over (${before} -> ${after}) in ${failoverSeconds}s and the guard alarms are OK`, readings, report };
  },
};

export const handler = runbookHandler(steps);
