import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { MedicFunction } from '../platform/function';
import { Runbook, type RunbookCommonProps } from '../platform/runbook';
import { matchesUnlessToken, withDefaults, type RunbookPolicyProps } from '../platform/policy';
import { alarmArn, commonSettings, list, nameMap, num, object, text } from '../platform/config-schema';
import type { z } from 'zod';
import { commonRunbookProps, defineRunbookKind } from '../platform/runbook-kind';
import { RDS_FAILOVER_DRILL_DEFAULTS, type RdsFailoverDrillOptions } from '../../lambdas/rds-failover-drill/options';

/** When scheduled drills may run (UTC). A scheduled drill outside it is refused at preflight. */
export interface DrillWindow {
  /** Days of the week, `MON` to `SUN`. */
  readonly days: string[];
  /** First hour (0-23, UTC) a drill may start. */
  readonly startHourUtc: number;
  /** Hour (1-24, UTC) by which a drill must have started. */
  readonly endHourUtc: number;
}

/** A recurring drill of one database, through EventBridge Scheduler. Name exactly one database, listed in the drill's `dbInstances` or `dbClusters`. */
export interface DrillSchedule {
  /**
   * The DB instance to drill (its identifier, e.g. `instance.instanceIdentifier`).
   * @default - none: give `dbClusterIdentifier`
   */
  readonly dbInstanceIdentifier?: string;
  /**
   * The DB cluster to drill (its identifier, e.g. `cluster.clusterIdentifier`).
   * @default - none: give `dbInstanceIdentifier`
   */
  readonly dbClusterIdentifier?: string;
  /** A Scheduler expression in UTC, e.g. `cron(0 10 ? * TUE *)`. Must fall inside `window`. */
  readonly expression: string;
}

/** Properties of an {@link RdsFailoverDrillRunbook}. */
export interface RdsFailoverDrillRunbookProps extends Omit<RunbookCommonProps, 'alarms' | 'name'> {
  /**
   * Runbook name; the state machine is called `medic-<name>`.
   * @default 'rds-failover-drill'
   */
  readonly name?: string;
  /**
   * Multi-AZ DB instances this drill may fail over: identifiers, or the instances themselves
   * (`rds.IDatabaseInstance`, whose identifier may be a token).
   * @default - none: give `dbClusters`
   */
  readonly dbInstances?: Array<string | rds.IDatabaseInstance>;
  /**
   * Aurora / Multi-AZ DB clusters this drill may fail over: identifiers, or the clusters
   * themselves (`rds.IDatabaseCluster`, whose identifier may be a token).
   * @default - none: give `dbInstances`
   */
  readonly dbClusters?: Array<string | rds.IDatabaseCluster>;
  /**
   * For clusters: the reader to promote (`FailoverDBCluster` TargetDBInstanceIdentifier), by
   * cluster identifier (a key may be a cluster's `clusterIdentifier` token, a value one of its
   * `instanceIdentifiers`).
   * Aurora clusters and RDS for PostgreSQL Multi-AZ DB clusters take one; RDS for MySQL Multi-AZ
   * DB clusters do not ("This setting isn't supported for RDS for MySQL Multi-AZ DB clusters",
   * FailoverDBCluster), so the preflight refuses a drill of such a cluster with a target reader.
   * That is checked at preflight, not here: the drill names existing databases by identifier, so
   * their engine is not known at synth time (and a declared engine could differ from the real one).
   * @default - none: RDS chooses the reader to promote
   */
  readonly targetReaders?: Record<string, string>;
  /**
   * Application alarms (error rate, connection errors) that must be OK before the drill starts,
   * and OK again within the verification budget after the failover. Alarms of the same app
   * (whose names and ARNs are tokens) work as well as imported ones.
   * @default - none
   */
  readonly guardAlarms?: cloudwatch.IAlarm[];
  /** Recurring drills. @default - none: drills run only when started by hand */
  readonly schedules?: DrillSchedule[];
  /**
   * When scheduled drills may run. Required with `schedules`.
   * @default - none: only drills started by hand
   */
  readonly window?: DrillWindow;
  /**
   * The database must be available again, with a new primary AZ or writer, within this long of
   * the failover request; otherwise the drill fails and escalates with what it measured.
   * At most 30 minutes.
   * @default Duration.minutes(15)
   */
  readonly failoverTimeout?: Duration;
  /**
   * The guard alarms must be OK again within this long of the database being available.
   * At most 15 minutes.
   * @default Duration.minutes(5)
   */
  readonly guardRecoveryTime?: Duration;
}

const INSTANCE_ID = '[a-zA-Z][a-zA-Z0-9-]{0,62}';
const DAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];

/** The execution input, shown in the console as the state machine's comment. */
export const DRILL_INPUT_HELP = '{"dbInstanceIdentifier": "orders-db"} or {"dbClusterIdentifier": "orders-aurora"}, '
  + 'optionally "reason": "why", "dryRun": true (every preflight, no failover) and "allowPendingReboot": true '
  + '(go ahead although parameter changes wait in pending-reboot: the failover may apply them)';

/**
 * RDS Multi-AZ failover drill: an operator starts it from the Step Functions console (or a
 * schedule does), it refuses unless the database is safe to fail over, then reboots with
 * failover (instance) or fails the cluster over, waits with Wait states until the database is
 * available again, verifies the primary AZ or writer changed and the application's guard alarms
 * are OK, and reports the measured failover time to the ledger and the escalation topic.
 */
export class RdsFailoverDrillRunbook extends Construct {
  public readonly runbook: Runbook;
  public readonly stepFunction: MedicFunction;
  public readonly schedules: scheduler.Schedule[] = [];

  /** For operators: start this drill (Step Functions `StartExecution` on its state machine only), e.g. from the console. */
  public grantStartDrill(grantee: iam.IGrantable): iam.Grant {
    return this.runbook.stateMachine.grantStartExecution(grantee);
  }

  constructor(scope: Construct, id: string, props: RdsFailoverDrillRunbookProps) {
    super(scope, id);
    const name = props.name ?? 'rds-failover-drill';
    // Whatever lowRisk says: a drill that is not a dry run is a real failover.
    if (props.approval?.onTimeout === 'act') {
      throw new Error(`runbook ${name}: approval.onTimeout "act" is refused for the RDS failover drill: a drill that is not a dry run is a real failover, `
        + 'never made because nobody answered; use onTimeout "escalate"');
    }
    const dbInstances = (props.dbInstances ?? []).map((db) => (typeof db === 'string' ? db : db.instanceIdentifier));
    const dbClusters = (props.dbClusters ?? []).map((db) => (typeof db === 'string' ? db : db.clusterIdentifier));
    const pattern = new RegExp(`^${INSTANCE_ID}$`);
    if (dbInstances.length + dbClusters.length === 0) throw new Error(`runbook ${name}: list at least one database in dbInstances or dbClusters`);
    for (const db of [...dbInstances, ...dbClusters]) {
      if (!matchesUnlessToken(db, pattern)) throw new Error(`runbook ${name}: "${db}" is not a valid RDS identifier`);
    }
    for (const [cluster, reader] of Object.entries(props.targetReaders ?? {})) {
      if (!dbClusters.includes(cluster)) throw new Error(`runbook ${name}: targetReaders names cluster "${cluster}", which is not in dbClusters`);
      if (!matchesUnlessToken(reader, pattern)) throw new Error(`runbook ${name}: target reader "${reader}" is not a valid RDS identifier`);
    }
    validateSchedules(name, props.schedules ?? [], props.window, dbInstances, dbClusters);
    const mode = props.mode ?? 'observe';
    const failoverTimeout = props.failoverTimeout ?? Duration.seconds(RDS_FAILOVER_DRILL_DEFAULTS.failoverTimeoutSeconds);
    const guardRecoveryTime = props.guardRecoveryTime ?? Duration.seconds(RDS_FAILOVER_DRILL_DEFAULTS.guardRecoverySeconds);
    const interval = props.verification?.interval ?? Duration.seconds(15);
    // RDS failovers take one to a few minutes; these bounds keep the verification loop under its 200-check cap.
    if (failoverTimeout.toSeconds() < 60 || failoverTimeout.toSeconds() > 1800) throw new Error(`runbook ${name}: failoverTimeout must be between 1 and 30 minutes`);
    if (guardRecoveryTime.toSeconds() > 900) throw new Error(`runbook ${name}: guardRecoveryTime must be at most 15 minutes`);
    // Enough checks to cover both budgets (the handler enforces each one by the clock), plus the confirming reading.
    const maxChecks = Math.ceil((failoverTimeout.toSeconds() + guardRecoveryTime.toSeconds()) / interval.toSeconds()) + 2;

    this.stepFunction = new MedicFunction(this, 'Steps', {
      handler: 'rds-failover-drill',
      description: `medic runbook ${name}: RDS failover drill (preflight, failover, verify)`,
      environment: props.platform.handlerEnvironment(),
    });
    this.grantRds(dbInstances, dbClusters, Object.values(props.targetReaders ?? {}), mode !== 'observe');
    const guardAlarmArns = (props.guardAlarms ?? []).map((a) => a.alarmArn);
    if (guardAlarmArns.length > 0) {
      this.stepFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: guardAlarmArns }));
    }

    this.runbook = new Runbook(this, 'Runbook', {
      ...props,
      name,
      kind: 'rds-failover-drill',
      stateMachineName: `medic-${name}`,
      inputDescription: DRILL_INPUT_HELP,
      stepFunction: this.stepFunction,
      reversible: false,
      policy: withDefaults<RunbookPolicyProps>({ maxAttempts: 2, window: Duration.days(1), maxConcurrent: 1 }, props.policy),
      verification: withDefaults({ initialDelay: Duration.seconds(30), interval, maxChecks, requiredConsecutiveSuccesses: 2 }, props.verification),
      options: {
        guardAlarmNames: (props.guardAlarms ?? []).map((a) => a.alarmName),
        targetReaders: props.targetReaders ?? {},
        failoverTimeoutSeconds: failoverTimeout.toSeconds(),
        guardRecoverySeconds: guardRecoveryTime.toSeconds(),
        ...(props.window ? { window: props.window } : {}),
      } satisfies RdsFailoverDrillOptions,
      manualTargets: {
        dbInstanceIdentifier: { type: 'rds-instance', pattern: INSTANCE_ID, arnTemplate: 'arn:{partition}:rds:{region}:{account}:db:{id}', allowed: dbInstances },
        dbClusterIdentifier: { type: 'rds-cluster', pattern: INSTANCE_ID, arnTemplate: 'arn:{partition}:rds:{region}:{account}:cluster:{id}', allowed: dbClusters },
      },
    });

    (props.schedules ?? []).forEach((schedule, i) => {
      const input = schedule.dbInstanceIdentifier
        ? { dbInstanceIdentifier: schedule.dbInstanceIdentifier }
        : { dbClusterIdentifier: schedule.dbClusterIdentifier };
      this.schedules.push(new scheduler.Schedule(this, `Schedule${i}`, {
        description: `medic: scheduled failover drill of ${Object.values(input)[0]}`,
        schedule: scheduler.ScheduleExpression.expression(schedule.expression),
        target: new schedulerTargets.StepFunctionsStartExecution(this.runbook.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject({ ...input, trigger: 'schedule', reason: 'scheduled drill' }),
          retryAttempts: 0,
        }),
      }));
    });
  }

  /** Describe on the allow-listed databases; reboot/failover on them only when the drill may act. */
  private grantRds(dbInstances: string[], dbClusters: string[], targetReaders: string[], mayAct: boolean): void {
    const stack = Stack.of(this);
    const arn = (resource: string, id: string) => stack.formatArn({ service: 'rds', resource, resourceName: id, arnFormat: 'arn:aws:service:region:account:resource:resourceName' as never });
    const instanceArns = dbInstances.map((db) => arn('db', db));
    const clusterArns = dbClusters.map((db) => arn('cluster', db));
    if (instanceArns.length > 0) {
      this.stepFunction.addToRolePolicy(new iam.PolicyStatement({
        actions: ['rds:DescribeDBInstances', ...(mayAct ? ['rds:RebootDBInstance'] : [])],
        resources: instanceArns,
      }));
    }
    if (clusterArns.length > 0) {
      this.stepFunction.addToRolePolicy(new iam.PolicyStatement({
        actions: ['rds:DescribeDBClusters', ...(mayAct ? ['rds:FailoverDBCluster'] : [])],
        resources: clusterArns,
      }));
    }
    // FailoverDBCluster with TargetDBInstanceIdentifier also names a DB instance, and the drill's
    // issue (13, item 13) says RDS authorises the call against that instance too. The copy of the
    // Service Authorization Reference (list_amazonrds) checked for this change lists only
    // `cluster*` for the action, so this statement may never match; it names only the configured
    // target readers and only this action, so it grants nothing else, and if RDS does check the
    // reader the drill is not refused for the lack of it. Not granted in observe mode.
    const readerArns = [...new Set(targetReaders)].map((db) => arn('db', db));
    if (mayAct && readerArns.length > 0) {
      this.stepFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['rds:FailoverDBCluster'], resources: readerArns }));
    }
  }
}

function validateSchedules(name: string, schedules: DrillSchedule[], window: DrillWindow | undefined, instances: string[], clusters: string[]): void {
  if (window) {
    const badDay = window.days.find((d) => !DAYS.includes(d));
    if (window.days.length === 0 || badDay) throw new Error(`runbook ${name}: window.days must list days from ${DAYS.join(', ')}`);
    const { startHourUtc: start, endHourUtc: end } = window;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > 24 || start >= end) {
      throw new Error(`runbook ${name}: window hours must be whole numbers with 0 <= startHourUtc < endHourUtc <= 24`);
    }
  }
  if (schedules.length === 0) return;
  if (!window) throw new Error(`runbook ${name}: schedules need a window, so a scheduled drill cannot run at a bad time`);
  for (const s of schedules) {
    if (!!s.dbInstanceIdentifier === !!s.dbClusterIdentifier) throw new Error(`runbook ${name}: each schedule names exactly one of dbInstanceIdentifier and dbClusterIdentifier`);
    if (s.dbInstanceIdentifier && !instances.includes(s.dbInstanceIdentifier)) throw new Error(`runbook ${name}: scheduled instance ${s.dbInstanceIdentifier} is not in dbInstances`);
    if (s.dbClusterIdentifier && !clusters.includes(s.dbClusterIdentifier)) throw new Error(`runbook ${name}: scheduled cluster ${s.dbClusterIdentifier} is not in dbClusters`);
    if (!/^(cron|rate|at)\(.+\)$/.test(s.expression)) throw new Error(`runbook ${name}: schedule expression "${s.expression}" is not cron(...), rate(...) or at(...)`);
  }
}

// ---- its entry in the config file (`runbooks.rdsFailoverDrill`) and the registry of kinds ----

const rdsFailoverDrillSchema = object({
  name: text().optional().describe('Default rds-failover-drill (state machine medic-rds-failover-drill).'),
  ...commonSettings,
  dbInstances: list(text()).optional().describe('Multi-AZ DB instances it may fail over.'),
  dbClusters: list(text()).optional().describe('Aurora clusters it may fail over.'),
  targetReaders: nameMap('cluster identifiers to reader instance identifiers').optional().describe('Cluster -> the reader to fail over to.'),
  guardAlarmArns: list(alarmArn()).optional().describe('Application alarms (in the stack\'s account and region) that must be OK before the drill and again after it.'),
  schedules: list(object({ dbInstanceIdentifier: text().optional(), dbClusterIdentifier: text().optional(), expression: text() })).optional()
    .describe('Scheduled drills: an EventBridge Scheduler expression and the database.'),
  window: object({ days: list(text()), startHourUtc: num(), endHourUtc: num() }).optional().describe('Days (MON..SUN) and UTC hours a drill may start.'),
  failoverTimeoutMinutes: num().optional().describe(`Default ${RDS_FAILOVER_DRILL_DEFAULTS.failoverTimeoutSeconds / 60}.`),
  guardRecoveryMinutes: num().optional().describe(`Default ${RDS_FAILOVER_DRILL_DEFAULTS.guardRecoverySeconds / 60}.`),
}).meta({ id: 'RdsFailoverDrillRunbook', description: 'An RDS failover drill: started from the Step Functions console, or by its schedules.' });

export type RdsFailoverDrillConfig = z.infer<typeof rdsFailoverDrillSchema>;

/** The RDS failover drill in the config-driven stack: each entry of `runbooks.rdsFailoverDrill` is one RdsFailoverDrillRunbook. */
export const rdsFailoverDrillKind = defineRunbookKind({
  kind: 'rds-failover-drill',
  configKey: 'rdsFailoverDrill',
  handler: 'rds-failover-drill',
  schema: rdsFailoverDrillSchema,
  defaultName: 'rds-failover-drill',
  build: (scope, id, entry, platform) => {
    const name = entry.name ?? 'rds-failover-drill';
    return new RdsFailoverDrillRunbook(scope, id, {
      ...commonRunbookProps(scope, platform, { ...entry, name, alarmArns: [] }),
      dbInstances: entry.dbInstances,
      dbClusters: entry.dbClusters,
      targetReaders: entry.targetReaders,
      guardAlarms: (entry.guardAlarmArns ?? []).map((arn, i) => cloudwatch.Alarm.fromAlarmArn(scope, `GuardAlarm-${name}-${i}`, arn)),
      schedules: entry.schedules,
      window: entry.window,
      failoverTimeout: entry.failoverTimeoutMinutes === undefined ? undefined : Duration.minutes(entry.failoverTimeoutMinutes),
      guardRecoveryTime: entry.guardRecoveryMinutes === undefined ? undefined : Duration.minutes(entry.guardRecoveryMinutes),
    });
  },
});
