import { DescribeInstanceInformationCommand, type DescribeInstanceInformationCommandInput, type InstanceInformation } from '@aws-sdk/client-ssm';
import type { ModelClock, ModelEnv } from './clock';
import { awsError, type ModelOperations } from './operations';

/** What a prune command does on an instance: its documented final Status. */
export type PruneOutcome = 'Success' | 'Failed' | 'TimedOut';

/** An EC2 instance, its SSM registration, its root disk, and what a prune command does on it. */
export interface ManagedInstance {
  readonly id: string;
  /** Registered with Systems Manager (a managed node). */
  readonly managed: boolean;
  /** Its SSM Agent pings (PingStatus Online); otherwise ConnectionLost, and Run Command cannot deliver to it. */
  online: boolean;
  /** Model time (ms) of its last ping, once its agent went offline during the run ({@link ManagedInstancesModel.setAgent}). */
  lastPingAt?: number;
  readonly platform: string;
  readonly tags: Record<string, string>;
  readonly autoScalingGroup?: string;
  /** The disk before a prune, and after a successful (non-dry-run) one. */
  readonly diskUsedPercent: number;
  readonly afterPrune: number;
  readonly command: PruneOutcome;
  readonly commandSeconds: number;
  readonly bytesFreed: number;
  /** Model time (ms, the clock's now) when a prune last succeeded on it. */
  prunedAt?: number;
  /** The disk filling or freeing during the run: from model time `at` (ms) it is `usedPercent` (until a later change or prune). */
  diskChanges?: Array<{ readonly at: number; readonly usedPercent: number }>;
}

export const ASG_TAG = 'aws:autoscaling:groupName';
const MIB = 1024 * 1024;
const PLATFORM_NAMES: Record<string, string> = { Linux: 'Amazon Linux', Windows: 'Microsoft Windows Server 2022 Datacenter', MacOS: 'macOS' };

/** A tag filter: the key is present and (with values) has one of them. */
export const tagMatches = (instance: ManagedInstance, key: string, values: string[] | undefined): boolean =>
  key in instance.tags && (values === undefined || values.length === 0 || values.includes(instance.tags[key]));

/**
 * EC2 instances as Systems Manager knows them (DescribeInstanceInformation), shared by the Run
 * Command model (run-command.ts) and the CloudWatch agent's disk metric (disk-metrics.ts). Each
 * behaviour follows the SDK doc comment of @aws-sdk/client-ssm (dist-types) named beside it.
 */
export class ManagedInstancesModel {
  readonly instances = new Map<string, ManagedInstance>();

  readonly operations: ModelOperations = {
    DescribeInstanceInformation: {
      command: DescribeInstanceInformationCommand, mutating: false,
      answer: (input: DescribeInstanceInformationCommandInput) => this.describeInstanceInformation(input),
    },
  };

  constructor(private readonly clock: ModelClock, private readonly env: ModelEnv) {}

  /** A managed, online Linux instance at 95 % disk (70 % after a prune freeing 12 MiB in 30 s that succeeds), unless said. */
  addInstance(spec: Partial<Omit<ManagedInstance, 'prunedAt' | 'lastPingAt' | 'diskChanges'>> & { id: string }): ManagedInstance {
    const instance: ManagedInstance = {
      managed: true, online: true, platform: 'Linux', diskUsedPercent: 95, afterPrune: 70, command: 'Success', commandSeconds: 30, bytesFreed: 12 * MIB,
      ...spec,
      tags: { ...(spec.tags ?? {}), ...(spec.autoScalingGroup ? { [ASG_TAG]: spec.autoScalingGroup } : {}) },
    };
    this.instances.set(instance.id, instance);
    return instance;
  }

  /**
   * DescribeInstanceInformation: managed nodes only, filtered by Filters (or the older
   * InstanceInformationFilterList), paged by MaxResults (default 50, "Valid Range: Minimum value
   * of 5. Maximum value of 50") and NextToken. InvalidFilterKey for a key the model does not know.
   */
  describeInstanceInformation(input: DescribeInstanceInformationCommandInput) {
    const filters = [
      ...(input.Filters ?? []).map((f) => ({ key: f.Key!, values: f.Values ?? [] })),
      ...(input.InstanceInformationFilterList ?? []).map((f) => ({ key: f.key!, values: f.valueSet ?? [] })),
    ];
    const found = [...this.instances.values()].filter((i) => i.managed && filters.every((f) => this.filterMatches(i, f.key, f.values)));
    const offset = input.NextToken ? Number(input.NextToken) : 0;
    const max = input.MaxResults ?? 50;
    const page = found.slice(offset, offset + max);
    return { InstanceInformationList: page.map((i) => this.info(i)), ...(offset + max < found.length ? { NextToken: String(offset + max) } : {}) };
  }

  /**
   * The instance's SSM Agent stops or resumes pinging (a timeline change). Offline it is
   * ConnectionLost from now, its last ping now; Run Command cannot deliver a command sent from
   * then on (run-command.ts). A command sent before goes on as it was scheduled.
   */
  setAgent(instance: ManagedInstance, online: boolean): void {
    if (instance.online === online) return;
    instance.online = online;
    instance.lastPingAt = online ? undefined : this.clock.now();
  }

  /** The disk fills or frees from now on (disk-metrics.ts reads it). */
  setDisk(instance: ManagedInstance, usedPercent: number): void {
    instance.diskChanges = [...(instance.diskChanges ?? []), { at: this.clock.now(), usedPercent }];
  }

  /**
   * InstanceInformation.PingStatus: "Connection status of SSM Agent" (Online, ConnectionLost, Inactive);
   * LastPingDateTime: "The date and time when the agent last pinged the Systems Manager service".
   */
  info(instance: ManagedInstance): InstanceInformation {
    const lastPing = instance.online ? this.clock.now() - 30_000 : instance.lastPingAt ?? this.clock.now() - 3_600_000;
    return {
      InstanceId: instance.id,
      PingStatus: instance.online ? 'Online' : 'ConnectionLost',
      LastPingDateTime: new Date(lastPing),
      AgentVersion: '3.3.1142.0',
      IsLatestVersion: true,
      PlatformType: instance.platform as InstanceInformation['PlatformType'],
      PlatformName: PLATFORM_NAMES[instance.platform] ?? instance.platform,
      ResourceType: 'EC2Instance',
      ComputerName: `${instance.id}.${this.env.region}.compute.internal`,
    };
  }

  private filterMatches(instance: ManagedInstance, key: string, values: string[]): boolean {
    if (key.startsWith('tag:')) return tagMatches(instance, key.slice(4), values);
    switch (key) {
      case 'InstanceIds': return values.includes(instance.id);
      case 'PingStatus': return values.includes(this.info(instance).PingStatus!);
      case 'PlatformTypes': return values.includes(instance.platform);
      case 'ResourceType': return values.includes('EC2Instance') || values.includes('ManagedInstance');
      case 'tag-key': return values.some((k) => k in instance.tags);
      default: throw awsError('InvalidFilterKey', `the model's SSM does not support the filter key ${key}`);
    }
  }
}
