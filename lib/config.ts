import * as fs from 'node:fs';
import { MODES, type Mode } from '../lambdas/shared/types';

/**
 * The reference app's configuration: which runbooks to deploy and what they watch. A JSON
 * file, so attaching a runbook to an existing alarm needs no CDK code. Unknown keys are
 * errors: a misspelt setting must not silently fall back to a default.
 */
export interface MedicConfig {
  readonly stackName: string;
  /** Account and region the stack deploys to; runbooks act only there. */
  readonly env: { readonly account: string; readonly region: string };
  readonly escalationEmails?: string[];
  /**
   * Days an incident stays in the ledger table after its newest entry (at least 90), then it is
   * archived to the anchors bucket and only then deleted; 0 or absent keeps it forever
   * (`MedicPlatformProps.ledgerRetentionDays`). Never a TTL.
   */
  readonly ledgerRetentionDays?: number;
  /**
   * Days each ledger anchor (and archive) is locked in the anchors bucket, Object Lock compliance
   * mode (`MedicPlatformProps.anchorRetention`); at least 1. Default 365.
   */
  readonly ledgerAnchorRetentionDays?: number;
  readonly runbooks: {
    readonly ecsTaskRestart?: EcsTaskRestartConfig[];
    readonly rdsFailoverDrill?: RdsFailoverDrillConfig[];
    readonly asgElbHealthCheck?: AsgElbHealthCheckConfig[];
    readonly diskPrune?: DiskPruneConfig[];
    readonly diskPruneFleet?: DiskPruneFleetConfig[];
    readonly certificateRenewal?: CertificateRenewalConfig[];
  };
}

export interface PolicyConfig {
  readonly maxAttempts?: number;
  readonly windowMinutes?: number;
  readonly maxConcurrent?: number;
  /** @default 15 */
  readonly maxEventAgeMinutes?: number;
  /** @default 10 */
  readonly denialDigestMinutes?: number;
}

export interface VerificationConfig {
  readonly initialDelaySeconds?: number;
  readonly intervalSeconds?: number;
  readonly maxChecks?: number;
  readonly requiredConsecutiveSuccesses?: number;
}

export interface RunbookConfig {
  readonly name: string;
  readonly mode?: Mode;
  /** ARNs of existing CloudWatch alarms that start this runbook. */
  readonly alarmArns: string[];
  readonly policy?: PolicyConfig;
  readonly verification?: VerificationConfig;
  readonly changeCalendar?: string;
  readonly timeoutMinutes?: number;
}

export interface EcsTaskRestartConfig extends RunbookConfig {
  readonly services: Array<{ readonly clusterName: string; readonly serviceName: string }>;
  readonly strategy?: 'forceNewDeployment' | 'stopTasks';
  readonly maxStopPercent?: number;
}

/** ASG ELB health-check enforcement: from alarms, a periodic sweep of tagged groups, or by hand. */
export interface AsgElbHealthCheckConfig extends Omit<RunbookConfig, 'alarmArns'> {
  /** Alarms (target group UnHealthyHostCount, ELB 5xx) that start it. @default none */
  readonly alarmArns?: string[];
  readonly autoScalingGroups?: string[];
  /** `TargetGroup` dimension value -> Auto Scaling group name. */
  readonly targetGroups?: Record<string, string>;
  /** @default { key: 'medic:enforce-elb-health-check', value: 'true' } with a sweep */
  readonly optInTag?: { readonly key: string; readonly value: string };
  /** Sweep the opted-in groups this often. @default no sweep */
  readonly sweepMinutes?: number;
  /** @default 5 */
  readonly maxPerSweep?: number;
  /** @default 300 */
  readonly healthCheckGracePeriodSeconds?: number;
  readonly allowShortGracePeriod?: boolean;
}

/** Disk pruning through the medic-disk-prune Command document, from disk_used_percent alarms. */
export interface DiskPruneConfig extends RunbookConfig {
  readonly instances?: string[];
  readonly instanceTag?: { readonly key: string; readonly value: string };
  /** Document parameters: logRoot, logPatterns, tmpRoots, olderThanDays, journalVacuumSize, maxDeleteMB, dryRun. */
  readonly prune?: Record<string, string>;
  /** @default 5 */
  readonly deliveryTimeoutMinutes?: number;
}

/** Fleet disk pruning: one Run Command per Auto Scaling group or tag, capped by MaxConcurrency/MaxErrors. */
export interface DiskPruneFleetConfig extends RunbookConfig {
  readonly autoScalingGroups?: string[];
  readonly fleetTag?: { readonly key: string; readonly value: string };
  readonly prune?: Record<string, string>;
  /** @default '10%' */
  readonly maxConcurrency?: string;
  /** @default '1' */
  readonly maxErrors?: string;
  /** @default 5 */
  readonly deliveryTimeoutMinutes?: number;
}

/** ACM certificate renewal: from ACM's expiry events and from DaysToExpiry alarms. */
export interface CertificateRenewalConfig extends Omit<RunbookConfig, 'alarmArns'> {
  /** DaysToExpiry alarms (dimension CertificateArn) that start it. @default none */
  readonly alarmArns?: string[];
  readonly certificates?: string[];
  readonly certificateTag?: { readonly key: string; readonly value: string };
  /** Domain -> Route 53 hosted zone id, where missing validation records may be restored. */
  readonly hostedZones?: Record<string, string>;
  /** @default true */
  readonly acmEvents?: boolean;
  /** @default - by certificate type: 30 for Amazon-issued (public), 45 for private and imported (when ACM's expiry events start) */
  readonly renewWithinDays?: number;
  /** @default 12 */
  readonly renewalHorizonHours?: number;
  /** @default false */
  readonly resendValidationEmail?: boolean;
}

/** An RDS failover drill: started from the Step Functions console, or by its schedules. */
export interface RdsFailoverDrillConfig extends Omit<RunbookConfig, 'alarmArns' | 'name'> {
  /** @default 'rds-failover-drill' (state machine `medic-rds-failover-drill`) */
  readonly name?: string;
  readonly dbInstances?: string[];
  readonly dbClusters?: string[];
  readonly targetReaders?: Record<string, string>;
  /** Application alarms that must be OK before the drill and again after it. */
  readonly guardAlarmArns?: string[];
  readonly schedules?: Array<{ readonly dbInstanceIdentifier?: string; readonly dbClusterIdentifier?: string; readonly expression: string }>;
  readonly window?: { readonly days: string[]; readonly startHourUtc: number; readonly endHourUtc: number };
  /** @default 15 */
  readonly failoverTimeoutMinutes?: number;
  /** @default 5 */
  readonly guardRecoveryMinutes?: number;
}

type Check = (value: unknown, path: string) => void;

class ConfigError extends Error {}

const fail = (path: string, message: string): never => {
  throw new ConfigError(`${path}: ${message}`);
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v, p) => { if (typeof v !== 'string' || v.length === 0) fail(p, 'must be a non-empty string'); };
const num: Check = (v, p) => { if (typeof v !== 'number' || !Number.isFinite(v)) fail(p, 'must be a number'); };
const bool: Check = (v, p) => { if (typeof v !== 'boolean') fail(p, 'must be true or false'); };
const oneOf = (values: readonly string[]): Check => (v, p) => { if (!values.includes(v as string)) fail(p, `must be one of ${values.join(', ')}`); };
const list = (item: Check): Check => (v, p) => {
  if (!Array.isArray(v)) fail(p, 'must be a list');
  (v as unknown[]).forEach((x, i) => item(x, `${p}[${i}]`));
};
const object = (required: Record<string, Check>, optional: Record<string, Check> = {}): Check => (v, p) => {
  if (!isObject(v)) return fail(p, 'must be an object');
  for (const key of Object.keys(v)) {
    if (!(key in required) && !(key in optional)) fail(`${p}.${key}`, `unknown setting (known: ${[...Object.keys(required), ...Object.keys(optional)].join(', ')})`);
  }
  for (const [key, check] of Object.entries(required)) {
    if (v[key] === undefined) fail(`${p}.${key}`, 'is required');
    check(v[key], `${p}.${key}`);
  }
  for (const [key, check] of Object.entries(optional)) if (v[key] !== undefined) check(v[key], `${p}.${key}`);
};

const runbookRequired = { name: str, alarmArns: list(str) };
const runbookOptional = {
  mode: oneOf(MODES),
  policy: object({}, { maxAttempts: num, windowMinutes: num, maxConcurrent: num, maxEventAgeMinutes: num, denialDigestMinutes: num }),
  verification: object({}, { initialDelaySeconds: num, intervalSeconds: num, maxChecks: num, requiredConsecutiveSuccesses: num }),
  changeCalendar: str,
  timeoutMinutes: num,
};

const stringMap: Check = (v, p) => {
  if (!isObject(v)) return fail(p, 'must be an object of names to names');
  for (const [k, x] of Object.entries(v)) str(x, `${p}.${k}`);
};

const checkConfig = object(
  {
    stackName: str,
    env: object({ account: (v, p) => { if (typeof v !== 'string' || !/^\d{12}$/.test(v)) fail(p, 'must be a 12-digit account id'); }, region: str }),
    runbooks: object({}, {
      ecsTaskRestart: list(object(
        { ...runbookRequired, services: list(object({ clusterName: str, serviceName: str })) },
        { ...runbookOptional, strategy: oneOf(['forceNewDeployment', 'stopTasks']), maxStopPercent: num },
      )),
      rdsFailoverDrill: list(object({}, {
        ...runbookOptional,
        name: str,
        dbInstances: list(str),
        dbClusters: list(str),
        targetReaders: stringMap,
        guardAlarmArns: list(str),
        schedules: list(object({ expression: str }, { dbInstanceIdentifier: str, dbClusterIdentifier: str })),
        window: object({ days: list(str), startHourUtc: num, endHourUtc: num }),
        failoverTimeoutMinutes: num,
        guardRecoveryMinutes: num,
      })),
      diskPrune: list(object(runbookRequired, {
        ...runbookOptional,
        instances: list(str),
        instanceTag: object({ key: str, value: str }),
        prune: stringMap,
        deliveryTimeoutMinutes: num,
      })),
      diskPruneFleet: list(object(runbookRequired, {
        ...runbookOptional,
        autoScalingGroups: list(str),
        fleetTag: object({ key: str, value: str }),
        prune: stringMap,
        maxConcurrency: str,
        maxErrors: str,
        deliveryTimeoutMinutes: num,
      })),
      certificateRenewal: list(object({ name: str }, {
        ...runbookOptional,
        alarmArns: list(str),
        certificates: list(str),
        certificateTag: object({ key: str, value: str }),
        hostedZones: stringMap,
        acmEvents: bool,
        renewWithinDays: num,
        renewalHorizonHours: num,
        resendValidationEmail: bool,
      })),
      asgElbHealthCheck: list(object({ name: str }, {
        ...runbookOptional,
        alarmArns: list(str),
        autoScalingGroups: list(str),
        targetGroups: stringMap,
        optInTag: object({ key: str, value: str }),
        sweepMinutes: num,
        maxPerSweep: num,
        healthCheckGracePeriodSeconds: num,
        allowShortGracePeriod: bool,
      })),
    }),
  },
  { escalationEmails: list(str), ledgerRetentionDays: num, ledgerAnchorRetentionDays: num, $comment: () => undefined },
);

/** Names of every runbook a configuration deploys. */
export function runbookNames(config: MedicConfig): string[] {
  return [
    ...(config.runbooks.ecsTaskRestart ?? []).map((r) => r.name),
    ...(config.runbooks.rdsFailoverDrill ?? []).map((r) => r.name ?? 'rds-failover-drill'),
    ...(config.runbooks.asgElbHealthCheck ?? []).map((r) => r.name),
    ...(config.runbooks.diskPrune ?? []).map((r) => r.name),
    ...(config.runbooks.diskPruneFleet ?? []).map((r) => r.name),
    ...(config.runbooks.certificateRenewal ?? []).map((r) => r.name),
  ];
}

/** Parses and checks a configuration; errors name the offending setting. */
export function parseConfig(text: string, source = 'config'): MedicConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  checkConfig(value, source);
  const config = value as MedicConfig;
  const names = runbookNames(config);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) fail(`${source}.runbooks`, `runbook name "${repeated}" is used twice`);
  return config;
}

export function loadConfig(file: string): MedicConfig {
  if (!fs.existsSync(file)) throw new ConfigError(`configuration file ${file} does not exist`);
  return parseConfig(fs.readFileSync(file, 'utf8'), file);
}
