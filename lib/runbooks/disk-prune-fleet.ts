import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TargetSpec } from '../../lambdas/shared/types';
import { autoScalingGroupName, type AutoScalingGroupTarget } from './asg-elb-health-check';
import { DiskPruneDocument, type PruneSettings } from './disk-prune-document';
import { MedicFunction } from '../platform/function';
import { acknowledge } from '../platform/nag';
import { matchesUnlessToken, withDefaults } from '../platform/policy';
import { Runbook, type RunbookCommonProps } from '../platform/runbook';
import { alarmArns, commonSettings, list, object, runbookName, tag, text } from '../platform/config-schema';
import type { z } from 'zod';
import { commonRunbookProps, defineRunbookKind } from '../platform/runbook-kind';
import { DISK_PRUNE_FLEET_DEFAULTS, type DiskPruneFleetOptions } from '../../lambdas/disk-prune-fleet/options';
import { CANCEL_REASON, pruneParameters, deliveryTimeoutMinutes } from './disk-prune-document';

/** Properties of a {@link DiskPruneFleetRunbook}. Give exactly one of `autoScalingGroups` and `optInTag`. */
export interface DiskPruneFleetRunbookProps extends RunbookCommonProps {
  /**
   * Fleets by Auto Scaling group (names, or the groups themselves: `autoscaling.IAutoScalingGroup`,
   * whose name may be a token): the alarm's `AutoScalingGroupName` dimension (CloudWatch agent
   * `aggregation_dimensions`) picks one; an alarm without it uses the single group listed.
   * @default - none: give `optInTag` instead
   */
  readonly autoScalingGroups?: AutoScalingGroupTarget[];
  /**
   * One fleet: the instances carrying this tag.
   * @default - none: give `autoScalingGroups` instead
   */
  readonly optInTag?: { readonly key: string; readonly value: string };
  /** Document parameters. */
  readonly prune?: PruneSettings;
  /**
   * Run Command `MaxConcurrency`: instances pruned at once, `1`-`50` or `1%`-`50%`.
   * @default '10%'
   */
  readonly maxConcurrency?: string;
  /**
   * Run Command `MaxErrors`: failed instances after which no more are started, `0`-`10` or `0%`-`25%`.
   * @default '1'
   */
  readonly maxErrors?: string;
  /** @default Duration.minutes(5) */
  readonly deliveryTimeout?: Duration;
}

const GROUP_PATTERN = '[A-Za-z0-9._ -]{1,255}';
const TAG_PART = /^[A-Za-z0-9 _.:/=+@-]{1,128}$/;

/** `count` within `maxCount`, or `percent%` within `maxPercent`. */
function withinCap(value: string, minCount: number, maxCount: number, maxPercent: number): boolean {
  const percent = /^(\d{1,3})%$/.exec(value);
  if (percent) return Number(percent[1]) >= minCount && Number(percent[1]) <= maxPercent;
  return /^\d{1,3}$/.test(value) && Number(value) >= minCount && Number(value) <= maxCount;
}

/**
 * Disk pruning across a fleet: one `SendCommand` of the medic-disk-prune document to every
 * instance of an Auto Scaling group (or carrying a tag), with Run Command's `MaxConcurrency` and
 * `MaxErrors` as the blast-radius caps, then the alarm's (fleet-level) metric back within its
 * threshold, or an escalation with what each instance reported.
 */
export class DiskPruneFleetRunbook extends Construct {
  public readonly runbook: Runbook;
  public readonly stepFunction: MedicFunction;
  public readonly document: DiskPruneDocument;

  constructor(scope: Construct, id: string, props: DiskPruneFleetRunbookProps) {
    super(scope, id);
    const name = props.name;
    const groups = (props.autoScalingGroups ?? []).map(autoScalingGroupName);
    const maxConcurrency = props.maxConcurrency ?? DISK_PRUNE_FLEET_DEFAULTS.maxConcurrency;
    const maxErrors = props.maxErrors ?? DISK_PRUNE_FLEET_DEFAULTS.maxErrors;
    const deliveryTimeout = props.deliveryTimeout ?? Duration.seconds(DISK_PRUNE_FLEET_DEFAULTS.deliveryTimeoutSeconds);
    if ((groups.length > 0) === !!props.optInTag) throw new Error(`runbook ${name}: give exactly one of autoScalingGroups and optInTag`);
    const groupPattern = new RegExp(`^${GROUP_PATTERN}$`);
    for (const group of groups) if (!matchesUnlessToken(group, groupPattern)) throw new Error(`runbook ${name}: "${group}" is not an Auto Scaling group name this runbook accepts`);
    if (props.optInTag && !(TAG_PART.test(props.optInTag.key) && TAG_PART.test(props.optInTag.value))) throw new Error(`runbook ${name}: optInTag needs a valid key and value`);
    if (!withinCap(maxConcurrency, 1, 50, 50)) {
      throw new Error(`runbook ${name}: maxConcurrency "${maxConcurrency}" must be 1-50 instances or 1%-50%, so a bad prune cannot reach the whole fleet at once`);
    }
    if (!withinCap(maxErrors, 0, 10, 25)) throw new Error(`runbook ${name}: maxErrors "${maxErrors}" must be 0-10 instances or 0%-25%`);
    const timeoutSeconds = deliveryTimeout.toSeconds();
    if (timeoutSeconds < 30 || timeoutSeconds > 3600) throw new Error(`runbook ${name}: deliveryTimeout must be between 30 seconds and 1 hour`);

    this.document = DiskPruneDocument.of(this);
    const documentParameters = this.document.resolveParameters(name, props.prune ?? {});
    this.stepFunction = new MedicFunction(this, 'Steps', {
      handler: 'disk-prune-fleet',
      description: `medic runbook ${name}: fleet disk pruning through SSM Run Command (plan, act, verify)`,
      environment: props.platform.handlerEnvironment(),
    });
    this.grant(groups, props.optInTag, (props.mode ?? 'observe') !== 'observe');

    const fleetTagId = props.optInTag ? `${props.optInTag.key}=${props.optInTag.value}` : undefined;
    const target: TargetSpec = props.optInTag
      ? {
        type: 'ec2-fleet-by-tag',
        dimensions: {},
        idTemplate: fleetTagId!,
        // Not a resource ARN: the fleet's identity for leases, rate limits and the ledger's by-target index.
        arnTemplate: `arn:{partition}:ec2:{region}:{account}:instance/*?tag=${fleetTagId}`,
        allowed: [{}],
        singleMetricAlarms: true,
      }
      : {
        type: 'autoscaling-group',
        dimensions: { AutoScalingGroupName: GROUP_PATTERN },
        idTemplate: '{AutoScalingGroupName}',
        arnTemplate: 'arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/{AutoScalingGroupName}',
        allowed: groups.map((group) => ({ AutoScalingGroupName: group })),
        // Verification reads the alarm's own disk metric.
        singleMetricAlarms: true,
      };
    this.runbook = new Runbook(this, 'Runbook', {
      ...props,
      kind: 'disk-prune-fleet',
      stepFunction: this.stepFunction,
      reversible: false,
      verification: withDefaults({ initialDelay: Duration.seconds(60), interval: Duration.seconds(60), maxChecks: 30, requiredConsecutiveSuccesses: 2 }, props.verification),
      options: {
        documentName: this.document.documentName,
        documentParameters,
        deliveryTimeoutSeconds: timeoutSeconds,
        maxConcurrency,
        maxErrors,
        ...(props.optInTag ? { fleetTagKey: props.optInTag.key } : {}),
      } satisfies DiskPruneFleetOptions,
      target,
    });
  }

  /** See {@link Runbook.attachTo}. */
  public attachTo(...args: Parameters<Runbook['attachTo']>): this {
    this.runbook.attachTo(...args);
    return this;
  }

  /** SendCommand only with this document and only on instances tagged as the fleet's members; none in observe mode. */
  private grant(groups: string[], tag: DiskPruneFleetRunbookProps['optInTag'], maySend: boolean): void {
    const stack = Stack.of(this);
    const fn = this.stepFunction;
    // GetCommandInvocation reads an instance's whole summary (StandardOutputContent: the first
    // 24,000 characters of stdout) when ListCommandInvocations' Output (at most 2,500) cut it. Like
    // the other reads it has no resource type in the Service Authorization Reference (AWS's own
    // AmazonGuardDutyServiceRolePolicy grants it on "*" too), so it cannot be narrowed further;
    // it only reads, and the command ids it is asked about come from this runbook's own SendCommand.
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ssm:DescribeInstanceInformation', 'ssm:ListCommands', 'ssm:ListCommandInvocations', 'ssm:GetCommandInvocation', 'cloudwatch:GetMetricData'],
      resources: ['*'],
    }));
    const reads = 'DescribeInstanceInformation, ListCommands, ListCommandInvocations, GetCommandInvocation and GetMetricData support no resource-level permissions.';
    if (maySend) {
      // The check cancels the runbook's own command when a guard closes while Run Command is
      // still reaching the fleet (lambdas/shared/prune-command.ts, stopIfGuardCloses).
      // CancelCommand has no resource type in the Service Authorization Reference: "*" only.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:CancelCommand'], resources: ['*'] }));
    }
    // One acknowledgement of Resource::* for this function, naming every action it covers.
    acknowledge(fn, ['IAM5[Resource::*]'], maySend ? `${reads} ${CANCEL_REASON}` : reads);
    if (!maySend) return;
    const condition = tag
      ? { [`ssm:resourceTag/${tag.key}`]: tag.value }
      : { 'ssm:resourceTag/aws:autoscaling:groupName': groups };
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:SendCommand'], resources: [this.document.documentArn] }));
    const anyInstance = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ssm:SendCommand'],
      resources: [anyInstance], // fleet members are known by their tag, which the condition requires
      conditions: { StringEquals: condition },
    }));
    acknowledge(fn, [`IAM5[Resource::${anyInstance}]`],
      'SendCommand on instances is pinned to the fleet\'s tag by the ssm:resourceTag condition.');
  }
}

// ---- its entry in the config file (`runbooks.diskPruneFleet`) and the registry of kinds ----

const diskPruneFleetSchema = object({
  name: runbookName(),
  alarmArns: alarmArns(''),
  ...commonSettings,
  autoScalingGroups: list(text()).optional().describe('Groups whose instances it prunes.'),
  optInTag: tag('instances carrying it are pruned').optional(),
  prune: pruneParameters,
  maxConcurrency: text().optional().describe(`Run Command MaxConcurrency (default ${DISK_PRUNE_FLEET_DEFAULTS.maxConcurrency}).`),
  maxErrors: text().optional().describe(`Run Command MaxErrors (default ${DISK_PRUNE_FLEET_DEFAULTS.maxErrors}).`),
  deliveryTimeoutMinutes: deliveryTimeoutMinutes(),
}).meta({ id: 'DiskPruneFleet', description: 'Fleet disk pruning: one Run Command per Auto Scaling group or tag, capped by MaxConcurrency and MaxErrors.' });

export type DiskPruneFleetConfig = z.infer<typeof diskPruneFleetSchema>;

/** Fleet disk pruning in the config-driven stack: each entry of `runbooks.diskPruneFleet` is one DiskPruneFleetRunbook. */
export const diskPruneFleetKind = defineRunbookKind({
  kind: 'disk-prune-fleet',
  configKey: 'diskPruneFleet',
  handler: 'disk-prune-fleet',
  schema: diskPruneFleetSchema,
  build: (scope, id, entry, platform) => new DiskPruneFleetRunbook(scope, id, {
    ...commonRunbookProps(scope, platform, entry),
    autoScalingGroups: entry.autoScalingGroups,
    optInTag: entry.optInTag,
    prune: entry.prune,
    maxConcurrency: entry.maxConcurrency,
    maxErrors: entry.maxErrors,
    deliveryTimeout: entry.deliveryTimeoutMinutes === undefined ? undefined : Duration.minutes(entry.deliveryTimeoutMinutes),
  }),
});
