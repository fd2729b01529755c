import { dynamo, s3 } from '../shared/clients';
import { verifyIncident, verifyRange, type ChainReport } from '../shared/ledger';
import { AnchorCheck, S3AnchorSource } from '../shared/ledger-anchors';
import { ledgerMacFromEnv } from '../shared/ledger-mac';

export interface VerifyRequest {
  readonly incidentId?: string;
  readonly from?: string;
  readonly to?: string;
}

/**
 * Walks the hash chain of one incident, or of every incident with entries in a time range, and
 * checks every entry's MAC with the ledger's HMAC key (VerifyMac only), and reports the first
 * broken link. Invoke it by hand:
 * `aws lambda invoke --function-name <LedgerVerifyFunction> --payload '{"incidentId":"..."}' out.json`
 */
export async function handler(request: VerifyRequest): Promise<ChainReport> {
  const table = process.env.MEDIC_LEDGER_TABLE;
  if (!table) throw new Error('environment variable MEDIC_LEDGER_TABLE is not set');
  const mac = ledgerMacFromEnv();
  // The chains are also compared with their anchors (MEDIC_LEDGER_ANCHORS_BUCKET) when the stack has them.
  const bucket = process.env.MEDIC_LEDGER_ANCHORS_BUCKET;
  const anchors = bucket ? new AnchorCheck(new S3AnchorSource(s3(), bucket)) : undefined;
  if (request?.incidentId) return verifyIncident(table, request.incidentId, mac, dynamo(), anchors);
  if (request?.from) {
    const from = new Date(request.from);
    const to = request.to ? new Date(request.to) : new Date();
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new Error('"from" and "to" must be ISO-8601 dates');
    return verifyRange(table, from, to, mac, dynamo(), anchors);
  }
  throw new Error('give {"incidentId": "..."} or {"from": "<ISO date>", "to": "<ISO date>"}');
}
