import { createHash } from 'node:crypto';
import {
  CancelCommandCommand, GetCommandInvocationCommand, ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand,
  type Command, type CommandInvocation, type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import type { ModelClock, ModelEnv } from './clock';
import { tagMatches, type ManagedInstance, type ManagedInstancesModel } from './managed-instances';
import { awsError, type ModelOperations } from './operations';
import { STDERR_CONTENT_CHARS, STDOUT_CONTENT_CHARS, pluginOutput, summaryLine } from './prune-output';

const PLUGIN = 'prune';
/**
 * How long a new command stays invisible. GetCommandInvocation's doc (SDK dist-types): "The Run
 * Command API follows an eventual consistency model ... the result of an API command you run ...
 * might not be immediately visible to all subsequent commands you run"; its error for an unknown
 * pair is InvocationDoesNotExist ("The command ID and managed node ID you specified didn't match
 * any invocations"). aws/aws-sdk#190: ListCommandInvocations right after SendCommand answers 200
 * with an empty list, "because the commandID was not found yet". A few seconds, simulated.
 */
export const REGISTRATION_SECONDS = 2;
/**
 * How long a cancelled invocation stays `Cancelling` before it is `Cancelled` (SSM Agent has to
 * stop the process; not documented: a few seconds, simulated).
 */
export const CANCEL_SECONDS = 2;
/** The document's aws:runShellScript `timeoutSeconds` (ssm-documents/medic-disk-prune.yaml): the execution timeout. */
const EXECUTION_TIMEOUT_MS = 600_000;

/** One instance's part of a command, as scheduled when the command was sent (ms after it was sent), and where it is now. */
interface Invocation {
  readonly instanceId: string;
  readonly startsAfter?: number;
  readonly deliveringAfter?: number;
  readonly endsAfter: number;
  readonly status: 'Success' | 'Failed' | 'TimedOut' | 'Cancelled';
  readonly statusDetails: 'Success' | 'Failed' | 'ExecutionTimedOut' | 'DeliveryTimedOut' | 'Terminated';
  readonly responseCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly prunes: boolean;
  /** Model time (ms) it started / ended; delivering: Run Command is retrying an unreachable instance. */
  startedAt?: number;
  endedAt?: number;
  delivering?: boolean;
  /** CancelCommand reached it before it ended: `Cancelling`, then `Cancelled` (terminal; its schedule no longer applies). */
  cancel?: 'Cancelling' | 'Cancelled';
}

interface SentCommand {
  readonly id: string;
  readonly requestedAt: number;
  readonly input: SendCommandCommandInput;
  readonly invocations: Invocation[];
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  visible: boolean;
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
function schedule(input: SendCommandCommandInput, targets: ManagedInstance[]): Invocation[] {
  const concurrency = cap(input.MaxConcurrency, targets.length, 50, true);
  const maxErrors = cap(input.MaxErrors, targets.length, 0, false);
  const startBy = (input.TimeoutSeconds ?? 3600) * 1000;
  const expiresAt = startBy + EXECUTION_TIMEOUT_MS;
  const parameters = (input.Parameters ?? {}) as Record<string, string[]>;
  const dryRun = parameters.dryRun?.[0] === 'true';
  const slots: number[] = Array.from({ length: Math.max(1, concurrency) }, () => 0);
  const errorsAt: number[] = [];
  const never = (instanceId: string, endsAfter: number, statusDetails: 'DeliveryTimedOut' | 'Terminated', deliveringAfter?: number): Invocation => ({
    instanceId, endsAfter, status: statusDetails === 'Terminated' ? 'Cancelled' : 'TimedOut', statusDetails, responseCode: -1, stdout: '', stderr: '', prunes: false,
    ...(deliveringAfter !== undefined ? { deliveringAfter } : {}),
  });
  return targets.map((instance) => {
    slots.sort((a, b) => a - b);
    const startsAfter = slots[0];
    if (errorsAt.filter((at) => at <= startsAfter).length > maxErrors) return never(instance.id, startsAfter, 'Terminated');
    // Its turn comes after TimeoutSeconds: it never starts, and times out undelivered when the command expires.
    if (startsAfter >= startBy) return never(instance.id, expiresAt, 'DeliveryTimedOut');
    let invocation: Invocation;
    if (!instance.online) {
      invocation = never(instance.id, expiresAt, 'DeliveryTimedOut', startsAfter);
    } else if (instance.command === 'TimedOut' || instance.commandSeconds * 1000 > EXECUTION_TIMEOUT_MS) {
      invocation = {
        instanceId: instance.id, startsAfter, endsAfter: startsAfter + EXECUTION_TIMEOUT_MS, status: 'TimedOut', statusDetails: 'ExecutionTimedOut', responseCode: -1,
        stdout: '', stderr: 'failed to run commands: the script did not finish within its 600 s execution timeout', prunes: false,
      };
    } else {
      const outcome = instance.command;
      invocation = {
        instanceId: instance.id, startsAfter, endsAfter: startsAfter + instance.commandSeconds * 1000, status: outcome, statusDetails: outcome,
        responseCode: outcome === 'Success' ? 0 : 1, stdout: `${summaryLine(instance, parameters, outcome)}\n`, stderr: '',
        prunes: outcome === 'Success' && !dryRun && instance.bytesFreed > 0,
      };
    }
    slots[0] = invocation.endsAfter;
    if (invocation.statusDetails === 'Failed' || invocation.statusDetails === 'ExecutionTimedOut') errorsAt.push(invocation.endsAfter);
    return invocation;
  });
}

/**
 * An invocation's Status and StatusDetails at the simulated now: Pending until its turn,
 * InProgress while it runs, and, for an instance that never takes it, Delayed while Run Command
 * retries ("Delayed: The system attempted to send the command to the target, but the target
 * wasn't available ... The system will try to send the command again", SDK
 * GetCommandInvocationResult.StatusDetails; Status stays InProgress: "If the agent isn't running
 * or available on the instance, the command status remains at In Progress", monitor-commands.md).
 */
function statusOf(inv: Invocation): { status: string; details: string; done: boolean } {
  if (inv.cancel) return { status: inv.cancel, details: inv.cancel, done: inv.cancel === 'Cancelled' };
  if (inv.endedAt !== undefined) return { status: inv.status, details: inv.statusDetails, done: true };
  if (inv.delivering) return { status: 'InProgress', details: 'Delayed', done: false };
  if (inv.startedAt === undefined) return { status: 'Pending', details: 'Pending', done: false };
  return { status: 'InProgress', details: 'InProgress', done: false };
}

/**
 * The command's own status, from its invocations' (SDK Command.StatusDetails, monitor-commands.md
 * "Detailed status for a command"): Pending until an invocation is in progress; Success when every
 * invocation succeeded (Undeliverable ones "don't contribute", but this world has none); Failed,
 * Execution Timed Out or Delivery Timed Out when "the value of MaxErrors or more" invocations
 * ended so (at least one); otherwise Incomplete ("not enough invocations failed for the status to
 * be Failed"), whose Status is not documented: Failed here. No target: No Instances In Tag.
 */
function aggregate(done: Array<{ inv: Invocation }>, maxErrors: number): { status: string; details: string } {
  const count = (details: Invocation['statusDetails']) => done.filter((s) => s.inv.statusDetails === details).length;
  const threshold = Math.max(1, maxErrors);
  if (done.length === 0) return { status: 'Success', details: 'NoInstancesInTag' };
  if (count('Success') === done.length) return { status: 'Success', details: 'Success' };
  if (count('Failed') >= threshold) return { status: 'Failed', details: 'Failed' };
  if (count('ExecutionTimedOut') >= threshold) return { status: 'TimedOut', details: 'ExecutionTimedOut' };
  if (count('Failed') + count('ExecutionTimedOut') >= threshold) return { status: 'Failed', details: 'Failed' };
  if (count('DeliveryTimedOut') >= threshold) return { status: 'TimedOut', details: 'DeliveryTimedOut' };
  return { status: 'Failed', details: 'Incomplete' };
}

/**
 * What a cancelled invocation reports: not the outcome it was scheduled for. Its output is not
 * documented; none here, and -1 ("the command hasn't started running on the managed node, or it
 * wasn't received by the node", or here: it was stopped) as its response code.
 */
const outputOf = (inv: Invocation): { stdout: string; stderr: string } => (inv.cancel ? { stdout: '', stderr: '' } : inv);
const responseCode = (inv: Invocation, done: boolean): number => (done && !inv.cancel ? inv.responseCode : -1);

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * Systems Manager Run Command as the disk-prune runbooks use it (SendCommand, CancelCommand,
 * GetCommandInvocation, ListCommands, ListCommandInvocations) over the managed instances (managed-instances.ts): targets,
 * rate controls, statuses over model time, and the output as SSM Agent reports it. A successful
 * prune marks the instance pruned (its disk metric drops, disk-metrics.ts). Used by the game-day
 * world (lib/gameday/services/ec2-disk.ts) and the workflow tests (test/support/fake-disk.ts). Each
 * behaviour cites the AWS documentation it follows beside it.
 */
export class RunCommandModel {
  readonly commands = new Map<string, SentCommand>();
  /** How long a new command stays invisible (see {@link REGISTRATION_SECONDS}). */
  registrationSeconds = REGISTRATION_SECONDS;
  private sent = 0;

  readonly operations: ModelOperations = {
    SendCommand: { command: SendCommandCommand, mutating: true, answer: (input: SendCommandCommandInput) => this.sendCommand(input) },
    CancelCommand: { command: CancelCommandCommand, mutating: true, answer: (input: { CommandId?: string; InstanceIds?: string[] }) => this.cancelCommand(input) },
    GetCommandInvocation: { command: GetCommandInvocationCommand, mutating: false, answer: (input: { CommandId?: string; InstanceId?: string }) => this.getCommandInvocation(input) },
    ListCommands: { command: ListCommandsCommand, mutating: false, answer: (input: { CommandId?: string; InstanceId?: string }) => this.listCommands(input) },
    ListCommandInvocations: {
      command: ListCommandInvocationsCommand, mutating: false,
      answer: (input: { CommandId?: string; InstanceId?: string; Details?: boolean }) => this.listCommandInvocations(input),
    },
  };

  constructor(private readonly clock: ModelClock, private readonly env: ModelEnv, private readonly fleet: ManagedInstancesModel) {}

  sendCommand(input: SendCommandCommandInput): { Command: Command } {
    const targets = this.targetsOf(input);
    const requestedAt = this.clock.now();
    const hex = createHash('sha256').update(`${++this.sent}:${input.Comment ?? ''}:${requestedAt}`).digest('hex');
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    const command: SentCommand = {
      id, requestedAt, input, invocations: schedule(input, targets), visible: false,
      maxConcurrency: input.MaxConcurrency ?? '50', maxErrors: input.MaxErrors ?? '0',
    };
    this.commands.set(id, command);
    this.at(this.registrationSeconds * 1000, () => { command.visible = true; });
    for (const inv of command.invocations) {
      // A cancelled invocation's schedule no longer applies: it never starts, and never ends (nor prunes) as scheduled.
      if (inv.startsAfter !== undefined) this.at(inv.startsAfter, () => { if (!inv.cancel) inv.startedAt = this.clock.now(); });
      if (inv.deliveringAfter !== undefined) this.at(inv.deliveringAfter, () => { if (!inv.cancel) inv.delivering = true; });
      this.at(inv.endsAfter, () => {
        if (inv.cancel) return;
        inv.endedAt = this.clock.now();
        inv.delivering = false;
        const instance = this.fleet.instances.get(inv.instanceId);
        if (inv.prunes && instance) instance.prunedAt = inv.endedAt;
      });
    }
    // Run Command answers before any instance has it (and before its lists show it: registrationSeconds).
    return { Command: { ...this.describeCommand(command), Status: 'Pending', StatusDetails: 'Pending', CompletedCount: 0 } };
  }

  /**
   * CancelCommand (SDK doc of CancelCommandCommand and CancelCommandRequest): "Attempts to cancel
   * the command specified by the Command ID. There is no guarantee that the command will be
   * terminated and the underlying process stopped"; without `InstanceIds` "the command is
   * canceled on every node on which it was requested". Errors: InvalidCommandId ("The specified
   * command ID isn't valid"; here also while the command is not registered yet, like the other
   * calls), InvalidInstanceId, DuplicateInstanceId. The answer is empty.
   *
   * Every invocation not yet ended becomes `Cancelling`, then, CANCEL_SECONDS later, `Cancelled`
   * ("The command was terminated before it was completed. This is a terminal state", SDK
   * CommandInvocation.StatusDetails), and the command's Status goes Cancelling then Cancelled
   * (SDK CommandStatus). A pending invocation never runs, so it prunes nothing. One in progress is
   * stopped part-way: how much its script deleted is unknown, and the model counts it as having
   * freed nothing (its disk metric does not drop). Invocations that had ended keep their outcome.
   */
  cancelCommand(input: { CommandId?: string; InstanceIds?: string[] }): Record<string, never> {
    const command = this.commandOf(input.CommandId);
    if (!command.visible) throw awsError('InvalidCommandId', `command ${input.CommandId} does not exist`);
    const ids = input.InstanceIds ?? [];
    if (new Set(ids).size !== ids.length) throw awsError('DuplicateInstanceId', 'an instance id is listed more than once');
    for (const id of ids) {
      if (!command.invocations.some((i) => i.instanceId === id)) throw awsError('InvalidInstanceId', `command ${command.id} was not sent to ${id}`);
    }
    const cancelled = command.invocations.filter((inv) => (ids.length === 0 || ids.includes(inv.instanceId)) && inv.endedAt === undefined && !inv.cancel);
    for (const inv of cancelled) {
      inv.cancel = 'Cancelling';
      inv.delivering = false;
    }
    this.at(CANCEL_SECONDS * 1000, () => {
      for (const inv of cancelled) {
        inv.cancel = 'Cancelled';
        inv.endedAt = this.clock.now();
      }
    });
    return {};
  }

  /** GetCommandInvocation; InvocationDoesNotExist while the command is not registered yet, or for an instance it does not target. */
  getCommandInvocation(input: { CommandId?: string; InstanceId?: string }) {
    const command = this.commandOf(input.CommandId);
    const inv = command.visible ? command.invocations.find((i) => i.instanceId === input.InstanceId) : undefined;
    if (!inv) throw awsError('InvocationDoesNotExist', `no invocation of command ${input.CommandId} on ${input.InstanceId}`);
    const { status, details, done } = statusOf(inv);
    return {
      CommandId: command.id, InstanceId: inv.instanceId, Comment: command.input.Comment, DocumentName: command.input.DocumentName, PluginName: PLUGIN,
      // "If the response code is -1, then the command hasn't started running on the managed node, or it wasn't received by the node."
      Status: status, StatusDetails: details, ResponseCode: responseCode(inv, done),
      ...(inv.startedAt !== undefined ? { ExecutionStartDateTime: iso(inv.startedAt) } : {}),
      ...(done && inv.startedAt !== undefined ? { ExecutionEndDateTime: iso(inv.endedAt), ExecutionElapsedTime: `PT${Math.round((inv.endedAt! - inv.startedAt) / 1000)}S` } : {}),
      // Empty until the command finished; then the first 24,000 characters of stdout and 8,000 of stderr.
      StandardOutputContent: done ? outputOf(inv).stdout.slice(0, STDOUT_CONTENT_CHARS) : '',
      StandardErrorContent: done ? outputOf(inv).stderr.slice(0, STDERR_CONTENT_CHARS) : '',
    };
  }

  /** ListCommands: newest first; a command not registered yet is not listed (aws/aws-sdk#190). */
  listCommands(input: { CommandId?: string; InstanceId?: string }) {
    const listed = (input.CommandId ? [this.commandOf(input.CommandId)] : [...this.commands.values()].reverse()).filter((c) => c.visible);
    return { Commands: listed.filter((c) => !input.InstanceId || c.invocations.some((i) => i.instanceId === input.InstanceId)).map((c) => this.describeCommand(c)) };
  }

  /** ListCommandInvocations, with Details the per-plugin Output as SSM Agent cuts it (prune-output.ts). */
  listCommandInvocations(input: { CommandId?: string; InstanceId?: string; Details?: boolean }) {
    const listed = (input.CommandId ? [this.commandOf(input.CommandId)] : [...this.commands.values()].reverse()).filter((c) => c.visible);
    const invocations: CommandInvocation[] = listed.flatMap((command) => command.invocations
      .filter((inv) => !input.InstanceId || inv.instanceId === input.InstanceId)
      .map((inv) => {
        const { status, details, done } = statusOf(inv);
        return {
          CommandId: command.id, InstanceId: inv.instanceId, InstanceName: '', Comment: command.input.Comment, DocumentName: command.input.DocumentName,
          RequestedDateTime: new Date(command.requestedAt), Status: status as CommandInvocation['Status'], StatusDetails: details,
          ...(input.Details ? {
            // Plugins are what SSM Agent reports: an instance that never received the command reports none (not documented; an empty list here).
            CommandPlugins: inv.startedAt !== undefined ? [{
              Name: PLUGIN, Status: status as NonNullable<CommandInvocation['CommandPlugins']>[number]['Status'], StatusDetails: details,
              ResponseCode: responseCode(inv, done),
              ResponseStartDateTime: new Date(inv.startedAt),
              ...(done ? { ResponseFinishDateTime: new Date(inv.endedAt!) } : {}),
              Output: done ? pluginOutput(outputOf(inv).stdout, outputOf(inv).stderr) : '',
            }] : [],
          } : {}),
        };
      }));
    return { CommandInvocations: invocations };
  }

  /** Runs `change` `ms` of model time from now (at once for 0). */
  private at(ms: number, change: () => void): void {
    if (ms <= 0) change();
    else this.clock.later(ms / 1000, change);
  }

  private commandOf(id: string | undefined): SentCommand {
    const command = id ? this.commands.get(id) : undefined;
    if (!command) throw awsError('InvalidCommandId', `command ${id} does not exist`);
    return command;
  }

  /** The managed instances a SendCommand names: by InstanceIds (InvalidInstanceId for one that is not managed), or by Targets (tag:, tag-key, InstanceIds). */
  private targetsOf(input: SendCommandCommandInput): ManagedInstance[] {
    if (input.InstanceIds?.length) {
      return input.InstanceIds.map((id) => {
        const instance = this.fleet.instances.get(id);
        if (!instance?.managed) throw awsError('InvalidInstanceId', `Instances [[${id}]] not in a valid state for account ${this.env.account}`);
        return instance;
      });
    }
    if (!input.Targets?.length) throw awsError('ValidationException', 'SendCommand needs InstanceIds or Targets');
    return [...this.fleet.instances.values()].filter((instance) => instance.managed && input.Targets!.every((t) => {
      const key = t.Key ?? '';
      if (key.startsWith('tag:')) return tagMatches(instance, key.slice(4), t.Values);
      if (key === 'tag-key') return (t.Values ?? []).some((k) => k in instance.tags);
      if (key === 'InstanceIds') return (t.Values ?? []).includes(instance.id);
      throw awsError('InvalidTarget', `the model's SSM does not support the target key ${key}`);
    }));
  }

  private describeCommand(command: SentCommand): Command {
    const states = command.invocations.map((inv) => ({ inv, ...statusOf(inv) }));
    const completed = states.filter((s) => s.done);
    let status: string;
    let details: string;
    if (states.some((s) => s.inv.cancel)) {
      // CancelCommand reached some invocations: the command is Cancelling until each of them is Cancelled.
      status = states.some((s) => s.inv.cancel === 'Cancelling') ? 'Cancelling' : 'Cancelled';
      details = status;
    } else if (completed.length < states.length) {
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
      // (A cancelled invocation counts by what it became, Cancelled, not by what was scheduled for it.)
      ErrorCount: completed.filter((s) => s.details === 'Failed' || s.details === 'ExecutionTimedOut').length,
      // "The number of targets for which the status is Delivery Timed Out."
      DeliveryTimedOutCount: completed.filter((s) => s.details === 'DeliveryTimedOut').length,
    };
  }
}
