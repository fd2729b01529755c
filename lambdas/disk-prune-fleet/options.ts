/**
 * The fleet disk-prune runbook's options: written into the runbook spec by the construct
 * (lib/runbooks/disk-prune-fleet.ts) and read by the step handler, with their defaults set here once.
 */
import type { PruneDocumentOptions } from '../shared/prune-command';

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

/**
 * The default of each option that has one. The document's parameters default to the document's
 * own. The construct always writes every option.
 */
export const DISK_PRUNE_FLEET_DEFAULTS = {
  /** Run Command `MaxConcurrency`: instances pruned at once. */
  maxConcurrency: '10%',
  /** Run Command `MaxErrors`: failed instances after which no more are started. */
  maxErrors: '1',
  /** How long Run Command may wait to deliver the command to an instance. */
  deliveryTimeoutSeconds: 300,
} as const satisfies Partial<DiskPruneFleetOptions>;
