import { Duration, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DiskPruneDocument, type PruneSettings } from './disk-prune-document';

export type { PruneSettings } from './disk-prune-document';
import { MedicFunction } from '../platform/function';
import { acknowledge } from '../platform/nag';
import { matchesUnlessToken, withDefaults } from '../platform/policy';
import { Runbook, type RunbookCommonProps } from '../platform/runbook';
import { alarmArns, commonSettings, list, object, runbookName, tag, text } from '../platform/config-schema';
import type { z } from 'zod';
import { commonRunbookProps, defineRunbookKind } from '../platform/runbook-kind';
import { DISK_PRUNE_DEFAULTS, type DiskPruneOptions } from '../../lambdas/disk-prune/options';
import { CANCEL_REASON, pruneParameters, deliveryTimeoutMinutes } from './disk-prune-document';

/** Properties of a {@link DiskPruneRunbook}. */
export interface DiskPruneRunbookProps extends RunbookCommonProps {
  /**
   * EC2 instances this runbook may prune: instance IDs, or the instances themselves
   * (`ec2.IInstance`, whose ID may be a token).
   * @default - none: only tagged instances
   */
  readonly instances?: Array<string | ec2.IInstance>;
  /**
   * Instances carrying this tag may be pruned too (checked before acting, and by IAM).
   * @default - no tag opt-in
   */
  readonly optInTag?: { readonly key: string; readonly value: string };
  /** Document parameters. */
  readonly prune?: PruneSettings;
  /**
   * How long Run Command may wait to deliver the command to the instance.
   * @default Duration.minutes(5)
   */
  readonly deliveryTimeout?: Duration;
}

const INSTANCE_PATTERN = 'i-[0-9a-f]{8,17}';

/**
 * Disk pruning on EC2: when a `disk_used_percent` alarm (CloudWatch agent) fires, check the
 * instance is SSM-managed, online, Linux and allowed, run the medic-disk-prune Command document
 * on it, wait for the command with Wait states, record its JSON summary, and verify the alarm's
 * metric is back within the threshold; otherwise escalate with what was freed.
 */
export class DiskPruneRunbook extends Construct {
  public readonly runbook: Runbook;
  public readonly stepFunction: MedicFunction;
  public readonly document: DiskPruneDocument;

  constructor(scope: Construct, id: string, props: DiskPruneRunbookProps) {
    super(scope, id);
    const name = props.name;
    const instances = (props.instances ?? []).map((instance) => (typeof instance === 'string' ? instance : instance.instanceId));
    this.document = DiskPruneDocument.of(this);
    const documentParameters = this.document.resolveParameters(name, props.prune ?? {});
    const deliveryTimeout = props.deliveryTimeout ?? Duration.seconds(DISK_PRUNE_DEFAULTS.deliveryTimeoutSeconds);
    const instancePattern = new RegExp(`^${INSTANCE_PATTERN}$`);
    for (const instance of instances) if (!matchesUnlessToken(instance, instancePattern)) throw new Error(`runbook ${name}: "${instance}" is not an EC2 instance ID`);
    if (instances.length === 0 && !props.optInTag) throw new Error(`runbook ${name}: list instances, or set optInTag to allow instances by tag`);
    if (props.optInTag && (!props.optInTag.key || !props.optInTag.value)) throw new Error(`runbook ${name}: optInTag needs a key and a value`);
    const timeoutSeconds = deliveryTimeout.toSeconds();
    if (timeoutSeconds < 30 || timeoutSeconds > 3600) throw new Error(`runbook ${name}: deliveryTimeout must be between 30 seconds and 1 hour`);

    this.stepFunction = new MedicFunction(this, 'Steps', {
      handler: 'disk-prune',
      description: `medic runbook ${name}: disk pruning through SSM Run Command (plan, act, verify)`,
      environment: props.platform.handlerEnvironment(),
    });
    this.grant(instances, props.optInTag, (props.mode ?? 'observe') !== 'observe');

    this.runbook = new Runbook(this, 'Runbook', {
      ...props,
      kind: 'disk-prune',
      stepFunction: this.stepFunction,
      reversible: false,
      // The command runs for up to 10 minutes and the agent publishes the metric once a minute.
      verification: withDefaults({ initialDelay: Duration.seconds(60), interval: Duration.seconds(60), maxChecks: 15, requiredConsecutiveSuccesses: 2 }, props.verification),
      options: {
        documentName: this.document.documentName,
        documentParameters,
        deliveryTimeoutSeconds: timeoutSeconds,
        instances,
        ...(props.optInTag ? { optInTag: props.optInTag } : {}),
      } satisfies DiskPruneOptions,
      target: {
        type: 'ec2-instance',
        dimensions: { InstanceId: INSTANCE_PATTERN },
        idTemplate: '{InstanceId}',
        arnTemplate: 'arn:{partition}:ec2:{region}:{account}:instance/{InstanceId}',
        allowed: instances.map((instance) => ({ InstanceId: instance })),
        ...(props.optInTag ? { allowedByTag: props.optInTag } : {}),
        // Verification reads the alarm's own disk metric.
        singleMetricAlarms: true,
      },
    });
  }

  /** See {@link Runbook.attachTo}. */
  public attachTo(...args: Parameters<Runbook['attachTo']>): this {
    this.runbook.attachTo(...args);
    return this;
  }

  /**
   * SendCommand only with this document, only on the listed instances or on instances carrying
   * the tag, and not at all in observe mode. The reads have no resource-level permissions.
   */
  private grant(instances: string[], tag: DiskPruneRunbookProps['optInTag'], maySend: boolean): void {
    const stack = Stack.of(this);
    const fn = this.stepFunction;
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation', 'cloudwatch:GetMetricData'],
      resources: ['*'],
    }));
    const reads = 'DescribeInstanceInformation, GetCommandInvocation and GetMetricData support no resource-level permissions.';
    if (maySend) {
      // The check cancels the runbook's own command when a guard closes while it still runs
      // (lambdas/shared/prune-command.ts, stopIfGuardCloses). CancelCommand has no resource type
      // in the Service Authorization Reference: "*" only.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:CancelCommand'], resources: ['*'] }));
    }
    // One acknowledgement of Resource::* for this function, naming every action it covers.
    acknowledge(fn, ['IAM5[Resource::*]'], maySend ? `${reads} ${CANCEL_REASON}` : reads);
    if (!maySend) return;
    const instanceArn = (instance: string) => stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: instance });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:SendCommand'], resources: [this.document.documentArn, ...instances.map(instanceArn)] }));
    if (tag) {
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [instanceArn('*')], // tagged instances are only known by their tag, which the condition requires
        conditions: { StringEquals: { [`ssm:resourceTag/${tag.key}`]: tag.value } },
      }));
      acknowledge(fn, [`IAM5[Resource::${instanceArn('*')}]`],
        'SendCommand on instances is pinned to the opt-in tag by the ssm:resourceTag condition.');
    }
  }
}

// ---- its entry in the config file (`runbooks.diskPrune`) and the registry of kinds ----

const diskPruneSchema = object({
  name: runbookName(),
  alarmArns: alarmArns(' (disk_used_percent)'),
  ...commonSettings,
  instances: list(text()).optional().describe('Instance ids it may prune.'),
  optInTag: tag('instances carrying it may be pruned too').optional(),
  prune: pruneParameters,
  deliveryTimeoutMinutes: deliveryTimeoutMinutes(),
}).meta({ id: 'DiskPrune', description: 'Disk pruning through the medic-disk-prune Command document, from disk_used_percent alarms.' });

export type DiskPruneConfig = z.infer<typeof diskPruneSchema>;

/** Disk pruning in the config-driven stack: each entry of `runbooks.diskPrune` is one DiskPruneRunbook. */
export const diskPruneKind = defineRunbookKind({
  kind: 'disk-prune',
  configKey: 'diskPrune',
  handler: 'disk-prune',
  schema: diskPruneSchema,
  build: (scope, id, entry, platform) => new DiskPruneRunbook(scope, id, {
    ...commonRunbookProps(scope, platform, entry),
    instances: entry.instances,
    optInTag: entry.optInTag,
    prune: entry.prune,
    deliveryTimeout: entry.deliveryTimeoutMinutes === undefined ? undefined : Duration.minutes(entry.deliveryTimeoutMinutes),
  }),
});
