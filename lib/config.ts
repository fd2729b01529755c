import * as fs from 'node:fs';
import { z } from 'zod';
import { issueLines, oneLine, requiredOr } from './config-issues';
import { ALARM_ARN, list, num, object, text } from './platform/config-schema';
import type { CommonRunbookEntry } from './platform/config-schema';
import type { RunbookConstruct, RunbookKind } from './platform/runbook-kind';
import { RUNBOOK_KINDS } from './runbooks';

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

const ACCOUNT_EXPECTED = 'must be a 12-digit account id';

/** Any runbook kind, built in or your own (lib/platform/runbook-kind.ts). */
export type AnyRunbookKind = RunbookKind<string, z.ZodType<CommonRunbookEntry>, RunbookConstruct>;
/** `runbooks`: one optional list per kind, each entry checked by its kind's schema. */
type RunbookListsShape<K extends readonly AnyRunbookKind[]> = { [P in K[number] as P['configKey']]: z.ZodOptional<z.ZodArray<P['schema']>> };

/**
 * The configuration file's schema for a set of runbook kinds (checks of the whole file included):
 * {@link medicConfigSchema} for the built-in kinds, or with kinds of your own added.
 */
export function configSchemaFor<const K extends readonly AnyRunbookKind[]>(kinds: K) {
  const defaultNames = new Map<string, string>(kinds.flatMap((kind) => (kind.defaultName ? [[kind.configKey, kind.defaultName] as [string, string]] : [])));
  const runbooksSchema = object(Object.fromEntries(kinds.map((kind) => [kind.configKey, list(kind.schema).optional()])) as RunbookListsShape<K>);
  return object({
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
    for (const [where, name] of namedRunbooks(config.runbooks, defaultNames)) {
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
}

/** The configuration file's schema: the built-in runbook kinds (lib/runbooks/index.ts). */
export const medicConfigSchema = configSchemaFor(RUNBOOK_KINDS);

const formatRunbook = (where: readonly PropertyKey[]) => `runbooks.${String(where[1])}[${String(where[2])}]`;

/** Each runbook's name (a kind's default name included) with the path of its entry's `name`. */
function namedRunbooks(runbooks: Record<string, unknown>, defaultNames: ReadonlyMap<string, string>): Array<[PropertyKey[], string]> {
  return Object.entries(runbooks).flatMap(([kind, entries]) =>
    ((entries ?? []) as Array<{ name?: string }>).map((entry, i): [PropertyKey[], string] => [['runbooks', kind, i, 'name'], entry.name ?? defaultNames.get(kind) ?? '']));
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
export type { EcsTaskRestartConfig } from './runbooks/ecs-task-restart';
export type { AsgElbHealthCheckConfig } from './runbooks/asg-elb-health-check';
export type { DiskPruneConfig } from './runbooks/disk-prune';
export type { DiskPruneFleetConfig } from './runbooks/disk-prune-fleet';
export type { CertificateRenewalConfig } from './runbooks/certificate-renewal';
export type { RdsFailoverDrillConfig } from './runbooks/rds-failover-drill';

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
export function runbookNames(config: MedicConfig, kinds: readonly AnyRunbookKind[] = RUNBOOK_KINDS): string[] {
  const defaultNames = new Map(kinds.flatMap((kind) => (kind.defaultName ? [[kind.configKey, kind.defaultName] as [string, string]] : [])));
  return namedRunbooks(config.runbooks, defaultNames).map(([, name]) => name);
}

export interface ConfigOptions {
  /**
   * The runbook kinds the file may list: the built-in ones plus your own
   * (`[...RUNBOOK_KINDS, myKind]`), as given to the {@link MedicStack} too.
   * @default RUNBOOK_KINDS
   */
  readonly kinds?: readonly AnyRunbookKind[];
}

/** Parses and checks a configuration; errors name the source and the offending setting (`prod.json: env.account: ...`). */
export function parseConfig(text: string, source = 'config', options: ConfigOptions = {}): MedicConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const schema = options.kinds ? configSchemaFor(options.kinds) : medicConfigSchema;
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) {
    const problems = issueLines(result.error.issues);
    throw new ConfigError(oneLine(source, problems), problems);
  }
  return result.data;
}

/** Reads and checks a configuration file; errors name `file` as given. */
export function loadConfig(file: string, options: ConfigOptions = {}): MedicConfig {
  if (!fs.existsSync(file)) throw new ConfigError(`configuration file ${file} does not exist`);
  return parseConfig(fs.readFileSync(file, 'utf8'), file, options);
}
