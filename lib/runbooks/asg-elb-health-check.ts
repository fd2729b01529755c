import { Duration, Stack } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { MedicFunction } from '../platform/function';
import { acknowledge } from '../platform/nag';
import { matchesUnlessToken, withDefaults, type RunbookPolicyProps } from '../platform/policy';
import { Runbook, type RunbookCommonProps } from '../platform/runbook';
import { alarmToEscalationTopic } from '../platform/self-monitoring';
import { alarmArns, bool, commonSettings, list, nameMap, num, object, runbookName, tag, text } from '../platform/config-schema';
import type { z } from 'zod';
import { commonRunbookProps, defineRunbookKind } from '../platform/runbook-kind';
import { ASG_ELB_HEALTH_CHECK_DEFAULTS, type AsgElbHealthCheckOptions } from '../../lambdas/asg-elb-health-check/options';

/** The tag that opts an Auto Scaling group into the sweep (and into the runbook's allow-list). */
export interface OptInTag {
  readonly key: string;
  readonly value: string;
}

/** An Auto Scaling group: its name, or the group itself (`autoscaling.IAutoScalingGroup`). The name may be a token. */
export type AutoScalingGroupTarget = string | autoscaling.IAutoScalingGroup;

/** The name of `group`, whichever way it was given. */
export function autoScalingGroupName(group: AutoScalingGroupTarget): string {
  return typeof group === 'string' ? group : group.autoScalingGroupName;
}

/** Properties of an {@link AsgElbHealthCheckRunbook}. */
export interface AsgElbHealthCheckRunbookProps extends RunbookCommonProps {
  /**
   * Auto Scaling groups this runbook may change: names, or the groups themselves
   * (`autoscaling.IAutoScalingGroup`, whose name may be a token). An alarm's
   * `AutoScalingGroupName` dimension picks one; an alarm without it uses the single group listed
   * here.
   * @default - none: only groups from `targetGroups` or opted in by tag
   */
  readonly autoScalingGroups?: AutoScalingGroupTarget[];
  /**
   * Target group alarms (`UnHealthyHostCount`, 5xx) name a target group, not a group: map the
   * alarm's `TargetGroup` dimension (e.g. `targetgroup/web/0123456789abcdef`, or a target
   * group's `targetGroupFullName` token) to the Auto Scaling group behind it (a name or the
   * group). Mapped groups join the allow-list.
   * @default - none
   */
  readonly targetGroups?: Record<string, AutoScalingGroupTarget>;
  /**
   * The opt-in tag. Tagged groups are swept, and may be changed when named by the sweep or by
   * hand; IAM allows the update only on groups carrying the tag.
   * @default - { key: 'medic:enforce-elb-health-check', value: 'true' } when `sweep` is set; otherwise no tag opt-in
   */
  readonly optInTag?: OptInTag;
  /**
   * Run a sweep this often over the opted-in groups; each non-compliant group becomes its own
   * incident through the same workflow and admission.
   * @default - no sweep
   */
  readonly sweep?: Duration;
  /**
   * At most this many groups changed per sweep (1-20); the rest wait for the next sweep.
   * @default 5
   */
  readonly maxPerSweep?: number;
  /**
   * `HealthCheckGracePeriod` set with `HealthCheckType=ELB`.
   * @default Duration.seconds(300)
   */
  readonly healthCheckGracePeriod?: Duration;
  /**
   * A grace period under 60 s makes new instances fail ELB checks while they boot; it is
   * refused unless this is true.
   * @default false
   */
  readonly allowShortGracePeriod?: boolean;
}

/** Auto Scaling group names this runbook accepts (a subset of what AWS allows: no `:` or `/`, which ARNs use). */
const GROUP_PATTERN = '[A-Za-z0-9._ -]{1,255}';
const TARGET_GROUP_PATTERN = /^targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/;
export const DEFAULT_OPT_IN_TAG: OptInTag = { key: 'medic:enforce-elb-health-check', value: 'true' };

/**
 * ASG ELB health-check enforcement: an Auto Scaling group behind a load balancer that uses only
 * EC2 health checks keeps instances whose application fails. From an attached alarm, a periodic
 * sweep of opted-in groups, or by hand, this sets `HealthCheckType=ELB` with a grace period,
 * verifies the setting took and the group's healthy capacity stayed at or above its minimum
 * through the verification window, and otherwise rolls back to the recorded previous values.
 */
export class AsgElbHealthCheckRunbook extends Construct {
  public readonly runbook: Runbook;
  public readonly stepFunction: MedicFunction;
  /** The sweep's function, when `sweep` is set. */
  public readonly sweepFunction?: MedicFunction;
  /** The sweep's schedule, when `sweep` is set. */
  public readonly sweepRule?: events.Rule;

  constructor(scope: Construct, id: string, props: AsgElbHealthCheckRunbookProps) {
    super(scope, id);
    const name = props.name;
    const targetGroups = Object.entries(props.targetGroups ?? {}).map(([targetGroup, group]) => [targetGroup, autoScalingGroupName(group)] as const);
    const configured = [...new Set([...(props.autoScalingGroups ?? []).map(autoScalingGroupName), ...targetGroups.map(([, group]) => group)])];
    const optInTag = props.optInTag ?? (props.sweep ? DEFAULT_OPT_IN_TAG : undefined);
    const grace = props.healthCheckGracePeriod ?? Duration.seconds(ASG_ELB_HEALTH_CHECK_DEFAULTS.healthCheckGracePeriod);
    const maxPerSweep = props.maxPerSweep ?? 5;
    validate(name, props, configured, optInTag, grace, maxPerSweep);

    this.stepFunction = new MedicFunction(this, 'Steps', {
      handler: 'asg-elb-health-check',
      description: `medic runbook ${name}: ASG ELB health-check enforcement (plan, act, verify, roll back)`,
      environment: props.platform.handlerEnvironment(),
    });
    this.grantAutoScaling(this.stepFunction, configured, optInTag, (props.mode ?? 'observe') !== 'observe');

    this.runbook = new Runbook(this, 'Runbook', {
      ...props,
      kind: 'asg-elb-health-check',
      stepFunction: this.stepFunction,
      reversible: true,
      // A sweep starts up to maxPerSweep incidents at once; a lower cap would deny (and escalate) the rest.
      policy: withDefaults<RunbookPolicyProps>(props.sweep ? { maxConcurrent: maxPerSweep } : {}, props.policy),
      // Enforcement must hold through a whole window: 5 healthy readings a minute apart.
      verification: withDefaults({ initialDelay: Duration.seconds(60), interval: Duration.seconds(60), maxChecks: 8, requiredConsecutiveSuccesses: 5 }, props.verification),
      options: { healthCheckGracePeriod: grace.toSeconds(), autoScalingGroups: configured, ...(optInTag ? { optInTag } : {}) } satisfies AsgElbHealthCheckOptions,
      target: {
        type: 'autoscaling-group',
        dimensions: { AutoScalingGroupName: GROUP_PATTERN },
        idTemplate: '{AutoScalingGroupName}',
        arnTemplate: 'arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/{AutoScalingGroupName}',
        allowed: configured.map((group) => ({ AutoScalingGroupName: group })),
        aliases: targetGroups.map(([targetGroup, group]) => ({ dimensions: { TargetGroup: targetGroup }, target: { AutoScalingGroupName: group } })),
      },
      manualTargets: {
        autoScalingGroupName: {
          type: 'autoscaling-group',
          pattern: GROUP_PATTERN,
          arnTemplate: 'arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/{id}',
          allowed: configured,
          ...(optInTag ? { allowedByTag: optInTag } : {}),
        },
      },
    });

    this.node.addValidation({
      validate: () => (this.runbook.rule && configured.length === 0
        ? [`runbook ${name} has alarms attached but no autoScalingGroups or targetGroups, so every alarm would be rejected`] : []),
    });

    if (props.sweep) {
      this.sweepFunction = new MedicFunction(this, 'Sweep', {
        handler: 'asg-elb-sweep',
        description: `medic runbook ${name}: sweep of Auto Scaling groups tagged ${optInTag!.key}=${optInTag!.value}`,
        timeout: Duration.minutes(2),
        environment: {
          ...props.platform.handlerEnvironment(),
          MEDIC_SWEEP_RUNBOOK: name,
          MEDIC_SWEEP_STATE_MACHINE_ARN: this.runbook.stateMachine.stateMachineArn,
          MEDIC_SWEEP_TAG_KEY: optInTag!.key,
          MEDIC_SWEEP_TAG_VALUE: optInTag!.value,
          MEDIC_SWEEP_MAX_PER_SWEEP: String(maxPerSweep),
          MEDIC_SWEEP_KILL_SWITCH_GLOBAL: props.platform.globalKillSwitch.parameterName,
          MEDIC_SWEEP_KILL_SWITCH_RUNBOOK: this.runbook.killSwitch.parameterName,
        },
      });
      this.grantAutoScaling(this.sweepFunction, [], undefined, false);
      this.runbook.stateMachine.grantStartExecution(this.sweepFunction);
      props.platform.grantLedgerAppend(this.sweepFunction);
      props.platform.grantKillSwitchRead(this.sweepFunction);
      this.sweepRule = new events.Rule(this, 'SweepSchedule', {
        description: `medic: sweep for runbook ${name}`,
        schedule: events.Schedule.rate(props.sweep),
        targets: [new targets.LambdaFunction(this.sweepFunction, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
      });
      this.alarmOnSweepErrors(props, this.sweepFunction);
    }
  }

  /** See {@link Runbook.attachTo}. */
  public attachTo(...args: Parameters<Runbook['attachTo']>): this {
    this.runbook.attachTo(...args);
    return this;
  }

  /**
   * Describe on `*` (Auto Scaling has no resource-level permissions for Describe*); the update
   * only on the configured groups' ARNs and on groups carrying the opt-in tag, and never in
   * observe mode.
   */
  private grantAutoScaling(fn: MedicFunction, groups: string[], optInTag: OptInTag | undefined, mayUpdate: boolean): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['autoscaling:DescribeAutoScalingGroups'], resources: ['*'] }));
    acknowledge(fn, ['IAM5[Resource::*]'], 'autoscaling:DescribeAutoScalingGroups supports no resource-level permissions.');
    if (!mayUpdate) return;
    const stack = Stack.of(this);
    const groupArn = (group: string) => `arn:${stack.partition}:autoscaling:${stack.region}:${stack.account}:autoScalingGroup:*:autoScalingGroupName/${group}`;
    const granted = [...groups.map(groupArn), ...(optInTag ? [groupArn('*')] : [])];
    if (groups.length > 0) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['autoscaling:UpdateAutoScalingGroup'], resources: groups.map(groupArn) }));
    }
    if (optInTag) {
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['autoscaling:UpdateAutoScalingGroup'],
        resources: [groupArn('*')], // opted-in groups are only known by their tag, which the condition requires
        conditions: { StringEquals: { [`autoscaling:ResourceTag/${optInTag.key}`]: optInTag.value } },
      }));
    }
    acknowledge(fn, granted.map((arn) => `IAM5[Resource::${arn}]`),
      'Auto Scaling group ARNs contain a generated id, so the id is a wildcard; the group name (or the opt-in tag condition) pins the resource.');
  }

  /** A sweep that fails (after EventBridge's retries) must reach a human, not vanish. */
  private alarmOnSweepErrors(props: AsgElbHealthCheckRunbookProps, fn: MedicFunction): void {
    alarmToEscalationTopic(this, 'SweepErrorsAlarm', props.platform, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      `medic: the sweep of runbook ${props.name} failed; some non-compliant groups were not looked at`);
  }
}

function validate(name: string, props: AsgElbHealthCheckRunbookProps, configured: string[], optInTag: OptInTag | undefined, grace: Duration, maxPerSweep: number): void {
  const groupPattern = new RegExp(`^${GROUP_PATTERN}$`);
  for (const group of configured) {
    if (!matchesUnlessToken(group, groupPattern)) throw new Error(`runbook ${name}: "${group}" is not an Auto Scaling group name this runbook accepts (${GROUP_PATTERN})`);
  }
  for (const targetGroup of Object.keys(props.targetGroups ?? {})) {
    if (!matchesUnlessToken(targetGroup, TARGET_GROUP_PATTERN)) throw new Error(`runbook ${name}: "${targetGroup}" is not a TargetGroup dimension value (targetgroup/<name>/<16 hex digits>)`);
  }
  if (configured.length === 0 && !optInTag) throw new Error(`runbook ${name}: list autoScalingGroups or targetGroups, or set sweep / optInTag to opt groups in by tag`);
  const seconds = grace.toSeconds();
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 7200) throw new Error(`runbook ${name}: healthCheckGracePeriod must be 0 to 7200 whole seconds (got ${seconds})`);
  if (seconds < 60 && !props.allowShortGracePeriod) {
    throw new Error(`runbook ${name}: healthCheckGracePeriod ${seconds}s is under 60 s, so booting instances would fail ELB checks and be replaced; `
      + 'set allowShortGracePeriod to insist');
  }
  if (!Number.isInteger(maxPerSweep) || maxPerSweep < 1 || maxPerSweep > 20) throw new Error(`runbook ${name}: maxPerSweep must be a whole number from 1 to 20 (got ${maxPerSweep})`);
  if (props.sweep && (props.sweep.toSeconds() < 300 || props.sweep.toSeconds() > 7 * 86400)) throw new Error(`runbook ${name}: sweep must be between 5 minutes and 7 days`);
  const maxConcurrent = props.policy?.maxConcurrent;
  if (props.sweep && maxConcurrent !== undefined && maxConcurrent < maxPerSweep) {
    throw new Error(`runbook ${name}: policy.maxConcurrent (${maxConcurrent}) is below maxPerSweep (${maxPerSweep}), so a sweep's extra incidents would be denied and escalated`);
  }
  if (optInTag && (!optInTag.key || !optInTag.value)) throw new Error(`runbook ${name}: optInTag needs a key and a value`);
}

// ---- its entry in the config file (`runbooks.asgElbHealthCheck`) and the registry of kinds ----

const asgElbHealthCheckSchema = object({
  name: runbookName(),
  alarmArns: alarmArns(' (target group UnHealthyHostCount, ELB 5xx); default none').optional(),
  ...commonSettings,
  autoScalingGroups: list(text()).optional().describe('Groups (names) it may change.'),
  targetGroups: nameMap('TargetGroup dimension values to Auto Scaling group names').optional()
    .describe('TargetGroup dimension value (targetgroup/web/0123456789abcdef) -> Auto Scaling group name.'),
  optInTag: tag('groups carrying it are swept and may be changed (default medic:enforce-elb-health-check = true with a sweep)').optional(),
  sweepMinutes: num().optional().describe('Sweep the opted-in groups this often, 5 minutes to 7 days (default: no sweep).'),
  maxPerSweep: num().optional().describe('At most this many groups changed per sweep, 1-20 (default 5).'),
  healthCheckGracePeriodSeconds: num().optional().describe(`Grace period set with the ELB health check (default ${ASG_ELB_HEALTH_CHECK_DEFAULTS.healthCheckGracePeriod}).`),
  allowShortGracePeriod: bool().optional().describe('Allow a grace period under 60 seconds.'),
}).meta({ id: 'AsgElbHealthCheck', description: 'ASG ELB health-check enforcement: from alarms, a periodic sweep of tagged groups, or by hand.' });

export type AsgElbHealthCheckConfig = z.infer<typeof asgElbHealthCheckSchema>;

/** ASG ELB health-check enforcement in the config-driven stack: each entry of `runbooks.asgElbHealthCheck` is one AsgElbHealthCheckRunbook. */
export const asgElbHealthCheckKind = defineRunbookKind({
  kind: 'asg-elb-health-check',
  configKey: 'asgElbHealthCheck',
  handler: 'asg-elb-health-check',
  schema: asgElbHealthCheckSchema,
  build: (scope, id, entry, platform) => new AsgElbHealthCheckRunbook(scope, id, {
    ...commonRunbookProps(scope, platform, entry),
    autoScalingGroups: entry.autoScalingGroups,
    targetGroups: entry.targetGroups,
    optInTag: entry.optInTag,
    sweep: entry.sweepMinutes === undefined ? undefined : Duration.minutes(entry.sweepMinutes),
    maxPerSweep: entry.maxPerSweep,
    healthCheckGracePeriod: entry.healthCheckGracePeriodSeconds === undefined ? undefined : Duration.seconds(entry.healthCheckGracePeriodSeconds),
    allowShortGracePeriod: entry.allowShortGracePeriod,
  }),
});
