import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { AnchorCheck } from '../../lambdas/shared/ledger-anchors';
import { MAX_RANGE_DAYS, readIncident, verifyIncident, verifyRange, type ChainReport, type LedgerEntry } from '../../lambdas/shared/ledger';
import type { LedgerSource } from './ledger-source';
import { daysOf, type TimeRange } from './time-range';

/**
 * Reads a ledger table through the source's own client (never the handlers', so `--local` and
 * `--region` redirect nothing else): the incident reads and chain checks of
 * lambdas/shared/ledger.ts, plus the byDay and byTarget queries the listing needs.
 */
export class LedgerReader {
  /** The anchor checks of this reader's verifications (undefined: the source names no anchors). */
  readonly anchors: AnchorCheck | undefined;

  constructor(private readonly source: LedgerSource) {
    const anchors = source.anchors();
    this.anchors = anchors ? new AnchorCheck(anchors) : undefined;
  }

  /** Every entry of one incident, in sequence order. */
  incident(incidentId: string): Promise<LedgerEntry[]> {
    return readIncident(this.source.table, incidentId, this.source.client);
  }

  /** Several incidents' entries, a few queries at a time (in the order of `incidentIds`). */
  async incidents(incidentIds: string[], concurrency = 8): Promise<LedgerEntry[][]> {
    const results: LedgerEntry[][] = new Array(incidentIds.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < incidentIds.length; i = next++) results[i] = await this.incident(incidentIds[i]);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, incidentIds.length) }, worker));
    return results;
  }

  /** Entries written in the range, through the byDay index (one query per day). */
  async entriesBetween(range: TimeRange): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    for (const day of daysOf(range, MAX_RANGE_DAYS)) {
      entries.push(...await this.query({
        IndexName: 'byDay',
        KeyConditionExpression: '#day = :day AND #at BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#day': 'day', '#at': 'at' },
        ExpressionAttributeValues: { ':day': day, ':from': range.from.toISOString(), ':to': range.to.toISOString() },
      }));
    }
    return entries;
  }

  /** Entries about one target written in the range, through the byTarget index. */
  entriesOfTarget(targetArn: string, range: TimeRange): Promise<LedgerEntry[]> {
    return this.query({
      IndexName: 'byTarget',
      KeyConditionExpression: 'targetArn = :target AND #at BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#at': 'at' },
      ExpressionAttributeValues: { ':target': targetArn, ':from': range.from.toISOString(), ':to': range.to.toISOString() },
    });
  }

  /** The hash chain and MACs of one incident, and its anchors: an incident without entries is broken. */
  verifyIncident(incidentId: string): Promise<ChainReport> {
    return verifyIncident(this.source.table, incidentId, this.source.mac(), this.source.client, this.anchors);
  }

  /**
   * Every incident with an entry in the range, each over its whole chain and against its anchors,
   * and every incident anchored on a day of the range; stopping at the first broken one.
   */
  verifyRange(range: TimeRange): Promise<ChainReport> {
    return verifyRange(this.source.table, range.from, range.to, this.source.mac(), this.source.client, this.anchors);
  }

  private async query(input: Omit<QueryCommandInput, 'TableName'>): Promise<LedgerEntry[]> {
    const items: LedgerEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.source.client.send(new QueryCommand({ ...input, TableName: this.source.table, ExclusiveStartKey: startKey }));
      items.push(...((out.Items ?? []) as LedgerEntry[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

/** Entries grouped by incident, each group in sequence order (shared with the daily export). */
export { groupByIncident } from '../../lambdas/shared/ledger-export';
