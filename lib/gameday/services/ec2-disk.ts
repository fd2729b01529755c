import { createHash } from 'node:crypto';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstanceInformationCommand, GetCommandInvocationCommand, ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand, SSMClient,
  type Command, type CommandInvocation, type DescribeInstanceInformationCommandInput, type InstanceInformation, type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { parseDuration } from '../duration';
import type { World } from '../world';

/**
 * `world.ec2.instances[]`: `{ id, managed (true), online (true), platform (Linux), tags {},
 * autoScalingGroup?, diskUsedPercent (95), afterPrune (70: the disk after a prune command),
 * command: Success | Failed | TimedOut (Success), commandTakes (30s), bytesFreed (12 MiB) }`.
 *
 * Answers what the disk-prune runbooks ask of SSM (DescribeInstanceInformation, SendCommand,
 * GetCommandInvocation, ListCommands, ListCommandInvocations) and CloudWatch (GetMetricData of
 * the CloudWatch agent's `disk_used_percent`, by `InstanceId` or by `AutoScalingGroupName`).
 * A command runs on its instances as Run Command would: at most `MaxConcurrency` at once, no new
 * instance once more than `MaxErrors` have failed; an instance that is not online never receives
 * it (delivery times out after the command's `TimeoutSeconds`). The disk metric reads
 * `diskUsedPercent` until a (non-dry-run) prune succeeded on the instance, `afterPrune` after.
 */
type Outcome = 'Success' | 'Failed' | 'TimedOut';

interface InstanceSpec {
  readonly id: string;
  readonly managed?: boolean;
  readonly online?: boolean;
  readonly platform?: string;
  readonly tags?: Record<string, string>;
  readonly autoScalingGroup?: string;
  readonly diskUsedPercent?: number;
  readonly afterPrune?: number;
  readonly command?: Outcome;
  readonly commandTakes?: string | number;
  readonly bytesFreed?: number;
}

interface SimInstance {
  readonly id: string;
  readonly managed: boolean;
  readonly online: boolean;
  readonly platform: string;
  readonly tags: Record<string, string>;
  readonly autoScalingGroup?: string;
  readonly diskUsedPercent: number;
  readonly afterPrune: number;
  readonly command: Outcome;
  readonly commandSeconds: number;
  readonly bytesFreed: number;
}

/** One instance's part of a command, scheduled when the command was sent. */
interface SimInvocation {
  readonly instanceId: string;
  /** Simulated ms: when it starts on the instance (undefined: never started, cancelled by MaxErrors). */
  readonly startsAt?: number;
  readonly endsAt: number;
  /** Final status, reached at `endsAt`. */
  readonly status: Outcome | 'Cancelled';
  readonly statusDetails: string;
  readonly responseCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The disk is pruned when it ends (a successful, non-dry-run prune). */
  readonly prunes: boolean;
}

interface SimCommand {
  readonly id: string;
  readonly requestedAt: number;
  readonly input: SendCommandCommandInput;
  readonly invocations: SimInvocation[];
  readonly maxConcurrency: string;
  readonly maxErrors: string;
}

const ASG_TAG = 'aws:autoscaling:groupName';
const MIB = 1024 * 1024;
const PLUGIN = 'prune';
const PLATFORM_NAMES: Record<string, string> = { Linux: 'Amazon Linux', Windows: 'Microsoft Windows Server 2022 Datacenter', MacOS: 'macOS' };
/** Run Command keeps this much of each output in ListCommandInvocations (GetCommandInvocation: 24,000). */
const LIST_OUTPUT_CHARS = 2500;

/** An SDK input as the world records it. */
const record = (input: object): Record<string, unknown> => input as Record<string, unknown>;
const fail = (name: string, message: string): Error => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

/** `count` or `percent%` of `of` targets; a percentage of concurrency rounds up (at least 1), of errors down. */
function cap(value: string | undefined, of: number, fallback: number, roundUp: boolean): number {
  if (value === undefined) return fallback;
  const percent = /^(\d+)%$/.exec(value);
  if (percent) {
    const exact = (Number(percent[1]) * of) / 100;
    return roundUp ? Math.max(1, Math.ceil(exact)) : Math.floor(exact);
  }
  return Number(value);
}

/** What the prune script prints last (ssm-documents/medic-disk-prune.yaml). */
function summaryLine(instance: SimInstance, parameters: Record<string, string[]>, outcome: Outcome): string {
  const first = (name: string, fallback: string) => parameters[name]?.[0] ?? fallback;
  const dryRun = first('dryRun', 'false') === 'true';
  const logRoot = first('logRoot', '/var/log');
  const tmpRoots = first('tmpRoots', '/tmp /var/tmp');
  const roots = [logRoot, ...(tmpRoots === 'none' ? [] : tmpRoots.split(' '))];
  const maxBytes = Number(first('maxDeleteMB', '10240')) * MIB;
  const failed = outcome === 'Failed';
  const bytesFreed = failed ? 0 : Math.min(instance.bytesFreed, maxBytes);
  const files = bytesFreed > 0 ? [1, 2, 3, 4].map((n) => `${logRoot}/messages-2026111${n}.gz`) : [];
  const errors = failed ? [`cannot delete ${logRoot}/messages-20261111.gz`] : [];
  return JSON.stringify({
    dryRun, roots, refusedRoots: [], considered: files.length + (failed ? 1 : 0), deleted: dryRun ? 0 : files.length, wouldDelete: dryRun ? files.length : 0,
    bytesFreed, skippedOpen: 0, limitReached: instance.bytesFreed > maxBytes, journal: 'journald not present', errors, files,
  });
}

export function installEc2Disk(world: World): void {
  const specs = ((world.spec.ec2 as { instances?: InstanceSpec[] } | undefined)?.instances ?? []);
  const instances = new Map<string, SimInstance>();
  for (const [i, spec] of specs.entries()) {
    const where = `world.ec2.instances[${i}]`;
    if (!spec?.id) throw new Error(`${where}.id: every instance needs an id (i-...)`);
    if (spec.command !== undefined && !['Success', 'Failed', 'TimedOut'].includes(spec.command)) throw new Error(`${where}.command: must be Success, Failed or TimedOut`);
    instances.set(spec.id, {
      id: spec.id,
      managed: spec.managed ?? true,
      online: spec.online ?? true,
      platform: spec.platform ?? 'Linux',
      tags: { ...(spec.tags ?? {}), ...(spec.autoScalingGroup ? { [ASG_TAG]: spec.autoScalingGroup } : {}) },
      autoScalingGroup: spec.autoScalingGroup,
      diskUsedPercent: spec.diskUsedPercent ?? 95,
      afterPrune: spec.afterPrune ?? 70,
      command: spec.command ?? 'Success',
      commandSeconds: parseDuration(spec.commandTakes ?? '30s', `${where}.commandTakes`),
      bytesFreed: spec.bytesFreed ?? 12 * MIB,
    });
  }
  const commands = new Map<string, SimCommand>();
  const now = () => world.clock.now();

  /** The disk of an instance at simulated time `at`: pruned once a successful prune ended. */
  const diskAt = (instance: SimInstance, at: number): number => {
    const pruned = [...commands.values()].some((c) => c.invocations.some((inv) => inv.instanceId === instance.id && inv.prunes && inv.endsAt <= at));
    return pruned ? instance.afterPrune : instance.diskUsedPercent;
  };

  const info = (instance: SimInstance): InstanceInformation => ({
    InstanceId: instance.id,
    PingStatus: instance.online ? 'Online' : 'ConnectionLost',
    LastPingDateTime: new Date(now() - (instance.online ? 30_000 : 3_600_000)),
    AgentVersion: '3.3.1142.0',
    IsLatestVersion: true,
    PlatformType: instance.platform as InstanceInformation['PlatformType'],
    PlatformName: PLATFORM_NAMES[instance.platform] ?? instance.platform,
    ResourceType: 'EC2Instance',
    ComputerName: `${instance.id}.${world.env.region}.compute.internal`,
  });

  const tagMatches = (instance: SimInstance, key: string, values: string[] | undefined): boolean =>
    key in instance.tags && (values === undefined || values.length === 0 || values.includes(instance.tags[key]));

  const filterMatches = (instance: SimInstance, key: string, values: string[]): boolean => {
    if (key.startsWith('tag:')) return tagMatches(instance, key.slice(4), values);
    switch (key) {
      case 'InstanceIds': return values.includes(instance.id);
      case 'PingStatus': return values.includes(info(instance).PingStatus!);
      case 'PlatformTypes': return values.includes(instance.platform);
      case 'ResourceType': return values.includes('EC2Instance') || values.includes('ManagedInstance');
      case 'tag-key': return values.some((k) => k in instance.tags);
      default: throw fail('InvalidFilterKey', `the game day's SSM does not support the filter key ${key}`);
    }
  };

  const ssm = world.stub(SSMClient);

  ssm.on(DescribeInstanceInformationCommand).callsFake((input: DescribeInstanceInformationCommandInput) =>
    world.answer('ssm', 'DescribeInstanceInformation', record(input), false, () => {
      const filters = [
        ...(input.Filters ?? []).map((f) => ({ key: f.Key!, values: f.Values ?? [] })),
        ...(input.InstanceInformationFilterList ?? []).map((f) => ({ key: f.key!, values: f.valueSet ?? [] })),
      ];
      const found = [...instances.values()].filter((i) => i.managed && filters.every((f) => filterMatches(i, f.key, f.values)));
      const offset = input.NextToken ? Number(input.NextToken) : 0;
      const max = input.MaxResults ?? 50;
      const page = found.slice(offset, offset + max);
      return { InstanceInformationList: page.map(info), ...(offset + max < found.length ? { NextToken: String(offset + max) } : {}) };
    }));

  /** The managed instances a SendCommand names: by InstanceIds, or by Targets (tag:, tag-key, InstanceIds). */
  const targetsOf = (input: SendCommandCommandInput): SimInstance[] => {
    if (input.InstanceIds?.length) {
      return input.InstanceIds.map((id) => {
        const instance = instances.get(id);
        if (!instance?.managed) throw fail('InvalidInstanceId', `Instances [[${id}]] not in a valid state for account ${world.env.account}`);
        return instance;
      });
    }
    if (!input.Targets?.length) throw fail('ValidationException', 'SendCommand needs InstanceIds or Targets');
    return [...instances.values()].filter((instance) => instance.managed && input.Targets!.every((t) => {
      const key = t.Key ?? '';
      if (key.startsWith('tag:')) return tagMatches(instance, key.slice(4), t.Values);
      if (key === 'tag-key') return (t.Values ?? []).some((k) => k in instance.tags);
      if (key === 'InstanceIds') return (t.Values ?? []).includes(instance.id);
      throw fail('InvalidTarget', `the game day's SSM does not support the target key ${key}`);
    }));
  };

  /** Schedules a command as Run Command runs it: concurrency slots, the error threshold, delivery to offline instances. */
  const schedule = (input: SendCommandCommandInput, targets: SimInstance[], requestedAt: number): SimInvocation[] => {
    const concurrency = cap(input.MaxConcurrency, targets.length, 50, true);
    const maxErrors = cap(input.MaxErrors, targets.length, 0, false);
    const deliveryTimeout = (input.TimeoutSeconds ?? 3600) * 1000;
    const parameters = (input.Parameters ?? {}) as Record<string, string[]>;
    const dryRun = parameters.dryRun?.[0] === 'true';
    const slots: number[] = Array.from({ length: Math.max(1, concurrency) }, () => requestedAt);
    const errorsAt: number[] = [];
    return targets.map((instance) => {
      slots.sort((a, b) => a - b);
      const startsAt = slots[0];
      if (errorsAt.filter((at) => at <= startsAt).length > maxErrors) {
        return { instanceId: instance.id, endsAt: startsAt, status: 'Cancelled', statusDetails: 'Cancelled', responseCode: -1, stdout: '', stderr: '', prunes: false } satisfies SimInvocation;
      }
      let invocation: SimInvocation;
      if (!instance.online) {
        invocation = { instanceId: instance.id, endsAt: startsAt + deliveryTimeout, status: 'TimedOut', statusDetails: 'DeliveryTimedOut', responseCode: -1, stdout: '', stderr: '', prunes: false };
      } else if (instance.command === 'TimedOut') {
        invocation = {
          instanceId: instance.id, startsAt, endsAt: startsAt + 600_000, status: 'TimedOut', statusDetails: 'ExecutionTimedOut', responseCode: -1,
          stdout: '', stderr: 'failed to run commands: the script did not finish within its 600 s execution timeout', prunes: false,
        };
      } else {
        const outcome = instance.command;
        invocation = {
          instanceId: instance.id, startsAt, endsAt: startsAt + instance.commandSeconds * 1000, status: outcome, statusDetails: outcome,
          responseCode: outcome === 'Success' ? 0 : 1, stdout: `${summaryLine(instance, parameters, outcome)}\n`, stderr: '',
          prunes: outcome === 'Success' && !dryRun && instance.bytesFreed > 0,
        };
      }
      slots[0] = invocation.endsAt;
      if (invocation.status !== 'Success') errorsAt.push(invocation.endsAt);
      return invocation;
    });
  };

  let sent = 0;
  ssm.on(SendCommandCommand).callsFake((input: SendCommandCommandInput) => world.answer('ssm', 'SendCommand', record(input), true, () => {
    const targets = targetsOf(input);
    const requestedAt = now();
    const hex = createHash('sha256').update(`${++sent}:${input.Comment ?? ''}:${requestedAt}`).digest('hex');
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    const command: SimCommand = {
      id, requestedAt, input, invocations: schedule(input, targets, requestedAt),
      maxConcurrency: input.MaxConcurrency ?? '50', maxErrors: input.MaxErrors ?? '0',
    };
    commands.set(id, command);
    // Run Command answers before any instance has it.
    return { Command: { ...describeCommand(command), Status: 'Pending', StatusDetails: 'Pending', CompletedCount: 0 } };
  }));

  /** An invocation's status at the simulated now. */
  const statusOf = (inv: SimInvocation): { status: string; details: string; done: boolean } => {
    const t = now();
    if (t >= inv.endsAt) return { status: inv.status, details: inv.statusDetails, done: true };
    if (inv.startsAt === undefined || t < inv.startsAt) return { status: 'Pending', details: 'Pending', done: false };
    return { status: 'InProgress', details: 'InProgress', done: false };
  };

  function describeCommand(command: SimCommand): Command {
    const states = command.invocations.map((inv) => ({ inv, ...statusOf(inv) }));
    const completed = states.filter((s) => s.done);
    const errors = completed.filter((s) => s.status !== 'Success');
    let status: string;
    if (states.length === 0) status = 'Success';
    else if (completed.length < states.length) status = completed.length === 0 && states.every((s) => s.status === 'Pending') ? 'Pending' : 'InProgress';
    else if (errors.length === 0) status = 'Success';
    else if (errors.some((s) => s.status === 'Failed' || s.status === 'Cancelled')) status = 'Failed';
    else status = 'TimedOut';
    const input = command.input;
    return {
      CommandId: command.id,
      DocumentName: input.DocumentName,
      Comment: input.Comment,
      Parameters: input.Parameters,
      InstanceIds: input.InstanceIds ?? [],
      Targets: input.Targets ?? [],
      RequestedDateTime: new Date(command.requestedAt),
      Status: status as Command['Status'],
      StatusDetails: states.length === 0 ? 'No Instances In Tag' : status,
      MaxConcurrency: command.maxConcurrency,
      MaxErrors: command.maxErrors,
      TimeoutSeconds: input.TimeoutSeconds,
      TargetCount: states.length,
      CompletedCount: completed.length,
      // Run Command counts Failed and execution timeouts as errors; instances never started (Cancelled) and delivery timeouts apart.
      ErrorCount: errors.filter((s) => s.status !== 'Cancelled' && s.inv.statusDetails !== 'DeliveryTimedOut').length,
      DeliveryTimedOutCount: errors.filter((s) => s.inv.statusDetails === 'DeliveryTimedOut').length,
    };
  }

  const commandOf = (id: string | undefined): SimCommand => {
    const command = id ? commands.get(id) : undefined;
    if (!command) throw fail('InvalidCommandId', `command ${id} does not exist`);
    return command;
  };
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

  ssm.on(GetCommandInvocationCommand).callsFake((input: { CommandId?: string; InstanceId?: string; PluginName?: string }) =>
    world.answer('ssm', 'GetCommandInvocation', input, false, () => {
      const command = commandOf(input.CommandId);
      const inv = command.invocations.find((i) => i.instanceId === input.InstanceId);
      if (!inv) throw fail('InvocationDoesNotExist', `no invocation of command ${input.CommandId} on ${input.InstanceId}`);
      const { status, details, done } = statusOf(inv);
      return {
        CommandId: command.id, InstanceId: inv.instanceId, Comment: command.input.Comment, DocumentName: command.input.DocumentName, PluginName: PLUGIN,
        Status: status, StatusDetails: details, ResponseCode: done ? inv.responseCode : -1,
        ...(inv.startsAt !== undefined && now() >= inv.startsAt ? { ExecutionStartDateTime: iso(inv.startsAt) } : {}),
        ...(done ? { ExecutionEndDateTime: iso(inv.endsAt), ExecutionElapsedTime: `PT${Math.round((inv.endsAt - (inv.startsAt ?? inv.endsAt)) / 1000)}S` } : {}),
        StandardOutputContent: done ? inv.stdout : '',
        StandardErrorContent: done ? inv.stderr : '',
      };
    }));

  ssm.on(ListCommandsCommand).callsFake((input: { CommandId?: string; InstanceId?: string }) =>
    world.answer('ssm', 'ListCommands', input, false, () => {
      const listed = input.CommandId ? [commandOf(input.CommandId)] : [...commands.values()].reverse();
      return { Commands: listed.filter((c) => !input.InstanceId || c.invocations.some((i) => i.instanceId === input.InstanceId)).map(describeCommand) };
    }));

  ssm.on(ListCommandInvocationsCommand).callsFake((input: { CommandId?: string; InstanceId?: string; Details?: boolean }) =>
    world.answer('ssm', 'ListCommandInvocations', input, false, () => {
      const listed = input.CommandId ? [commandOf(input.CommandId)] : [...commands.values()].reverse();
      const invocations: CommandInvocation[] = listed.flatMap((command) => command.invocations
        .filter((inv) => !input.InstanceId || inv.instanceId === input.InstanceId)
        .map((inv) => {
          const { status, details, done } = statusOf(inv);
          return {
            CommandId: command.id, InstanceId: inv.instanceId, InstanceName: '', Comment: command.input.Comment, DocumentName: command.input.DocumentName,
            RequestedDateTime: new Date(command.requestedAt), Status: status as CommandInvocation['Status'], StatusDetails: details,
            ...(input.Details ? {
              CommandPlugins: [{
                Name: PLUGIN, Status: status as NonNullable<CommandInvocation['CommandPlugins']>[number]['Status'], StatusDetails: details,
                ResponseCode: done ? inv.responseCode : -1,
                ...(inv.startsAt !== undefined && now() >= inv.startsAt ? { ResponseStartDateTime: new Date(inv.startsAt) } : {}),
                ...(done ? { ResponseFinishDateTime: new Date(inv.endsAt) } : {}),
                Output: done ? `${inv.stdout}${inv.stderr ? `\n----------ERROR-------\n${inv.stderr}` : ''}`.slice(0, LIST_OUTPUT_CHARS) : '',
              }],
            } : {}),
          };
        }));
      return { CommandInvocations: invocations };
    }));

  world.stub(CloudWatchClient).on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) =>
    world.answer('cloudwatch', 'GetMetricData', record(input), false, () => ({
      MetricDataResults: (input.MetricDataQueries ?? []).map((query): MetricDataResult => {
        const metric = query.MetricStat?.Metric;
        const dimensions = Object.fromEntries((metric?.Dimensions ?? []).map((d) => [d.Name, d.Value]));
        const members = metric?.Namespace === 'CWAgent' && metric.MetricName === 'disk_used_percent'
          ? [...instances.values()].filter((i) => (dimensions.InstanceId === undefined || dimensions.InstanceId === i.id)
            && (dimensions.AutoScalingGroupName === undefined || dimensions.AutoScalingGroupName === i.autoScalingGroup)
            && (dimensions.InstanceId !== undefined || dimensions.AutoScalingGroupName !== undefined))
          : [];
        // One datapoint per period, the newest at the simulated now, back to StartTime; a fleet's is its fullest disk (Maximum).
        const period = (query.MetricStat?.Period ?? 60) * 1000;
        const from = input.StartTime ? new Date(input.StartTime).getTime() : now() - 3 * period;
        const to = Math.min(now(), input.EndTime ? new Date(input.EndTime).getTime() : now());
        const timestamps: Date[] = [];
        const values: number[] = [];
        if (members.length > 0) {
          for (let at = to; at >= from; at -= period) {
            timestamps.push(new Date(at));
            values.push(Math.max(...members.map((m) => diskAt(m, at))));
          }
        }
        if (input.ScanBy === 'TimestampAscending') {
          timestamps.reverse();
          values.reverse();
        }
        return { Id: query.Id, Label: metric?.MetricName, Timestamps: timestamps, Values: values, StatusCode: 'Complete' };
      }),
    })));
}
