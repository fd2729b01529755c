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
 * The disk metric reads `diskUsedPercent` until a (non-dry-run) prune succeeded on the instance,
 * `afterPrune` after.
 *
 * Run Command as AWS documents it (each rule cites its source where it is modelled):
 * - A command is invisible for its first seconds: not listed, and GetCommandInvocation answers
 *   InvocationDoesNotExist (REGISTRATION_MS).
 * - It runs on at most `MaxConcurrency` instances at once; once more than `MaxErrors` invocations
 *   failed or timed out in execution, the rest are never sent (`Terminated`).
 * - An instance that is not online never receives it: `Delayed` while Run Command retries, then
 *   `DeliveryTimedOut` when the command expires (`TimeoutSeconds` + the document's 600 s
 *   execution timeout). Delivery timeouts are not errors (they do not count against MaxErrors).
 * - Each invocation has a `Status` and a finer `StatusDetails`; the command aggregates them.
 * - ListCommandInvocations' per-plugin `Output` is stdout and stderr cut to 2,500 characters the
 *   way SSM Agent cuts it; GetCommandInvocation gives the first 24,000 characters of stdout and
 *   8,000 of stderr.
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
  /** Simulated ms: when it starts on the instance (undefined: never started). */
  readonly startsAt?: number;
  /** Simulated ms: when Run Command began trying to deliver it to an instance that never took it (`Delayed` from then). */
  readonly deliveringFrom?: number;
  readonly endsAt: number;
  /** Final Status and StatusDetails, reached at `endsAt`. */
  readonly status: Outcome | 'Cancelled';
  readonly statusDetails: 'Success' | 'Failed' | 'ExecutionTimedOut' | 'DeliveryTimedOut' | 'Terminated';
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
/**
 * How long a new command stays invisible. GetCommandInvocation's doc (SDK dist-types): "The Run
 * Command API follows an eventual consistency model ... the result of an API command you run ...
 * might not be immediately visible to all subsequent commands you run"; its error for an unknown
 * pair is InvocationDoesNotExist ("The command ID and managed node ID you specified didn't match
 * any invocations"). aws/aws-sdk#190: ListCommandInvocations right after SendCommand answers 200
 * with an empty list, "because the commandID was not found yet". A few seconds, simulated.
 */
const REGISTRATION_MS = 2000;
/** The document's aws:runShellScript `timeoutSeconds` (ssm-documents/medic-disk-prune.yaml): the execution timeout. */
const EXECUTION_TIMEOUT_MS = 600_000;
/**
 * SSM Agent's limits (aws/amazon-ssm-agent, agent/framework/processor/executer/iohandler/
 * iohandler.go): the plugin `Output` of ListCommandInvocations is at most 2,500 characters
 * (MaximumPluginOutputSize; the API reference's CommandPlugin.Output: "Maximum length of 2500");
 * GetCommandInvocation's StandardOutputContent is "the first 24,000 characters written by the
 * plugin to stdout", StandardErrorContent "the first 8,000 characters ... to stderr" (SDK doc of
 * GetCommandInvocationResult). The agent counts bytes; the simulated output is ASCII.
 */
const PLUGIN_OUTPUT_CHARS = 2500;
const STDOUT_CONTENT_CHARS = 24_000;
const STDERR_CONTENT_CHARS = 8000;
/** Paths the prune script lists in its summary (MAX_LISTED in the document). */
const SCRIPT_MAX_LISTED = 40;
/** A simulated prune deletes files of at most this size (at least 4 files): 12 MiB is 4 files, 200 MiB 67. */
const SIMULATED_FILE_BYTES = 3 * MIB;

/** An SDK input as the world records it. */
const record = (input: object): Record<string, unknown> => input as Record<string, unknown>;
const fail = (name: string, message: string): Error => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

/**
 * The plugin Output as SSM Agent composes it (iohandler.go, TruncateOutput): stdout, then, when
 * there is stderr, a `----------ERROR-------` header and stderr, each cut with its marker so the
 * whole fits `capacity`.
 */
function pluginOutput(stdout: string, stderr: string, capacity = PLUGIN_OUTPUT_CHARS): string {
  const truncOut = '\n---Output truncated---';
  const truncErr = '\n---Error truncated----';
  const title = stderr.length > 0 ? '\n----------ERROR-------\n' : '';
  const space = capacity - title.length;
  if (stdout.length + stderr.length < space) return `${stdout}${title}${stderr}`;
  if (stdout.length > space / 2 && stderr.length > space / 2) {
    const half = Math.trunc((space - truncErr.length - truncOut.length) / 2);
    return `${stdout.slice(0, half)}${truncOut}${title}${stderr.slice(0, half)}${truncErr}`;
  }
  if (stdout.length < space / 2) return `${stdout}${title}${stderr.slice(0, space - truncErr.length - stdout.length)}${truncErr}`;
  return `${stdout.slice(0, space - truncOut.length - stderr.length)}${truncOut}${title}${stderr}`;
}

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
  const count = bytesFreed > 0 ? Math.max(4, Math.ceil(bytesFreed / SIMULATED_FILE_BYTES)) : 0;
  // Rotated application logs: 40 of these paths make a summary longer than the 2,500 characters of a plugin Output.
  const files = Array.from({ length: Math.min(count, SCRIPT_MAX_LISTED) }, (_, n) => `${logRoot}/app/archive/application-server-access.log.${n + 1}.gz`);
  const errors = failed ? [`cannot delete ${logRoot}/app/archive/application-server-access.log.1.gz`] : [];
  return JSON.stringify({
    dryRun, roots, refusedRoots: [], considered: count + (failed ? 1 : 0), deleted: dryRun ? 0 : count, wouldDelete: dryRun ? count : 0,
    bytesFreed, skippedOpen: 0, limitReached: instance.bytesFreed > maxBytes, journal: 'journald not present', errorCount: errors.length, errors, files,
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

  /**
   * Schedules a command as Run Command runs it ("Using targets and rate controls", Systems Manager
   * User Guide, send-commands-multiple.md; "Understanding command statuses", monitor-commands.md):
   * - at most MaxConcurrency invocations in progress at once (an undelivered one holds its place
   *   while Run Command keeps trying);
   * - MaxErrors: "If you specify 3, ... the system stops sending the command when the fourth error
   *   is received"; only Failed and Execution Timed Out count ("Delivery timeouts don't count
   *   against the parent command's MaxErrors limit", SDK CommandInvocation.StatusDetails). The
   *   invocations never sent are `Terminated` ("The parent command exceeded its MaxErrors limit and
   *   subsequent command invocations were canceled by the system"); their Status is not
   *   documented: Cancelled here;
   * - SendCommand's TimeoutSeconds: "If this time is reached and the command hasn't already
   *   started running, it won't run"; the command expires at TimeoutSeconds plus the document's
   *   execution timeout ("Delivery timeout = Timeout (seconds) + timeoutSeconds from your SSM
   *   document"), and then "it changes status to DeliveryTimedOut for all invocations that have the
   *   status InProgress, Pending, or Delayed" (SDK Command.ExpiresAfter). Status TimedOut.
   * - the execution timeout (600 s in the document) ends a longer run as Execution Timed Out.
   */
  const schedule = (input: SendCommandCommandInput, targets: SimInstance[], requestedAt: number): SimInvocation[] => {
    const concurrency = cap(input.MaxConcurrency, targets.length, 50, true);
    const maxErrors = cap(input.MaxErrors, targets.length, 0, false);
    const startBy = requestedAt + (input.TimeoutSeconds ?? 3600) * 1000;
    const expiresAt = startBy + EXECUTION_TIMEOUT_MS;
    const parameters = (input.Parameters ?? {}) as Record<string, string[]>;
    const dryRun = parameters.dryRun?.[0] === 'true';
    const slots: number[] = Array.from({ length: Math.max(1, concurrency) }, () => requestedAt);
    const errorsAt: number[] = [];
    const never = (instanceId: string, endsAt: number, statusDetails: 'DeliveryTimedOut' | 'Terminated', deliveringFrom?: number): SimInvocation => ({
      instanceId, endsAt, status: statusDetails === 'Terminated' ? 'Cancelled' : 'TimedOut', statusDetails, responseCode: -1, stdout: '', stderr: '', prunes: false,
      ...(deliveringFrom !== undefined ? { deliveringFrom } : {}),
    });
    return targets.map((instance) => {
      slots.sort((a, b) => a - b);
      const startsAt = slots[0];
      if (errorsAt.filter((at) => at <= startsAt).length > maxErrors) return never(instance.id, startsAt, 'Terminated');
      // Its turn comes after TimeoutSeconds: it never starts, and times out undelivered when the command expires.
      if (startsAt >= startBy) return never(instance.id, expiresAt, 'DeliveryTimedOut');
      let invocation: SimInvocation;
      if (!instance.online) {
        invocation = never(instance.id, expiresAt, 'DeliveryTimedOut', startsAt);
      } else if (instance.command === 'TimedOut' || instance.commandSeconds * 1000 > EXECUTION_TIMEOUT_MS) {
        invocation = {
          instanceId: instance.id, startsAt, endsAt: startsAt + EXECUTION_TIMEOUT_MS, status: 'TimedOut', statusDetails: 'ExecutionTimedOut', responseCode: -1,
          stdout: '', stderr: 'failed to run commands: the script did not finish within its 600 s execution timeout', prunes: false,
        };
      } else {
        const outcome = instance.command;
        invocation = {
          instanceId: instance.id, startsAt, endsAt: startsAt + instance.commandSeconds * 1000, status: outcome, statusDetails: outcome as 'Success' | 'Failed',
          responseCode: outcome === 'Success' ? 0 : 1, stdout: `${summaryLine(instance, parameters, outcome)}\n`, stderr: '',
          prunes: outcome === 'Success' && !dryRun && instance.bytesFreed > 0,
        };
      }
      slots[0] = invocation.endsAt;
      if (invocation.statusDetails === 'Failed' || invocation.statusDetails === 'ExecutionTimedOut') errorsAt.push(invocation.endsAt);
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
    // Run Command answers before any instance has it (and before its lists show it: REGISTRATION_MS).
    return { Command: { ...describeCommand(command), Status: 'Pending', StatusDetails: 'Pending', CompletedCount: 0 } };
  }));

  /**
   * An invocation's Status and StatusDetails at the simulated now: Pending until its turn,
   * InProgress while it runs, and, for an instance that never takes it, Delayed while Run Command
   * retries ("Delayed: The system attempted to send the command to the target, but the target
   * wasn't available ... The system will try to send the command again", SDK
   * GetCommandInvocationResult.StatusDetails; Status stays InProgress: "If the agent isn't running
   * or available on the instance, the command status remains at In Progress", monitor-commands.md).
   */
  const statusOf = (inv: SimInvocation): { status: string; details: string; done: boolean } => {
    const t = now();
    if (t >= inv.endsAt) return { status: inv.status, details: inv.statusDetails, done: true };
    if (inv.deliveringFrom !== undefined && t >= inv.deliveringFrom) return { status: 'InProgress', details: 'Delayed', done: false };
    if (inv.startsAt === undefined || t < inv.startsAt) return { status: 'Pending', details: 'Pending', done: false };
    return { status: 'InProgress', details: 'InProgress', done: false };
  };

  /** Run Command does not know a command for its first seconds (REGISTRATION_MS). */
  const visible = (command: SimCommand): boolean => now() >= command.requestedAt + REGISTRATION_MS;

  /**
   * The command's own status, from its invocations' (SDK Command.StatusDetails, monitor-commands.md
   * "Detailed status for a command"): Pending until an invocation is in progress; Success when every
   * invocation succeeded (Undeliverable ones "don't contribute", but this world has none); Failed,
   * Execution Timed Out or Delivery Timed Out when "the value of MaxErrors or more" invocations
   * ended so (at least one); otherwise Incomplete ("not enough invocations failed for the status to
   * be Failed"), whose Status is not documented: Failed here. No target: No Instances In Tag.
   */
  function aggregate(done: Array<{ inv: SimInvocation }>, maxErrors: number): { status: string; details: string } {
    const count = (details: SimInvocation['statusDetails']) => done.filter((s) => s.inv.statusDetails === details).length;
    const threshold = Math.max(1, maxErrors);
    if (done.length === 0) return { status: 'Success', details: 'NoInstancesInTag' };
    if (count('Success') === done.length) return { status: 'Success', details: 'Success' };
    if (count('Failed') >= threshold) return { status: 'Failed', details: 'Failed' };
    if (count('ExecutionTimedOut') >= threshold) return { status: 'TimedOut', details: 'ExecutionTimedOut' };
    if (count('Failed') + count('ExecutionTimedOut') >= threshold) return { status: 'Failed', details: 'Failed' };
    if (count('DeliveryTimedOut') >= threshold) return { status: 'TimedOut', details: 'DeliveryTimedOut' };
    return { status: 'Failed', details: 'Incomplete' };
  }

  function describeCommand(command: SimCommand): Command {
    const states = command.invocations.map((inv) => ({ inv, ...statusOf(inv) }));
    const completed = states.filter((s) => s.done);
    let status: string;
    let details: string;
    if (completed.length < states.length) {
      status = states.every((s) => s.status === 'Pending') ? 'Pending' : 'InProgress';
      details = status;
    } else {
      ({ status, details } = aggregate(completed, cap(command.maxErrors, states.length, 0, false)));
    }
    const input = command.input;
    return {
      CommandId: command.id,
      DocumentName: input.DocumentName,
      Comment: input.Comment,
      Parameters: input.Parameters,
      InstanceIds: input.InstanceIds ?? [],
      Targets: input.Targets ?? [],
      RequestedDateTime: new Date(command.requestedAt),
      ExpiresAfter: new Date(command.requestedAt + ((input.TimeoutSeconds ?? 3600) * 1000) + EXECUTION_TIMEOUT_MS),
      Status: status as Command['Status'],
      StatusDetails: details,
      MaxConcurrency: command.maxConcurrency,
      MaxErrors: command.maxErrors,
      TimeoutSeconds: input.TimeoutSeconds,
      TargetCount: states.length,
      // "Terminal states include ... Success, Failed, Execution Timed Out, Delivery Timed Out, Cancelled, Terminated, or Undeliverable."
      CompletedCount: completed.length,
      // "The number of targets for which the status is Failed or Execution Timed Out."
      ErrorCount: completed.filter((s) => s.inv.statusDetails === 'Failed' || s.inv.statusDetails === 'ExecutionTimedOut').length,
      // "The number of targets for which the status is Delivery Timed Out."
      DeliveryTimedOutCount: completed.filter((s) => s.inv.statusDetails === 'DeliveryTimedOut').length,
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
      const inv = visible(command) ? command.invocations.find((i) => i.instanceId === input.InstanceId) : undefined;
      if (!inv) throw fail('InvocationDoesNotExist', `no invocation of command ${input.CommandId} on ${input.InstanceId}`);
      const { status, details, done } = statusOf(inv);
      return {
        CommandId: command.id, InstanceId: inv.instanceId, Comment: command.input.Comment, DocumentName: command.input.DocumentName, PluginName: PLUGIN,
        // "If the response code is -1, then the command hasn't started running on the managed node, or it wasn't received by the node."
        Status: status, StatusDetails: details, ResponseCode: done ? inv.responseCode : -1,
        ...(inv.startsAt !== undefined && now() >= inv.startsAt ? { ExecutionStartDateTime: iso(inv.startsAt) } : {}),
        ...(done && inv.startsAt !== undefined ? { ExecutionEndDateTime: iso(inv.endsAt), ExecutionElapsedTime: `PT${Math.round((inv.endsAt - inv.startsAt) / 1000)}S` } : {}),
        // Empty until the command finished; then the first 24,000 characters of stdout and 8,000 of stderr.
        StandardOutputContent: done ? inv.stdout.slice(0, STDOUT_CONTENT_CHARS) : '',
        StandardErrorContent: done ? inv.stderr.slice(0, STDERR_CONTENT_CHARS) : '',
      };
    }));

  ssm.on(ListCommandsCommand).callsFake((input: { CommandId?: string; InstanceId?: string }) =>
    world.answer('ssm', 'ListCommands', input, false, () => {
      const listed = (input.CommandId ? [commandOf(input.CommandId)] : [...commands.values()].reverse()).filter(visible);
      return { Commands: listed.filter((c) => !input.InstanceId || c.invocations.some((i) => i.instanceId === input.InstanceId)).map(describeCommand) };
    }));

  ssm.on(ListCommandInvocationsCommand).callsFake((input: { CommandId?: string; InstanceId?: string; Details?: boolean }) =>
    world.answer('ssm', 'ListCommandInvocations', input, false, () => {
      const listed = (input.CommandId ? [commandOf(input.CommandId)] : [...commands.values()].reverse()).filter(visible);
      const invocations: CommandInvocation[] = listed.flatMap((command) => command.invocations
        .filter((inv) => !input.InstanceId || inv.instanceId === input.InstanceId)
        .map((inv) => {
          const { status, details, done } = statusOf(inv);
          const started = inv.startsAt !== undefined && now() >= inv.startsAt;
          return {
            CommandId: command.id, InstanceId: inv.instanceId, InstanceName: '', Comment: command.input.Comment, DocumentName: command.input.DocumentName,
            RequestedDateTime: new Date(command.requestedAt), Status: status as CommandInvocation['Status'], StatusDetails: details,
            ...(input.Details ? {
              // Plugins are what SSM Agent reports: an instance that never received the command reports none (not documented; an empty list here).
              CommandPlugins: started ? [{
                Name: PLUGIN, Status: status as NonNullable<CommandInvocation['CommandPlugins']>[number]['Status'], StatusDetails: details,
                ResponseCode: done ? inv.responseCode : -1,
                ResponseStartDateTime: new Date(inv.startsAt!),
                ...(done ? { ResponseFinishDateTime: new Date(inv.endsAt) } : {}),
                Output: done ? pluginOutput(inv.stdout, inv.stderr) : '',
              }] : [],
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
