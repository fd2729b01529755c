import { CancelCommandCommand, SendCommandCommand, type SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { ssm } from './clients';
import { describeError, GUARD_DENIALS } from './errors';
import { checkGuards, type GuardCheck, type MutationGate } from './mutation-gate';
import type { ActOutput, CheckResult } from './runbook-steps';
import type { WorkflowState } from './types';

/** What both disk-prune runbooks put in their options about the document. */
export interface PruneDocumentOptions {
  readonly documentName: string;
  readonly documentParameters: Record<string, string>;
  readonly deliveryTimeoutSeconds: number;
}

/**
 * Sends the medic-disk-prune document with the runbook's parameters to `where` (instance IDs,
 * or tag targets with their caps), tagged with the incident id for Run Command's history.
 */
export async function sendPruneCommand(
  state: WorkflowState, gate: MutationGate, options: PruneDocumentOptions, where: Pick<SendCommandCommandInput, 'InstanceIds' | 'Targets' | 'MaxConcurrency' | 'MaxErrors'>, description: string,
): Promise<ActOutput> {
  const parameters = {
    DocumentName: options.documentName,
    ...where,
    Parameters: Object.fromEntries(Object.entries(options.documentParameters).map(([k, v]) => [k, [v]])),
    TimeoutSeconds: options.deliveryTimeoutSeconds,
    Comment: `medic ${state.incident!.incidentId}`.slice(0, 100),
  };
  const out = await gate.call({ service: 'ssm', operation: 'SendCommand', target: description, parameters },
    () => ssm().send(new SendCommandCommand(parameters)), (answer) => ({ commandId: answer.Command?.CommandId }));
  const commandId = out.Command?.CommandId;
  if (!commandId) throw new Error('SendCommand returned no command id');
  return {
    summary: `sent ${options.documentName} to ${description} (command ${commandId})`,
    batch: 0,
    moreBatches: false,
    details: { commandId, requestedAt: new Date().toISOString() },
  };
}

/**
 * How one invocation of a Run Command command (one instance's copy) ended, for judging a prune
 * instance by instance. Read from `StatusDetails`, which is finer than `Status` (the SDK's
 * `CommandInvocation.StatusDetails` and `GetCommandInvocationResult.StatusDetails` doc comments;
 * "Understanding command statuses", Systems Manager User Guide, monitor-commands.html):
 *
 * - `running`: Pending, In Progress, Delayed ("the system will try to send the command again"),
 *   Cancelling: not an outcome yet.
 * - `succeeded`: Success (exit code 0).
 * - `failed`: the instance ran it, or may have, and it did not succeed: Failed (non-zero exit),
 *   Execution Timed Out, Cancelled ("terminated before it was completed": how far it got is
 *   unknown; medic cancels its own command only when a guard closes while it runs, and then its
 *   check ends there, see stopIfGuardCloses). The first two count against MaxErrors.
 * - `not-run`: the instance never received it, so nothing there changed: Delivery Timed Out,
 *   Undeliverable ("the managed node might not exist or might not be responding"), Terminated
 *   (MaxErrors was exceeded and Run Command cancelled the invocations not yet sent), Invalid
 *   Platform, Access Denied. None counts against MaxErrors.
 *
 * The docs spell details with spaces ("Delivery Timed Out") and the API without
 * (`DeliveryTimedOut`, as `Command.ExpiresAfter`'s doc writes it): both are read. Without a known
 * detail, `Status` decides, and any terminal status but Success counts as failed (fail closed).
 */
export type InvocationOutcome = 'running' | 'succeeded' | 'failed' | 'not-run';

const DETAIL_OUTCOMES: Record<string, InvocationOutcome> = {
  pending: 'running', inprogress: 'running', delayed: 'running', cancelling: 'running',
  success: 'succeeded',
  failed: 'failed', executiontimedout: 'failed', cancelled: 'failed', canceled: 'failed',
  deliverytimedout: 'not-run', undeliverable: 'not-run', terminated: 'not-run', invalidplatform: 'not-run', accessdenied: 'not-run',
};
const STATUS_OUTCOMES: Record<string, InvocationOutcome> = { Pending: 'running', InProgress: 'running', Delayed: 'running', Cancelling: 'running', Success: 'succeeded' };

/** The StatusDetails value without spaces: `Delivery Timed Out` and `DeliveryTimedOut` are one. */
export const detailKey = (statusDetails: string | undefined): string => (statusDetails ?? '').replace(/\s+/g, '');

export function invocationOutcome(status: string | undefined, statusDetails: string | undefined): InvocationOutcome {
  return DETAIL_OUTCOMES[detailKey(statusDetails).toLowerCase()] ?? STATUS_OUTCOMES[status ?? ''] ?? 'failed';
}

/** What a not-run detail means, in the words of the docs above, for pages and reports. */
const NOT_RUN_MEANING: Record<string, string> = {
  deliverytimedout: 'not delivered before the delivery timeout',
  undeliverable: 'undeliverable: the node may not exist or may not be responding',
  terminated: 'never sent: Run Command stopped after MaxErrors',
  invalidplatform: 'never sent: the node is not on the document\'s platform',
  accessdenied: 'never sent: medic\'s role may not send to this node',
};

export function notRunMeaning(statusDetails: string | undefined): string {
  return NOT_RUN_MEANING[detailKey(statusDetails).toLowerCase()] ?? 'never ran';
}

/** How far the runbook's command had got when a guard closed, as the check last read it. */
export interface CommandProgress {
  /** Instances whose invocation had ended (ListCommands' `CompletedCount`: any terminal status). */
  readonly completed?: number;
  /** Instances the command was sent to (ListCommands' `TargetCount`). */
  readonly targets?: number;
}

/**
 * Re-checks every guard while the runbook's own prune command is still running (Pending, In
 * Progress, Delayed): Run Command reaches a fleet's instances one after another over minutes,
 * long after the gate let SendCommand through, and a freeze, the kill switch or a lost lease must
 * stop that change too. Every guard passing: undefined, the check goes on as before. A guard
 * refusing (or one that cannot be read: checkGuards fails closed): CancelCommand for `commandId`
 * and a `failure` saying which guard closed, whether the cancel was made, and how far the command
 * had got. `guards` is for unit tests of a runbook's check, like the gate's.
 */
export async function stopIfGuardCloses(
  state: WorkflowState, commandId: string, progress: CommandProgress, readings: Record<string, unknown>, guards: GuardCheck = checkGuards,
): Promise<CheckResult | undefined> {
  let closed: string;
  try {
    await guards(state, 'act', []);
    return undefined;
  } catch (error) {
    // A guard that refuses names itself; any other error means a guard could not be evaluated, which stops medic as a refusal does.
    const message = error instanceof Error ? error.message : String(error);
    closed = GUARD_DENIALS.has((error as Error)?.name) ? message.replace(/^act not performed: /, '') : `a guard could not be evaluated (failing closed): ${describeError(error)}`;
  }
  // Cancelling is not a forward change: it stops one, so it is made with the kill switch on,
  // during a freeze and without the lease (the gate would refuse it for the very reason it is
  // needed). It names only the command this incident's own SendCommand returned.
  const at = new Date().toISOString();
  let cancel: string;
  let cancelled: Record<string, unknown>;
  try {
    const out = await ssm().send(new CancelCommandCommand({ CommandId: commandId }));
    const requestId = out.$metadata?.requestId;
    cancelled = { cancelled: { commandId, at, ...(requestId ? { requestId } : {}) } };
    cancel = `medic cancelled command ${commandId}${requestId ? ` (request id ${requestId})` : ''}`;
  } catch (error) {
    cancelled = { cancelError: { commandId, at, error: describeError(error) } };
    cancel = `medic could not cancel command ${commandId} (${describeError(error)}): it may still be running`;
  }
  const got = progress.completed === undefined ? 'how many instances it had finished on is unknown'
    : `it had finished on ${progress.completed} of ${progress.targets ?? '?'} instance(s)`;
  // CancelCommand "attempts to cancel ... There is no guarantee that the command will be terminated and the underlying process stopped" (SDK doc).
  const stopped = 'Run Command cancels the invocations not finished yet: an instance it had not reached is not pruned, one being pruned may be partly pruned';
  return {
    verdict: 'failure',
    reason: `${closed} while the prune command was running: ${cancel}; ${got}`,
    readings: { ...readings, guardClosed: closed, ...cancelled },
    briefing: {
      facts: [`guard: ${closed}`, `command: ${commandId}`, cancelled.cancelled ? `cancelled at ${at}: ${stopped}` : `not cancelled: ${(cancelled.cancelError as { error: string }).error}`, `progress: ${got}`],
      action: cancelled.cancelled
        ? `The prune was stopped; ${got}. Re-run it once changes are allowed again (after the freeze, with the kill switch off) if the disk still fills.`
        : `Cancel command ${commandId} yourself (aws ssm cancel-command --command-id ${commandId}) if the freeze or the kill switch must stop it; check in Run Command which instances it pruned.`,
    },
  };
}
