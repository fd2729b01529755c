import { SendCommandCommand, type SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { ssm } from './clients';
import type { ActResult, WorkflowState } from './types';

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
  state: WorkflowState, options: PruneDocumentOptions, where: Pick<SendCommandCommandInput, 'InstanceIds' | 'Targets' | 'MaxConcurrency' | 'MaxErrors'>, description: string,
): Promise<ActResult> {
  const parameters = {
    DocumentName: options.documentName,
    ...where,
    Parameters: Object.fromEntries(Object.entries(options.documentParameters).map(([k, v]) => [k, [v]])),
    TimeoutSeconds: options.deliveryTimeoutSeconds,
    Comment: `medic ${state.incident!.incidentId}`.slice(0, 100),
  };
  const out = await ssm().send(new SendCommandCommand(parameters));
  const commandId = out.Command?.CommandId;
  if (!commandId) throw new Error('SendCommand returned no command id');
  return {
    summary: `sent ${options.documentName} to ${description} (command ${commandId})`,
    calls: [{ service: 'ssm', operation: 'SendCommand', parameters, result: { commandId } }],
    batch: 0,
    moreBatches: false,
    details: { commandId, requestedAt: new Date().toISOString() },
  };
}
