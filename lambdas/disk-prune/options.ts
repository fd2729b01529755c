/**
 * The disk-prune runbook's options: written into the runbook spec by the construct
 * (lib/runbooks/disk-prune.ts) and read by the step handler, with their defaults set here once.
 */
import type { PruneDocumentOptions } from '../shared/prune-command';

/** Settings the construct puts in the runbook's options. */
export interface DiskPruneOptions extends PruneDocumentOptions {
  /** Instances allowed by ID. */
  readonly instances: string[];
  /** Instances carrying this tag are allowed too. */
  readonly optInTag?: { readonly key: string; readonly value: string };
}

/**
 * The default of each option that has one. The document's parameters default to the document's
 * own; instances and the tag have none. The construct always writes every option.
 */
export const DISK_PRUNE_DEFAULTS = {
  /** How long Run Command may wait to deliver the command to the instance. */
  deliveryTimeoutSeconds: 300,
} as const satisfies Partial<DiskPruneOptions>;
