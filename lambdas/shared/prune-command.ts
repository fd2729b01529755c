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
