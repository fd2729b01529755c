import * as fs from 'node:fs';
import { z } from 'zod';
import { MODES } from '../lambdas/shared/types';
import { issueLines, oneLine, requiredOr, strictObject } from './config-issues';

/**
 * The reference app's configuration: which runbooks to deploy and what they watch. A JSON
 * file, so attaching a runbook to an existing alarm needs no CDK code.
 *
 * One zod schema ({@link medicConfigSchema}) is the whole definition: the TypeScript types below
 * are inferred from it, `parseConfig` checks a file with it, and docs/medic.config.schema.json
 * (for editors) is generated from it (lib/config-schema-file.ts). Unknown keys are errors: a
 * misspelt setting must not silently fall back to a default. The constructs check ranges and
 * combinations themselves (at synth time, for CDK users too); this schema checks shapes, and
 * what only the whole file can tell (runbook names used twice, alarms outside the stack's
 * account and region).
 */

// ---- building blocks: each says, in the error, what it expects ----

const text = () => z.string({ error: requiredOr('must be a non-empty string') }).min(1, { error: 'must be a non-empty string' });
const num = () => z.number({ error: requiredOr('must be a number') });
const bool = () => z.boolean({ error: requiredOr('must be true or false') });
const list = <T extends z.ZodType>(item: T) => z.array(item, { error: requiredOr('must be a list') });
/** A strict object: an unknown key is an error naming the known ones. */
const object = <T extends z.ZodRawShape>(shape: T) => strictObject(shape, 'setting');
const nameMap = (what: string) => z.record(z.string(), text(), { error: requiredOr(`must be an object of ${what}`) });

/** `arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`; groups: region, account. */
const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):(\d{12}):alarm:.+$/;
const ALARM_ARN_EXPECTED = 'must be a CloudWatch alarm ARN (arn:aws:cloudwatch:<region>:<account>:alarm:<name>)';
const alarmArn = () => z.string({ error: requiredOr(ALARM_ARN_EXPECTED) }).regex(ALARM_ARN, { error: ALARM_ARN_EXPECTED });
const ACCOUNT_EXPECTED = 'must be a 12-digit account id';

const tag = (what: string) => object({ key: text(), value: text() }).describe(`{ key, value }: ${what}`);

// ---- settings every runbook takes ----

const policySchema = object({
  maxAttempts: num().optional().describe('Admissions of one resource in any sliding window, across every runbook (default 3).'),
  windowMinutes: num().optional().describe('The sliding window of maxAttempts, in minutes (default 60).'),
  maxConcurrent: num().optional().describe('Incidents of this runbook in flight at once (default 2).'),
  maxEventAgeMinutes: num().optional().describe('An event older than this is refused and paged (default 15).'),
  denialDigestMinutes: num().optional().describe('After the first page of a storm of denials, one digest per runbook and window this long (default 10).'),
}).meta({ id: 'Policy', description: 'Admission limits.' });

const verificationSchema = object({
  initialDelaySeconds: num().optional().describe('Wait before the first check (default 60).'),
  intervalSeconds: num().optional().describe('Wait between checks (default 30).'),
  maxChecks: num().optional().describe('Checks before verification fails (default 20).'),
  requiredConsecutiveSuccesses: num().optional().describe('Positive checks in a row that mean success (default 2).'),
}).meta({ id: 'Verification', description: 'How the runbook verifies its action: its own check and the alarm back to OK.' });

const common = {
  mode: z.enum(MODES, { error: requiredOr(`must be one of ${MODES.join(', ')}`) }).optional()
    .describe('observe (default: plans and records, never mutates), approve (denied and escalated until the approval gate exists), auto (acts).'),
  policy: policySchema.optional(),
  verification: verificationSchema.optional(),
  changeCalendar: text().optional().describe('An SSM Change Calendar (name or ARN): no action while it is CLOSED.'),
  timeoutMinutes: num().optional().describe('The workflow\'s timeout (default 120).'),
};
const name = () => text().describe('Unique name: lowercase letters, digits and hyphens. Names the state machine, ledger keys and the kill switch.');
const alarmArns = (what: string) => list(alarmArn()).describe(`ARNs of existing CloudWatch alarms (in the stack's account and region) that start this runbook${what}.`);

// ---- the runbooks ----

const ecsTaskRestartSchema = object({
  name: name(),
  alarmArns: alarmArns(''),
  ...common,
  services: list(object({ clusterName: text(), serviceName: text() })).describe('The services it may restart: the allow-list and the IAM scope.'),
  strategy: z.enum(['forceNewDeployment', 'stopTasks'], { error: requiredOr('must be one of forceNewDeployment, stopTasks') }).optional()
    .describe('forceNewDeployment (default): ECS replaces tasks within the deployment limits; stopTasks: stop running tasks in batches.'),
  maxStopPercent: num().optional().describe('Largest share of desired tasks stopped at once with stopTasks, 1-50 (default 25).'),
}).meta({ id: 'EcsTaskRestart', description: 'ECS task restart, started by alarms.' });

const asgElbHealthCheckSchema = object({
  name: name(),
  alarmArns: alarmArns(' (target group UnHealthyHostCount, ELB 5xx); default none').optional(),
  ...common,
  autoScalingGroups: list(text()).optional().describe('Groups (names) it may change.'),
  targetGroups: nameMap('TargetGroup dimension values to Auto Scaling group names').optional()
    .describe('TargetGroup dimension value (targetgroup/web/0123456789abcdef) -> Auto Scaling group name.'),
  optInTag: tag('groups carrying it are swept and may be changed (default medic:enforce-elb-health-check = true with a sweep)').optional(),
  sweepMinutes: num().optional().describe('Sweep the opted-in groups this often, 5 minutes to 7 days (default: no sweep).'),
  maxPerSweep: num().optional().describe('At most this many groups changed per sweep, 1-20 (default 5).'),
  healthCheckGracePeriodSeconds: num().optional().describe('Grace period set with the ELB health check (default 300).'),
  allowShortGracePeriod: bool().optional().describe('Allow a grace period under 60 seconds.'),
}).meta({ id: 'AsgElbHealthCheck', description: 'ASG ELB health-check enforcement: from alarms, a periodic sweep of tagged groups, or by hand.' });

const pruneParameters = nameMap('document parameters to values').optional()
  .describe('Document parameters: logRoot, logPatterns, tmpRoots, olderThanDays, journalVacuumSize, maxDeleteMB, dryRun (checked against the document at synth time).');
const deliveryTimeoutMinutes = () => num().optional().describe('How long Run Command may wait to reach an instance (default 5).');

const diskPruneSchema = object({
  name: name(),
  alarmArns: alarmArns(' (disk_used_percent)'),
  ...common,
  instances: list(text()).optional().describe('Instance ids it may prune.'),
  instanceTag: tag('instances carrying it may be pruned too').optional(),
  prune: pruneParameters,
  deliveryTimeoutMinutes: deliveryTimeoutMinutes(),
}).meta({ id: 'DiskPrune', description: 'Disk pruning through the medic-disk-prune Command document, from disk_used_percent alarms.' });

const diskPruneFleetSchema = object({
  name: name(),
  alarmArns: alarmArns(''),
  ...common,
  autoScalingGroups: list(text()).optional().describe('Groups whose instances it prunes.'),
  fleetTag: tag('instances carrying it are pruned').optional(),
  prune: pruneParameters,
  maxConcurrency: text().optional().describe('Run Command MaxConcurrency (default 10%).'),
  maxErrors: text().optional().describe('Run Command MaxErrors (default 1).'),
  deliveryTimeoutMinutes: deliveryTimeoutMinutes(),
}).meta({ id: 'DiskPruneFleet', description: 'Fleet disk pruning: one Run Command per Auto Scaling group or tag, capped by MaxConcurrency and MaxErrors.' });

const certificateRenewalSchema = object({
  name: name(),
  alarmArns: alarmArns(' (DaysToExpiry, dimension CertificateArn); default none').optional(),
  ...common,
  certificates: list(text()).optional().describe('Certificate ARNs (this account and region) it may act on.'),
  certificateTag: tag('certificates carrying it may be acted on too').optional(),
  hostedZones: nameMap('domains to Route 53 hosted zone ids').optional()
    .describe('Domain -> Route 53 hosted zone id, where a missing validation record may be restored.'),
  acmEvents: bool().optional().describe('Start on ACM\'s expiry and renewal-action events (default true).'),
  renewWithinDays: num().optional().describe('A certificate with more days left is not due (default by type: 30 Amazon-issued, 45 private and imported).'),
  renewalHorizonHours: num().optional().describe('How long verification waits for ACM after acting (default 12).'),
  resendValidationEmail: bool().optional().describe('Resend the validation email of email-validated certificates (default false).'),
}).meta({ id: 'CertificateRenewal', description: 'ACM certificate renewal: from ACM\'s expiry events and from DaysToExpiry alarms.' });

const rdsFailoverDrillSchema = object({
  name: text().optional().describe('Default rds-failover-drill (state machine medic-rds-failover-drill).'),
  ...common,
  dbInstances: list(text()).optional().describe('Multi-AZ DB instances it may fail over.'),
  dbClusters: list(text()).optional().describe('Aurora clusters it may fail over.'),
  targetReaders: nameMap('cluster identifiers to reader instance identifiers').optional().describe('Cluster -> the reader to fail over to.'),
  guardAlarmArns: list(alarmArn()).optional().describe('Application alarms (in the stack\'s account and region) that must be OK before the drill and again after it.'),
  schedules: list(object({ dbInstanceIdentifier: text().optional(), dbClusterIdentifier: text().optional(), expression: text() })).optional()
    .describe('Scheduled drills: an EventBridge Scheduler expression and the database.'),
  window: object({ days: list(text()), startHourUtc: num(), endHourUtc: num() }).optional().describe('Days (MON..SUN) and UTC hours a drill may start.'),
  failoverTimeoutMinutes: num().optional().describe('Default 15.'),
  guardRecoveryMinutes: num().optional().describe('Default 5.'),
}).meta({ id: 'RdsFailoverDrill', description: 'An RDS failover drill: started from the Step Functions console, or by its schedules.' });

const runbooksSchema = object({
  ecsTaskRestart: list(ecsTaskRestartSchema).optional(),
  rdsFailoverDrill: list(rdsFailoverDrillSchema).optional(),
  asgElbHealthCheck: list(asgElbHealthCheckSchema).optional(),
  diskPrune: list(diskPruneSchema).optional(),
  diskPruneFleet: list(diskPruneFleetSchema).optional(),
  certificateRenewal: list(certificateRenewalSchema).optional(),
});

/** The configuration file, as one schema (checks of the whole file included). */
export const medicConfigSchema = object({
  $schema: z.string().optional().describe('This file\'s JSON Schema, for editors (ignored by medic).'),
  $comment: z.unknown().optional().describe('Free text (ignored).'),
  stackName: text().describe('The CloudFormation stack name.'),
  env: object({
    account: z.string({ error: requiredOr(ACCOUNT_EXPECTED) }).regex(/^\d{12}$/, { error: ACCOUNT_EXPECTED }),
    region: text(),
  }).describe('Account and region the stack deploys to; runbooks act only there.'),
  escalationEmails: list(text()).optional().describe('Email subscriptions to the escalation topic.'),
  ledgerRetentionDays: num().optional()
    .describe('Days an incident stays in the ledger table after its newest entry (at least 90), then it is archived and only then deleted; 0 or absent keeps it forever. Never a TTL.'),
  ledgerAnchorRetentionDays: num().optional().describe('Days each ledger anchor and archive is locked (S3 Object Lock, compliance mode), at least 1 (default 365).'),
  runbooks: runbooksSchema.describe('The runbooks to deploy, by kind.'),
}).superRefine((config, ctx) => {
  const seen = new Map<string, string>();
  for (const [where, name] of namedRunbooks(config)) {
    const first = seen.get(name);
    if (first) ctx.addIssue({ code: 'custom', path: where, message: `runbook name "${name}" is used twice (first by ${first}); names must be unique` });
    else seen.set(name, formatRunbook(where));
  }
  // An env that is itself wrong is reported as such; alarms are compared with a valid one only.
  if (!/^\d{12}$/.test(config.env.account) || config.env.region === '') return;
  for (const [kind, entries] of Object.entries(config.runbooks)) {
    for (const [i, entry] of (entries ?? []).entries()) {
      for (const key of ['alarmArns', 'guardAlarmArns'] as const) {
        const arns = (entry as { [k in typeof key]?: string[] })[key] ?? [];
        for (const [j, arn] of arns.entries()) {
          const problem = outsideEnv(arn, config.env);
          if (problem) ctx.addIssue({ code: 'custom', path: ['runbooks', kind, i, key, j], message: problem });
        }
      }
    }
  }
}).meta({ title: 'medic configuration', description: 'The reference app\'s configuration (bin/medic.ts): which runbooks to deploy and what they watch. docs/runbooks.md describes every setting.' });

const formatRunbook = (where: readonly PropertyKey[]) => `runbooks.${String(where[1])}[${String(where[2])}]`;

/** Each runbook's name (the drill's default included) with the path of its entry's `name`. */
function namedRunbooks(config: Pick<MedicConfig, 'runbooks'>): Array<[PropertyKey[], string]> {
  return Object.entries(config.runbooks).flatMap(([kind, entries]) =>
    ((entries ?? []) as Array<{ name?: string }>).map((entry, i): [PropertyKey[], string] => [['runbooks', kind, i, 'name'], entry.name ?? 'rds-failover-drill']));
}

/**
 * Why an alarm outside the stack's account and region cannot start a runbook, or undefined. A
 * runbook's EventBridge rule sees only its own account's and region's alarm events, and the
 * runbooks act only in the stack's env: medic has no cross-account or cross-region setting.
 */
function outsideEnv(arn: string, env: { account: string; region: string }): string | undefined {
  const match = ALARM_ARN.exec(arn);
  if (!match) return undefined;
  const [, region, account] = match;
  if (account === env.account && region === env.region) return undefined;
  const other = [account !== env.account ? `account ${account}` : '', region !== env.region ? `region ${region}` : ''].filter(Boolean).join(' and ');
  return `the alarm is in ${other}, not the stack's env (account ${env.account}, region ${env.region}); `
    + 'medic has no cross-account or cross-region setting: its rules see only alarms of the stack\'s own account and region, so deploy a stack there';
}

// ---- the types, all inferred from the schema ----

export type MedicConfig = z.infer<typeof medicConfigSchema>;
/** Admission limits of a runbook. */
export type PolicyConfig = z.infer<typeof policySchema>;
export type VerificationConfig = z.infer<typeof verificationSchema>;
/** What every alarm-driven runbook takes. */
export type RunbookConfig = Pick<EcsTaskRestartConfig, 'name' | 'alarmArns' | keyof typeof common>;
export type EcsTaskRestartConfig = z.infer<typeof ecsTaskRestartSchema>;
/** ASG ELB health-check enforcement: from alarms, a periodic sweep of tagged groups, or by hand. */
export type AsgElbHealthCheckConfig = z.infer<typeof asgElbHealthCheckSchema>;
/** Disk pruning through the medic-disk-prune Command document, from disk_used_percent alarms. */
export type DiskPruneConfig = z.infer<typeof diskPruneSchema>;
/** Fleet disk pruning: one Run Command per Auto Scaling group or tag, capped by MaxConcurrency/MaxErrors. */
export type DiskPruneFleetConfig = z.infer<typeof diskPruneFleetSchema>;
/** ACM certificate renewal: from ACM's expiry events and from DaysToExpiry alarms. */
export type CertificateRenewalConfig = z.infer<typeof certificateRenewalSchema>;
/** An RDS failover drill: started from the Step Functions console, or by its schedules. */
export type RdsFailoverDrillConfig = z.infer<typeof rdsFailoverDrillSchema>;

/** A configuration (or scenario) that cannot be used: one line naming the file and the setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Every problem found, `<path>: <message>` (the message shows the first few). */
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = []) {
    super(message);
    this.problems = problems;
  }
}

/** Names of every runbook a configuration deploys. */
export function runbookNames(config: MedicConfig): string[] {
  return namedRunbooks(config).map(([, name]) => name);
}

/** Parses and checks a configuration; errors name the source and the offending setting (`prod.json: env.account: ...`). */
export function parseConfig(text: string, source = 'config'): MedicConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const result = medicConfigSchema.safeParse(value, { reportInput: true });
  if (!result.success) {
    const problems = issueLines(result.error.issues);
    throw new ConfigError(oneLine(source, problems), problems);
  }
  return result.data;
}

/** Reads and checks a configuration file; errors name `file` as given. */
export function loadConfig(file: string): MedicConfig {
  if (!fs.existsSync(file)) throw new ConfigError(`configuration file ${file} does not exist`);
  return parseConfig(fs.readFileSync(file, 'utf8'), file);
}
