import { dynamo, s3 } from '../shared/clients';
import { describeError } from '../shared/errors';
import { writeEntry, type LedgerEntry } from '../shared/ledger';
import { anchorIfEnding, writeDigest, type DigestResult } from '../shared/ledger-anchors';
import { entriesOfDay } from '../shared/ledger-export';
import { ledgerMacFromEnv } from '../shared/ledger-mac';
import type { LedgerWriterRequest } from '../shared/ledger-writer-client';
import { exportDay } from '../ledger-export/index';
import { logger } from '../shared/observability';

/** The daily digest's request (the schedule sends `{"digest": {}}`): one past UTC day, default yesterday. */
export interface DigestRequest {
  readonly digest: { readonly day?: string };
}

/**
 * The ledger writer: the only function whose role may put ledger items, and the only one that
 * may use the ledger's MAC key. Every other handler appends through it (ledger-writer-client.ts).
 * It writes to its own table (MEDIC_LEDGER_TABLE) whatever the caller says.
 */
export async function handler(request: LedgerWriterRequest): Promise<LedgerEntry>;
export async function handler(request: DigestRequest): Promise<DigestResult>;
export async function handler(request: LedgerWriterRequest | DigestRequest): Promise<LedgerEntry | DigestResult> {
  const table = process.env.MEDIC_LEDGER_TABLE;
  if (!table) throw new Error('environment variable MEDIC_LEDGER_TABLE is not set');
  const anchors = process.env.MEDIC_LEDGER_ANCHORS_BUCKET;
  if (request && 'digest' in request) {
    if (!anchors) throw new Error('environment variable MEDIC_LEDGER_ANCHORS_BUCKET is not set');
    const day = exportDay(request.digest ?? {});
    return writeDigest(s3(), anchors, dynamo(), table, day, await entriesOfDay(dynamo(), table, day));
  }
  const append = request?.append;
  if (!append || typeof append.incidentId !== 'string' || typeof append.phase !== 'string') {
    throw Object.assign(new Error('the ledger writer takes {"append": {"incidentId", "phase", "runbook", "actor", "detail", ...}}'), { name: 'Medic.InvalidAppend' });
  }
  const now = append.now ? new Date(append.now) : undefined;
  if (now && Number.isNaN(now.getTime())) throw Object.assign(new Error('"now" must be an ISO-8601 time'), { name: 'Medic.InvalidAppend' });
  const entry = await writeEntry(table, { ...append, table, now }, ledgerMacFromEnv());
  if (anchors) {
    // The entry is written: a failed anchor must not fail the append (the caller would retry it
    // and write it twice). The daily digest anchors every ending entry still lacking its anchor.
    try {
      await anchorIfEnding(s3(), anchors, dynamo(), table, entry);
    } catch (error) {
      logger.error('ledger anchor not written; the daily digest will re-anchor it', { incidentId: entry.incidentId, seq: entry.seq, error: describeError(error) });
    }
  }
  return entry;
}
