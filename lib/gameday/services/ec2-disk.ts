import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SSMClient } from '@aws-sdk/client-ssm';
import { parseDuration } from '../duration';
import { DiskMetricsModel } from '../models/disk-metrics';
import { ManagedInstancesModel, type PruneOutcome } from '../models/managed-instances';
import { bindOperations } from '../models/operations';
import { RunCommandModel } from '../models/run-command';
import type { World } from '../world';
import { ChangeReader, inOrder } from './change-reader';

/**
 * `world.ec2.instances[]`: `{ id, managed (true), online (true), platform (Linux), tags {},
 * autoScalingGroup?, diskUsedPercent (95), afterPrune (70: the disk after a prune command),
 * command: Success | Failed | TimedOut (Success), commandTakes (30s), bytesFreed (12 MiB) }`.
 *
 * Answers what the disk-prune runbooks ask of SSM (DescribeInstanceInformation, SendCommand,
 * CancelCommand, GetCommandInvocation, ListCommands, ListCommandInvocations) and CloudWatch (GetMetricData of
 * the CloudWatch agent's `disk_used_percent`, by `InstanceId` or by `AutoScalingGroupName`).
 * The disk metric reads `diskUsedPercent` until a (non-dry-run) prune succeeded on the instance,
 * `afterPrune` after.
 *
 * The behaviour is the shared models' (lib/gameday/models/managed-instances.ts, run-command.ts,
 * disk-metrics.ts, which cite the AWS documentation of each); this module reads the scenario into
 * them and answers through the world. Run Command as AWS documents it:
 * - A command is invisible for its first seconds: not listed, and GetCommandInvocation answers
 *   InvocationDoesNotExist (REGISTRATION_SECONDS).
 * - It runs on at most `MaxConcurrency` instances at once; once more than `MaxErrors` invocations
 *   failed or timed out in execution, the rest are never sent (`Terminated`).
 * - An instance that is not online never receives it: `Delayed` while Run Command retries, then
 *   `DeliveryTimedOut` when the command expires (`TimeoutSeconds` + the document's 600 s
 *   execution timeout). Delivery timeouts are not errors (they do not count against MaxErrors).
 * - Each invocation has a `Status` and a finer `StatusDetails`; the command aggregates them.
 * - CancelCommand makes every invocation not yet ended `Cancelling`, then `Cancelled` (a pending
 *   one never runs, so it prunes nothing), and the command Cancelling, then Cancelled.
 * - ListCommandInvocations' per-plugin `Output` is stdout and stderr cut to 2,500 characters the
 *   way SSM Agent cuts it; GetCommandInvocation gives the first 24,000 characters of stdout and
 *   8,000 of stderr.
 */
interface InstanceSpec {
  readonly id: string;
  readonly managed?: boolean;
  readonly online?: boolean;
  readonly platform?: string;
  readonly tags?: Record<string, string>;
  readonly autoScalingGroup?: string;
  readonly diskUsedPercent?: number;
  readonly afterPrune?: number;
  readonly command?: PruneOutcome;
  readonly commandTakes?: string | number;
  readonly bytesFreed?: number;
}

/** Reads a timeline `change: { ec2: {...} }`: `{ instance, agent: offline | online }`, `{ instance, diskUsedPercent: N }` (the disk fills or frees). */
function readChange(fleet: ManagedInstancesModel, change: Record<string, unknown>, where: string): () => void {
  const read = new ChangeReader(change, where, ['instance', 'agent', 'diskUsedPercent']);
  const id = read.target('instance', 'instance (i-...)');
  const instance = fleet.instances.get(id);
  if (!instance) throw read.error('instance', `no instance ${id} in world.ec2 (known: ${[...fleet.instances.keys()].join(', ') || 'none'})`);
  read.requireChange(['agent', 'diskUsedPercent']);
  const agent = read.oneOf('agent', ['offline', 'online'] as const);
  // An unmanaged instance has no SSM Agent that Systems Manager knows of: there is no PingStatus to change.
  if (agent && !instance.managed) throw read.error('agent', `${id} is not managed by Systems Manager (managed: false in world.ec2)`);
  const disk = read.percent('diskUsedPercent');
  return inOrder([
    agent ? () => fleet.setAgent(instance, agent === 'online') : undefined,
    disk !== undefined ? () => fleet.setDisk(instance, disk) : undefined,
  ]);
}

/** Reads `world.ec2` into the managed-instance, Run Command and disk-metric models on the world's clock and answers SSM and CloudWatch calls from them. */
export function installEc2Disk(world: World): { fleet: ManagedInstancesModel; runCommand: RunCommandModel; disks: DiskMetricsModel } {
  const specs = ((world.spec.ec2 as { instances?: InstanceSpec[] } | undefined)?.instances ?? []);
  const clock = { now: () => world.clock.now(), later: (seconds: number, change: () => void) => world.later(seconds, change) };
  const fleet = new ManagedInstancesModel(clock, world.env);
  for (const [i, spec] of specs.entries()) {
    const where = `world.ec2.instances[${i}]`;
    if (!spec?.id) throw new Error(`${where}.id: every instance needs an id (i-...)`);
    if (spec.command !== undefined && !['Success', 'Failed', 'TimedOut'].includes(spec.command)) throw new Error(`${where}.command: must be Success, Failed or TimedOut`);
    const { commandTakes, ...rest } = spec;
    fleet.addInstance({ ...rest, commandSeconds: parseDuration(commandTakes ?? '30s', `${where}.commandTakes`) });
  }
  const runCommand = new RunCommandModel(clock, world.env, fleet);
  const disks = new DiskMetricsModel(clock, fleet);
  const ssm = world.stub(SSMClient);
  const viaWorld = (service: string) => (operation: string, input: Record<string, unknown>, mutating: boolean, answer: () => unknown) => world.answer(service, operation, input, mutating, answer);
  bindOperations(ssm, fleet.operations, viaWorld('ssm'));
  bindOperations(ssm, runCommand.operations, viaWorld('ssm'));
  bindOperations(world.stub(CloudWatchClient), disks.operations, viaWorld('cloudwatch'));
  world.changes.set('ec2', (change, where) => readChange(fleet, change, where));
  return { fleet, runCommand, disks };
}
