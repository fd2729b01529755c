import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { ModelClock } from '../models/clock';
import { AlarmsModel } from '../models/cloudwatch';
import { bindOperations } from '../models/operations';
import { BucketsModel } from '../models/s3';
import { TopicModel, type ApproverMessage } from '../models/sns';
import { SsmParametersModel } from '../models/ssm-parameters';
import type { AlarmSpec } from '../scenario';
import type { World } from '../world';

const worldClock = (world: World): ModelClock => ({ now: () => world.clock.now(), later: (seconds, change) => world.later(seconds, change) });

/**
 * The alarms of the world (`world.alarms`), their state now, and how they recover after an action
 * (`recovers: { when: '<service>:<Operation>', after }`). The behaviour is the shared model's
 * (lib/gameday/models/cloudwatch.ts).
 */
export class Alarms {
  readonly model: AlarmsModel;

  constructor(private readonly world: World) {
    this.model = new AlarmsModel(worldClock(world), world.env);
    const specs = world.spec.alarms ?? {};
    for (const [name, spec] of Object.entries(specs)) {
      this.model.define(name, { namespace: spec.namespace, metric: spec.metric, dimensions: spec.dimensions, threshold: spec.threshold }, spec.state ?? 'OK');
    }
    world.onAction((call) => {
      for (const [name, spec] of Object.entries(specs)) {
        if (spec.recovers && spec.recovers.when === `${call.service}:${call.operation}`) this.model.recoverAfter(name, spec.recovers.after);
      }
    });
    bindOperations(world.stub(CloudWatchClient), this.model.operations, (operation, input, mutating, answer) => world.answer('cloudwatch', operation, input, mutating, answer));
  }

  spec(name: string): AlarmSpec | undefined {
    return this.world.spec.alarms?.[name];
  }

  state(name: string): string {
    return this.model.state(name);
  }

  /** Sets an alarm's state as changed now (a timeline `alarm` event is a transition even from ALARM: it is what the event reports). */
  set(name: string, state: string): void {
    this.model.set(name, state);
  }
}

/** The buckets of each world: one S3 client per world, so one model routing by `Bucket` (the page marks by default). */
const worldBuckets = new WeakMap<World, BucketsModel>();
const worldTopics = new WeakMap<World, TopicModel>();

/** The messages the approval links topic delivered to email approvers (each its own link). */
export function approverMessagesOf(world: World): readonly ApproverMessage[] {
  return worldTopics.get(world)?.links ?? [];
}

/** The world's buckets, to define more than the page marks (lib/gameday/services/ledger-writer.ts: the ledger anchors). */
export function bucketsOf(world: World): BucketsModel {
  const buckets = worldBuckets.get(world);
  if (!buckets) throw new Error('the platform services are not installed in this world');
  return buckets;
}

/**
 * Kill-switch parameters, the change calendar, the page-marks bucket and the escalation topic: the
 * shared models (lib/gameday/models) over the world's own parameters, calendar and notifications.
 */
export function installPlatformServices(world: World): void {
  // As the stack creates them: every switch off.
  world.parameters.set(world.killSwitchName(), 'off');
  for (const runbook of Object.keys(world.env.killSwitches.runbooks)) world.parameters.set(world.killSwitchName(runbook), 'off');
  const ssm = new SsmParametersModel(world.parameters, () => world.changeCalendar, world.unreadableParameters);
  bindOperations(world.stub(SSMClient), ssm.operations, (operation, input, mutating, answer) => world.answer('ssm', operation, input, mutating, answer));
  const buckets = new BucketsModel();
  worldBuckets.set(world, buckets);
  bindOperations(world.stub(S3Client), buckets.operations, (operation, input, mutating, answer) => world.answer('s3', operation, input, mutating, answer));
  const topic = new TopicModel(worldClock(world), world.notifications, (message) => world.notify(message));
  worldTopics.set(world, topic);
  bindOperations(world.stub(SNSClient), topic.operations, (operation, input, mutating, answer) => world.answer('sns', operation, input, mutating, answer));
}
