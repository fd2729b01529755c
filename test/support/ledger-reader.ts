import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { LedgerEntry } from '../../lambdas/shared/ledger';

/** Every ledger entry in a table, grouped by incident, each incident in sequence order. */
export async function readLedger(client: DynamoDBClient, table: string): Promise<Map<string, LedgerEntry[]>> {
  const out = await client.send(new ScanCommand({ TableName: table }));
  const byIncident = new Map<string, LedgerEntry[]>();
  for (const item of (out.Items ?? []).map((i) => unmarshall(i) as LedgerEntry)) {
    byIncident.set(item.incidentId, [...(byIncident.get(item.incidentId) ?? []), item]);
  }
  for (const entries of byIncident.values()) entries.sort((a, b) => a.seq - b.seq);
  return byIncident;
}

export const phases = (entries: LedgerEntry[] | undefined): string[] => (entries ?? []).map((e) => e.phase);
