import {
  DescribeInstanceInformationCommand, ListCommandInvocationsCommand, ListCommandsCommand, type CommandInvocation, type InstanceInformation,
} from '@aws-sdk/client-ssm';
import { ssm } from '../shared/clients';
import { describeError } from '../shared/errors';
import { megabytes, parseSummary, verifyDiskMetric } from '../shared/disk-metric';
import { sendPruneCommand, type PruneDocumentOptions } from '../shared/prune-command';
import { runbookHandler, type ActOutput, type CheckResult, type RunbookSteps } from '../shared/runbook-steps';
import type { Plan, WorkflowState } from '../shared/types';

/** Settings the construct puts in the runbook's options. */
export interface DiskPruneFleetOptions extends PruneDocumentOptions {
  /** Run Command's blast-radius caps, validated at synth time. */
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  /**
   * How the target names its fleet: an Auto Scaling group (target id = group name, instances
   * tagged `aws:autoscaling:groupName`), or a fixed tag (target id = `key=value`).
   */
  readonly fleetTagKey?: string;
}

const RUNNING = new Set(['Pending', 'InProgress', 'Cancelling']);
const MAX_FAILED_LISTED = 3;
const ASG_TAG = 'aws:autoscaling:groupName';

function optionsOf(state: WorkflowState): DiskPruneFleetOptions {
  return state.runbook.options as unknown as DiskPruneFleetOptions;
}

/** The Run Command target tag of this incident's fleet. */
function fleetTag(state: WorkflowState): { key: string; value: string } {
  const id = state.incident!.target!.id;
  const key = optionsOf(state).fleetTagKey;
  if (!key) return { key: ASG_TAG, value: id };
  return { key, value: id.slice(key.length + 1) };
}

const fleetDescription = (tag: { key: string; value: string }): string => `instances tagged ${tag.key}=${tag.value}`;

async function fleetInstances(tag: { key: string; value: string }): Promise<InstanceInformation[]> {
  const found: InstanceInformation[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ssm().send(new DescribeInstanceInformationCommand({ Filters: [{ Key: `tag:${tag.key}`, Values: [tag.value] }], MaxResults: 50, NextToken }));
    found.push(...(out.InstanceInformationList ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  return found;
}

/** Every invocation of the command (a fleet can span pages of 50). */
async function allInvocations(commandId: string): Promise<CommandInvocation[]> {
  const invocations: CommandInvocation[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ssm().send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true, NextToken }));
    invocations.push(...(out.CommandInvocations ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  return invocations;
}

export const steps: RunbookSteps = {
  async plan(state) {
    const tag = fleetTag(state);
    const options = optionsOf(state);
    const instances = await fleetInstances(tag);
    const online = instances.filter((i) => i.PingStatus === 'Online' && i.PlatformType === 'Linux');
    const details = { fleet: `${tag.key}=${tag.value}`, managed: instances.length, onlineLinux: online.length, notOnline: instances.filter((i) => i.PingStatus !== 'Online').map((i) => i.InstanceId) };
    if (online.length === 0) {
      const refusal: Plan = { decision: 'escalate', reason: `no SSM-managed, online Linux instance is tagged ${tag.key}=${tag.value}`, summary: 'nothing was pruned', details };
      return refusal;
    }
    const { partition } = state.runbook;
    const { region, account } = state.incident!.target!;
    return {
      decision: 'act',
      reason: `${online.length} managed Linux instance(s) online in ${tag.key}=${tag.value}`,
      summary: `SendCommand ${options.documentName} to instances tagged ${tag.key}=${tag.value} (${online.length} online), at most ${options.maxConcurrency} at once, stopping after ${options.maxErrors} error(s)`,
      details: { ...details, documentParameters: options.documentParameters },
      plannedCalls: [{ batch: 0, service: 'ssm', operation: 'SendCommand', target: fleetDescription(tag) }],
      // Each instance is a resource of its own: an instance prune and this fleet prune must not both act on it, or both count.
      resources: online.map((i) => `arn:${partition}:ec2:${region}:${account}:instance/${i.InstanceId}`),
    };
  },

  async act(state, gate): Promise<ActOutput> {
    const { maxConcurrency, maxErrors } = optionsOf(state);
    const tag = fleetTag(state);
    const where = { Targets: [{ Key: `tag:${tag.key}`, Values: [tag.value] }], MaxConcurrency: maxConcurrency, MaxErrors: maxErrors };
    return sendPruneCommand(state, gate, optionsOf(state), where, fleetDescription(tag));
  },

  async check(state): Promise<CheckResult> {
    const { commandId, requestedAt } = state.act!.details as { commandId: string; requestedAt: string };
    let command;
    let invocations;
    try {
      command = (await ssm().send(new ListCommandsCommand({ CommandId: commandId }))).Commands?.[0];
      invocations = command && !RUNNING.has(command.Status ?? '') ? await allInvocations(commandId) : [];
    } catch (error) {
      return { verdict: 'inconclusive', reason: `command ${commandId} could not be read: ${describeError(error)}`, readings: {} };
    }
    if (!command) return { verdict: 'pending', reason: `command ${commandId} not listed yet`, readings: {} };
    const status = command.Status ?? 'unknown';
    // ListCommandInvocations keeps the first 2,500 characters of each output, so a long summary may be cut: such instances count as unknown.
    const summaries = invocations.map((i) => ({ id: i.InstanceId, status: i.Status, summary: parseSummary(i.CommandPlugins?.[0]?.Output) }));
    const bytesFreed = summaries.reduce((sum, s) => sum + (s.summary?.bytesFreed ?? 0), 0);
    const deleted = summaries.reduce((sum, s) => sum + (s.summary?.deleted ?? 0), 0);
    const readings: Record<string, unknown> = {
      commandStatus: status, targets: command.TargetCount, completed: command.CompletedCount, errors: command.ErrorCount,
      deliveryTimedOut: command.DeliveryTimedOutCount, bytesFreed, deleted, withoutSummary: summaries.filter((s) => !s.summary).map((s) => s.id),
    };
    if (RUNNING.has(status)) return { verdict: 'pending', reason: `fleet command ${status}: ${command.CompletedCount ?? 0} of ${command.TargetCount ?? '?'} done`, readings };
    if (status !== 'Success') {
      const failed = invocations.filter((i) => i.Status !== 'Success').slice(0, MAX_FAILED_LISTED)
        .map((i) => `${i.InstanceId} ${i.Status}: ${(i.CommandPlugins?.[0]?.Output ?? '').trim().slice(-300)}`);
      return { verdict: 'failure', reason: `the fleet prune command ${status} (${command.ErrorCount ?? 0} error(s) of ${command.TargetCount ?? '?'} target(s)): ${failed.join(' | ') || 'no invocation output'}`, readings };
    }
    // Only datapoints after the last instance finished show the pruned fleet.
    const finishedAt = Math.max(Date.parse(requestedAt), ...invocations.map((i) => new Date(i.CommandPlugins?.[0]?.ResponseFinishDateTime ?? 0).getTime()));
    return verifyDiskMetric(state.incident!.trigger?.name, new Date(finishedAt), `freed ${megabytes(bytesFreed)} (${deleted} file(s)) across ${invocations.length} instance(s)`, readings);
  },
};

export const handler = runbookHandler(steps);
