import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, type InstanceInformationStringFilter } from '@aws-sdk/client-ssm';
import { ssm } from '../shared/clients';
import { megabytes, parseSummary, verifyDiskMetric } from '../shared/disk-metric';
import { detailKey, invocationOutcome, notRunMeaning, sendPruneCommand, stopIfGuardCloses } from '../shared/prune-command';
import { describeError } from '../shared/errors';
import { runbookHandler, type ActOutput, type CheckResult, type RunbookSteps } from '../shared/runbook-steps';
import type { Plan, WorkflowState } from '../shared/types';
import type { DiskPruneOptions } from './options';

export type { DiskPruneOptions } from './options';

const MAX_OUTPUT_CHARS = 1500;

function optionsOf(state: WorkflowState): DiskPruneOptions {
  return state.runbook.options as unknown as DiskPruneOptions;
}

async function managedInstance(id: string, extra: InstanceInformationStringFilter[] = []) {
  const out = await ssm().send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }, ...extra] }));
  return out.InstanceInformationList?.find((i) => i.InstanceId === id);
}

const tail = (text: string | undefined): string => (text ?? '').trim().slice(-MAX_OUTPUT_CHARS);

export const steps: RunbookSteps = {
  async plan(state) {
    const id = state.incident!.target!.id;
    const options = optionsOf(state);
    const refuse = (reason: string, details: Record<string, unknown> = {}): Plan => ({ decision: 'escalate', reason, summary: 'nothing was pruned', details });
    const info = await managedInstance(id);
    if (!info) return refuse(`instance ${id} is not SSM-managed (no registered SSM agent, or no instance profile allowing it)`);
    const details = { pingStatus: info.PingStatus, platform: info.PlatformName, agentVersion: info.AgentVersion };
    if (info.PingStatus !== 'Online') return refuse(`the SSM agent on ${id} is ${info.PingStatus}, so a command would not run`, details);
    if (info.PlatformType !== 'Linux') return refuse(`instance ${id} runs ${info.PlatformType}; the prune document is for Linux`, details);
    if (!options.instances.includes(id)) {
      const tag = options.optInTag;
      const tagged = tag ? await managedInstance(id, [{ Key: `tag:${tag.key}`, Values: [tag.value] }]) : undefined;
      if (!tagged) return refuse(`instance ${id} is not in the allow-list${tag ? ` and is not tagged ${tag.key}=${tag.value}` : ''}`, details);
    }
    const p = options.documentParameters;
    return {
      decision: 'act',
      reason: `${id} is managed and online, and its disk alarm fired`,
      summary: `SendCommand ${options.documentName} to ${id}: prune ${p.logPatterns} under ${p.logRoot} and files in ${p.tmpRoots} older than ${p.olderThanDays} days, at most ${p.maxDeleteMB} MiB`,
      details: { ...details, documentParameters: p },
      plannedCalls: [{ batch: 0, service: 'ssm', operation: 'SendCommand', target: id }],
    };
  },

  async act(state, gate): Promise<ActOutput> {
    const id = state.incident!.target!.id;
    return sendPruneCommand(state, gate, optionsOf(state), { InstanceIds: [id] }, id);
  },

  async check(state): Promise<CheckResult> {
    const id = state.incident!.target!.id;
    const { commandId, requestedAt } = state.act!.details as { commandId: string; requestedAt: string };
    let invocation;
    try {
      invocation = await ssm().send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: id }));
    } catch (error) {
      // Right after SendCommand the invocation may not exist yet: "The Run Command API follows an
      // eventual consistency model" (SDK doc of GetCommandInvocation), and until it catches up the
      // call throws InvocationDoesNotExist ("The command ID and managed node ID you specified
      // didn't match any invocations"). Pending; the check budget bounds the wait.
      if ((error as Error).name === 'InvocationDoesNotExist') return { verdict: 'pending', reason: `command ${commandId} not registered on ${id} yet`, readings: {} };
      return { verdict: 'inconclusive', reason: `command ${commandId} could not be read: ${describeError(error)}`, readings: {} };
    }
    const status = invocation.Status ?? 'unknown';
    const details = detailKey(invocation.StatusDetails);
    const summary = parseSummary(invocation.StandardOutputContent);
    const readings: Record<string, unknown> = {
      commandStatus: status, ...(details && details !== status ? { statusDetails: details } : {}), responseCode: invocation.ResponseCode,
      summary: summary && { ...summary, files: summary.files.slice(0, 10) },
    };
    // StatusDetails says more than Status (lambdas/shared/prune-command.ts, invocationOutcome).
    const outcome = invocationOutcome(status, invocation.StatusDetails);
    if (outcome === 'running') {
      // Still Pending, In Progress or Delayed: every guard is re-checked, and a closed one cancels it (a Cancelling one is being stopped already).
      const stopped = status === 'Cancelling' || details === 'Cancelling' ? undefined : await stopIfGuardCloses(state, commandId, { completed: 0, targets: 1 }, readings);
      if (stopped) return stopped;
      return { verdict: 'pending', reason: `command ${details && details !== status ? `${status} (${details})` : status}`, readings };
    }
    if (outcome === 'not-run') return { verdict: 'failure', reason: `the prune command did not run on ${id}: ${details || status} (${notRunMeaning(details)}); nothing was pruned`, readings };
    if (outcome === 'failed') {
      const output = tail(invocation.StandardErrorContent) || tail(invocation.StandardOutputContent) || 'no output';
      return { verdict: 'failure', reason: `the prune command ${status}${details && details !== status ? ` (${details})` : ''} (exit ${invocation.ResponseCode}): ${output}`, readings };
    }
    if (!summary) return { verdict: 'failure', reason: `the prune command succeeded but printed no summary: ${tail(invocation.StandardOutputContent)}`, readings };

    const finished = invocation.ExecutionEndDateTime ? new Date(invocation.ExecutionEndDateTime) : new Date(requestedAt);
    return verifyDiskMetric(state.incident!.trigger?.name, finished, `freed ${megabytes(summary.bytesFreed)} (${summary.deleted} file(s))`, readings);
  },
};

export const handler = runbookHandler(steps);
