import { writeEntry, type LedgerEntry } from '../shared/ledger';
import { ledgerMacFromEnv } from '../shared/ledger-mac';
import type { LedgerWriterRequest } from '../shared/ledger-writer-client';

/**
 * The ledger writer: the only function whose role may put ledger items, and the only one that
 * may use the ledger's MAC key. Every other handler appends through it (ledger-writer-client.ts).
 * It writes to its own table (MEDIC_LEDGER_TABLE) whatever the caller says.
 */
export async function handler(request: LedgerWriterRequest): Promise<LedgerEntry> {
  const table = process.env.MEDIC_LEDGER_TABLE;
  if (!table) throw new Error('environment variable MEDIC_LEDGER_TABLE is not set');
  const append = request?.append;
  if (!append || typeof append.incidentId !== 'string' || typeof append.phase !== 'string') {
    throw Object.assign(new Error('the ledger writer takes {"append": {"incidentId", "phase", "runbook", "actor", "detail", ...}}'), { name: 'Medic.InvalidAppend' });
  }
  const now = append.now ? new Date(append.now) : undefined;
  if (now && Number.isNaN(now.getTime())) throw Object.assign(new Error('"now" must be an ISO-8601 time'), { name: 'Medic.InvalidAppend' });
  return writeEntry(table, { ...append, table, now }, ledgerMacFromEnv());
}
