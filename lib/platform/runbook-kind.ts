import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { z } from 'zod';
import type { CommonRunbookEntry } from './config-schema';
import type { MedicPlatform } from './platform';
import type { Runbook, RunbookCommonProps } from './runbook';

/** A runbook construct: whatever it adds, it holds its {@link Runbook} and its step handler. */
export interface RunbookConstruct extends Construct {
  readonly runbook: Runbook;
  /** The handler of its Plan, Act, Verify (and Roll back) steps. */
  readonly stepFunction: lambda.IFunction;
}

/**
 * One kind of runbook, as the config-driven stack, the config schema and the tests know it: the
 * module of each kind (lib/runbooks/<kind>.ts) exports its construct and one of these, and
 * lib/runbooks/index.ts lists them. Adding a kind is that module, its handler, its tests and a
 * scenario; nothing else lists kinds.
 */
export interface RunbookKind<Key extends string = string, Schema extends z.ZodType<CommonRunbookEntry> = z.ZodType<CommonRunbookEntry>, Built extends RunbookConstruct = RunbookConstruct> {
  /** The kind its runbooks record (the runbook spec's `kind`, ledger entries), e.g. `ecs-task-restart`. */
  readonly kind: string;
  /** The key of its list under `runbooks` in the config file, e.g. `ecsTaskRestart`. */
  readonly configKey: Key;
  /** Its step handler: the folder under `lambdas/`. */
  readonly handler: string;
  /** One entry of its list in the config file. */
  readonly schema: Schema;
  /** The name of an entry that gives none, for kinds whose name is optional. */
  readonly defaultName?: string;
  /** Builds one runbook of the config-driven stack from its config entry. */
  build(scope: Construct, id: string, entry: z.infer<Schema>, platform: MedicPlatform): Built;
}

/** Declares a runbook kind, keeping its config key and schema types (for the config's inferred types). */
export function defineRunbookKind<const Key extends string, Schema extends z.ZodType<CommonRunbookEntry>, Built extends RunbookConstruct>(
  kind: RunbookKind<Key, Schema, Built>,
): RunbookKind<Key, Schema, Built> {
  return kind;
}

/** The construct id of a config entry's runbook in the config-driven stack: `EcsTaskRestart-api-restart`. */
export function runbookConstructId(kind: Pick<RunbookKind, 'configKey'>, name: string): string {
  return `${kind.configKey[0].toUpperCase()}${kind.configKey.slice(1)}-${name}`;
}

/** The props every runbook takes, from the settings every config entry takes (alarms imported by ARN). */
export function commonRunbookProps(scope: Construct, platform: MedicPlatform, entry: CommonRunbookEntry & { readonly name: string }): RunbookCommonProps {
  const minutes = (m: number | undefined) => (m === undefined ? undefined : Duration.minutes(m));
  const seconds = (s: number | undefined) => (s === undefined ? undefined : Duration.seconds(s));
  return {
    platform,
    name: entry.name,
    mode: entry.mode,
    approval: entry.approval && {
      approvers: entry.approval.approvers, minApprovals: entry.approval.minApprovals, timeout: minutes(entry.approval.timeoutMinutes),
      onTimeout: entry.approval.onTimeout,
      topics: entry.approval.topicArns?.map((arn, i) => sns.Topic.fromTopicArn(scope, `ApprovalTopic-${entry.name}-${i}`, arn)),
    },
    alarms: (entry.alarmArns ?? []).map((arn, i) => cloudwatch.Alarm.fromAlarmArn(scope, `Alarm-${entry.name}-${i}`, arn)),
    policy: entry.policy && {
      maxAttempts: entry.policy.maxAttempts, window: minutes(entry.policy.windowMinutes), maxConcurrent: entry.policy.maxConcurrent,
      maxEventAge: minutes(entry.policy.maxEventAgeMinutes), denialDigestWindow: minutes(entry.policy.denialDigestMinutes),
      lowRisk: entry.policy.lowRisk,
    },
    verification: entry.verification && {
      initialDelay: seconds(entry.verification.initialDelaySeconds),
      interval: seconds(entry.verification.intervalSeconds),
      maxChecks: entry.verification.maxChecks,
      requiredConsecutiveSuccesses: entry.verification.requiredConsecutiveSuccesses,
    },
    changeCalendar: entry.changeCalendar,
    timeout: minutes(entry.timeoutMinutes),
  };
}
