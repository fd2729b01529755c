import {
  DescribeInstanceInformationCommand, GetCommandInvocationCommand, ListCommandInvocationsCommand, ListCommandsCommand,
  type Command, type CommandInvocation, type InstanceInformation,
} from '@aws-sdk/client-ssm';
import { ssm } from '../shared/clients';
import { describeError } from '../shared/errors';
import { megabytes, parseSummary, pluginStdout, PLUGIN_OUTPUT_TRUNCATED, verifyDiskMetric, type PruneSummary } from '../shared/disk-metric';
import { detailKey, invocationOutcome, notRunMeaning, sendPruneCommand, stopIfGuardCloses, type InvocationOutcome } from '../shared/prune-command';
import { runbookHandler, type ActOutput, type CheckResult, type RunbookSteps } from '../shared/runbook-steps';
import type { Briefing, Plan, Report, WorkflowState } from '../shared/types';
import type { DiskPruneFleetOptions } from './options';

export type { DiskPruneFleetOptions } from './options';

/**
 * A command that has not ended (SDK `Command.StatusDetails`: Pending, In Progress, Delayed; a
 * Cancelling command is not Cancelled yet). Anything else is terminal: then each invocation is judged.
 */
const RUNNING = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);
/** Failed instances quoted in a page, with their output. */
const MAX_FAILED_QUOTED = 3;
/** Instances listed per outcome in the readings, so the workflow state stays small on a large fleet. */
const MAX_LISTED = 20;
/** GetCommandInvocation calls per check, for summaries ListCommandInvocations cut, and how many at once. */
const MAX_SUMMARIES_FETCHED = 50;
const FETCH_CONCURRENCY = 5;
const ASG_TAG = 'aws:autoscaling:groupName';

function optionsOf(state: WorkflowState): DiskPruneFleetOptions {
  return state.runbook.options as unknown as DiskPruneFleetOptions;
}

/** The Run Command target tag of this incident's fleet. */
function optInTag(state: WorkflowState): { key: string; value: string } {
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

/** One instance's part of the command, judged on its own (see invocationOutcome). */
interface Judged {
  readonly id: string;
  readonly status: string;
  readonly details?: string;
  readonly outcome: InvocationOutcome;
  readonly invocation: CommandInvocation;
}

/** `Failed`, or `TimedOut (DeliveryTimedOut)` when the details say more than the status. */
function statusText(status: string, details: string | undefined): string {
  return details && detailKey(details) !== status ? `${status} (${detailKey(details)})` : status;
}

/** `i-0abc (DeliveryTimedOut)`: an instance and what became of its invocation. */
const instanceStatus = (j: Judged): string => `${j.id} (${detailKey(j.details) || j.status})`;

const exitCode = (j: Judged): string => {
  const code = j.invocation.CommandPlugins?.[0]?.ResponseCode;
  return code !== undefined && code !== -1 ? ` (exit ${code})` : '';
};

/** At most 10 items, then how many more. */
function listed(items: string[]): string {
  return items.length <= 10 ? items.join(', ') : `${items.slice(0, 10).join(', ')} and ${items.length - 10} more`;
}

/** What a failed instance reported: its summary's errors and refusals, else the end of its output. */
function whatItSaid(j: Judged, summary: PruneSummary | undefined): string {
  if (summary && (summary.errors.length > 0 || summary.refusedRoots.length > 0)) {
    const errors = summary.errorCount ?? summary.errors.length;
    const more = errors > Math.min(3, summary.errors.length) ? ` (${errors} error(s) in all)` : '';
    return [...summary.refusedRoots, ...summary.errors.slice(0, 3)].join('; ') + more;
  }
  return (j.invocation.CommandPlugins?.[0]?.Output ?? '').trim().slice(-300) || 'no output';
}

function notRunAction(notRun: Judged[]): string {
  return `Check the SSM agent and network of ${listed(notRun.map((j) => j.id))}: Run Command could not run the prune there, so those disks were not pruned; prune them by hand or replace them.`;
}

/**
 * Each ran instance's summary (the script's last stdout line): from its ListCommandInvocations
 * `Output` when that holds stdout whole, else from GetCommandInvocation, whose
 * `StandardOutputContent` is "the first 24,000 characters written by the plugin to stdout" (SDK
 * doc, GetCommandInvocationResult), which the script keeps its summary within (at most 40 paths,
 * 20 errors). At most MAX_SUMMARIES_FETCHED calls per check; an unreadable summary only leaves
 * that instance's bytes out of the figures.
 */
async function readSummaries(commandId: string, ran: Judged[]): Promise<{ summaries: Map<string, PruneSummary>; fetched: number; unreadable: string[]; outputCut: number }> {
  const summaries = new Map<string, PruneSummary>();
  const missing: Judged[] = [];
  let outputCut = 0;
  for (const j of ran) {
    const stdout = pluginStdout(j.invocation.CommandPlugins?.[0]?.Output);
    if (stdout.endsWith(PLUGIN_OUTPUT_TRUNCATED)) outputCut++;
    const summary = parseSummary(stdout);
    if (summary) summaries.set(j.id, summary);
    else missing.push(j);
  }
  const toFetch = missing.slice(0, MAX_SUMMARIES_FETCHED);
  const unreadable: string[] = [];
  for (let i = 0; i < toFetch.length; i += FETCH_CONCURRENCY) {
    await Promise.all(toFetch.slice(i, i + FETCH_CONCURRENCY).map(async (j) => {
      try {
        const out = await ssm().send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: j.id }));
        const summary = parseSummary(out.StandardOutputContent);
        if (summary) summaries.set(j.id, summary);
      } catch (error) {
        unreadable.push(`${j.id}: ${describeError(error)}`);
      }
    }));
  }
  return { summaries, fetched: toFetch.length, unreadable, outputCut };
}

export const steps: RunbookSteps = {
  async plan(state) {
    const tag = optInTag(state);
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
    const tag = optInTag(state);
    const where = { Targets: [{ Key: `tag:${tag.key}`, Values: [tag.value] }], MaxConcurrency: maxConcurrency, MaxErrors: maxErrors };
    return sendPruneCommand(state, gate, optionsOf(state), where, fleetDescription(tag));
  },

  async check(state): Promise<CheckResult> {
    const { commandId, requestedAt } = state.act!.details as { commandId: string; requestedAt: string };
    let command: Command | undefined;
    try {
      command = (await ssm().send(new ListCommandsCommand({ CommandId: commandId }))).Commands?.[0];
    } catch (error) {
      // Right after SendCommand, Run Command may not know the id yet (its API is eventually consistent): not an error.
      if ((error as Error).name !== 'InvalidCommandId') return { verdict: 'inconclusive', reason: `command ${commandId} could not be read: ${describeError(error)}`, readings: {} };
    }
    // Run Command's lists are eventually consistent: a command it answered SendCommand for may not be listed for a moment.
    if (!command) return { verdict: 'pending', reason: `command ${commandId} not listed yet`, readings: {} };
    const status = command.Status ?? 'unknown';
    const commandReadings: Record<string, unknown> = {
      commandStatus: status, commandStatusDetails: command.StatusDetails, targets: command.TargetCount, completed: command.CompletedCount,
      errors: command.ErrorCount, deliveryTimedOut: command.DeliveryTimedOutCount,
    };
    if (RUNNING.has(status)) {
      // Run Command is still reaching instances: every guard is re-checked, and a closed one cancels the rest (a Cancelling command is being stopped already).
      const stopped = status === 'Cancelling' ? undefined : await stopIfGuardCloses(state, commandId, { completed: command.CompletedCount, targets: command.TargetCount }, commandReadings);
      if (stopped) return stopped;
      return { verdict: 'pending', reason: `fleet command ${status}: ${command.CompletedCount ?? 0} of ${command.TargetCount ?? '?'} done`, readings: commandReadings };
    }

    // The command's own Status says little: one undelivered instance makes it Incomplete (or
    // Delivery Timed Out) though the prune worked everywhere else, and undeliverable instances
    // leave it Success though they never ran it. Each invocation is judged on its own.
    let invocations: CommandInvocation[];
    try {
      invocations = await allInvocations(commandId);
    } catch (error) {
      return { verdict: 'inconclusive', reason: `the invocations of command ${commandId} could not be read: ${describeError(error)}`, readings: commandReadings };
    }
    const judged: Judged[] = invocations.map((i) => ({ id: i.InstanceId ?? 'unknown', status: i.Status ?? 'unknown', details: i.StatusDetails, outcome: invocationOutcome(i.Status, i.StatusDetails), invocation: i }));
    const ended = judged.filter((j) => j.outcome !== 'running').length;
    const expected = Math.max(command.TargetCount ?? 0, judged.length);
    if (ended < expected) {
      return { verdict: 'pending', reason: `fleet command ${statusText(status, command.StatusDetails)}, but Run Command lists ${ended} of ${expected} invocation(s) as ended so far`, readings: commandReadings };
    }
    const succeeded = judged.filter((j) => j.outcome === 'succeeded');
    const failed = judged.filter((j) => j.outcome === 'failed');
    const notRun = judged.filter((j) => j.outcome === 'not-run');
    const { summaries, fetched, unreadable, outputCut } = await readSummaries(commandId, [...succeeded, ...failed]);
    const ranSummaries = succeeded.map((j) => summaries.get(j.id)).filter((s): s is PruneSummary => !!s);
    const bytesFreed = ranSummaries.reduce((sum, s) => sum + s.bytesFreed, 0);
    const deleted = ranSummaries.reduce((sum, s) => sum + s.deleted, 0);
    const withoutSummary = [...succeeded, ...failed].filter((j) => !summaries.has(j.id)).map((j) => j.id);
    const readings: Record<string, unknown> = {
      ...commandReadings,
      invocations: judged.length,
      succeeded: succeeded.length,
      failed: failed.slice(0, MAX_LISTED).map(instanceStatus), failedCount: failed.length,
      notRun: notRun.slice(0, MAX_LISTED).map(instanceStatus), notRunCount: notRun.length,
      bytesFreed, deleted,
      withoutSummary: withoutSummary.slice(0, MAX_LISTED), withoutSummaryCount: withoutSummary.length,
      outputCut, summariesFetched: fetched, ...(unreadable.length > 0 ? { summaryErrors: unreadable.slice(0, 5) } : {}),
    };
    const commandText = `the fleet prune command ${statusText(status, command.StatusDetails)}`;
    const notRunText = notRun.length > 0 ? `not run on ${listed(notRun.map(instanceStatus))}` : '';
    const fleet = optInTag(state);
    const briefingFacts = [`fleet: ${fleet.key}=${fleet.value}`, `command: ${commandId} (${statusText(status, command.StatusDetails)})`,
      `ran: ${succeeded.length} succeeded, ${failed.length} failed, ${notRun.length} not reached of ${judged.length}`,
      ...notRun.slice(0, 10).map((j) => `not reached: ${instanceStatus(j)}: ${notRunMeaning(j.details)}`)];

    if (failed.length > 0) {
      // A failure on an instance that ran the prune is a failure of the prune: a human reads what it said.
      const quoted = failed.slice(0, MAX_FAILED_QUOTED).map((j) => `${j.id} ${statusText(j.status, j.details)}${exitCode(j)}: ${whatItSaid(j, summaries.get(j.id))}`);
      return {
        verdict: 'failure',
        reason: `${commandText}: failed on ${failed.length} of ${judged.length} instance(s): ${quoted.join(' | ')}${notRunText ? `; ${notRunText}` : ''}`,
        readings,
        briefing: { facts: [...briefingFacts, ...failed.slice(0, 10).map((j) => `failed: ${j.id} ${statusText(j.status, j.details)}${exitCode(j)}`)], action: `Read what the prune said on ${listed(failed.map((j) => j.id))} (Run Command, command ${commandId}) before pruning again: it failed there.` },
      };
    }
    if (succeeded.length === 0) {
      return {
        verdict: 'failure',
        reason: `${commandText}: it ran on no instance${notRunText ? `: ${notRunText}` : ' (Run Command found no instance to send it to)'}`,
        readings,
        briefing: { facts: briefingFacts, action: notRunAction(notRun) },
      };
    }

    // Only datapoints after the last instance finished show the pruned fleet.
    const finishedAt = Math.max(Date.parse(requestedAt), ...succeeded.map((j) => new Date(j.invocation.CommandPlugins?.[0]?.ResponseFinishDateTime ?? 0).getTime()));
    const unreadCount = succeeded.filter((j) => !summaries.has(j.id)).length;
    const unread = unreadCount > 0 ? `, ${unreadCount} of them without a readable summary` : '';
    const freed = `freed ${megabytes(bytesFreed)} (${deleted} file(s)) across ${succeeded.length} instance(s)${unread}${notRunText ? `; ${notRunText}` : ''}`;
    if (notRun.length === 0) return verifyDiskMetric(state.incident!.trigger?.name, new Date(finishedAt), freed, readings);
    // Some instances never received it: the fleet's metric decides; an escalation names them, and so does a resolution.
    const result = await verifyDiskMetric(state.incident!.trigger?.name, new Date(finishedAt), freed, readings, 'the instance(s) the prune did not reach may be the full one(s)');
    const briefing: Briefing = { facts: briefingFacts, action: notRunAction(notRun) };
    if (result.verdict !== 'success') return { ...result, briefing };
    const report: Report = {
      title: `Fleet disk prune of ${fleet.key}=${fleet.value}`,
      verdict: `RESOLVED, ${notRun.length} instance(s) not reached`,
      figures: { fleet: `${fleet.key}=${fleet.value}`, commandId, pruned: succeeded.length, notRun: readings.notRun, notRunCount: notRun.length, bytesFreed, deleted, metric: result.readings.metric },
      lines: [
        `PRUNED: ${succeeded.length} instance(s), freed ${megabytes(bytesFreed)} (${deleted} file(s))${unread}`,
        ...notRun.slice(0, 10).map((j) => `NOT REACHED: ${instanceStatus(j)}: ${notRunMeaning(j.details)}`),
        ...(notRun.length > 10 ? [`NOT REACHED: and ${notRun.length - 10} more`] : []),
        `METRIC: ${result.reason}`,
        `TO DO: ${notRunAction(notRun)}`,
      ],
    };
    return { ...result, briefing, report };
  },
};

export const handler = runbookHandler(steps);
