import { SendCommandCommand, type SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { ssm } from './clients';
import type { MutationGate } from './mutation-gate';
import type { ActOutput } from './runbook-steps';
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
 *   unknown, and medic never cancels its own command). The first two count against MaxErrors.
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
