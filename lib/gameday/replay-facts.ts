import { entryDetail, type EntryDetail, type LedgerEntry } from '../../lambdas/shared/ledger';

/**
 * What one incident's ledger entries recorded, read once into plain values for the replay
 * (lib/gameday/replay.ts): the trigger and target of its `received` entry, its plan, its
 * verification readings and every mutating call it made. Ledger details are free-form JSON
 * written by the handlers: every field is read with a type check, never trusted to be there.
 */
export interface IncidentFacts {
  readonly incidentId: string;
  readonly runbook: string;
  readonly entries: readonly LedgerEntry[];
  /** The `received` entry's detail. */
  readonly received: EntryDetail;
  readonly receivedAt: number;
  readonly target: { readonly type?: string; readonly id?: string; readonly arn?: string; readonly dimensions: Record<string, string> };
  readonly trigger: EntryDetail;
  /** The (last) `planned` entry's detail, if the incident got that far. */
  readonly plan?: EntryDetail;
  /** Each `checked` entry: when, which batch, its readings and verdict. */
  readonly checks: readonly Check[];
  /** Every mutating call recorded (acted, act-failed, rolled-back, rollback-failed), in order. */
  readonly calls: readonly RecordedCall[];
}

export interface Check {
  readonly at: number;
  readonly batch: number;
  readonly readings: EntryDetail;
  readonly verdict?: string;
}

export interface RecordedCall {
  readonly at: number;
  readonly service: string;
  readonly operation: string;
  readonly outcome: string;
  /** The AWS error's name (the text before the first colon of the recorded error), for failed calls. */
  readonly error?: string;
  readonly phase: string;
  readonly details: EntryDetail;
}

export const isRecord = (v: unknown): v is EntryDetail => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const time = (iso: unknown): number => (typeof iso === 'string' ? Date.parse(iso) : NaN);

/** Reads an incident's entries (in sequence order); throws when there is no `received` entry to replay from. */
export function incidentFacts(entries: readonly LedgerEntry[]): IncidentFacts {
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  const first = sorted[0];
  if (!first) throw new ReplayError('the incident has no ledger entries');
  const receivedEntry = sorted.find((e) => e.phase === 'received');
  if (!receivedEntry) {
    throw new ReplayError(`incident ${first.incidentId} has no received entry (its trail starts with ${first.phase}): only an incident medic received can be replayed`);
  }
  const received = entryDetail(receivedEntry);
  const target = isRecord(received.target) ? received.target : {};
  const dimensions = Object.fromEntries(Object.entries(isRecord(target.dimensions) ? target.dimensions : {})
    .filter((pair): pair is [string, string] => typeof pair[1] === 'string'));
  const planned = sorted.filter((e) => e.phase === 'planned');
  const checks = sorted.filter((e) => e.phase === 'checked').map((e): Check => {
    const d = entryDetail(e);
    return { at: time(e.at), batch: num(d.batch) ?? 0, readings: isRecord(d.readings) ? d.readings : {}, verdict: str(d.verdict) };
  });
  return {
    incidentId: first.incidentId,
    runbook: first.runbook,
    entries: sorted,
    received,
    receivedAt: time(receivedEntry.at),
    target: { type: str(target.type), id: str(target.id), arn: str(target.arn), dimensions },
    trigger: isRecord(received.trigger) ? received.trigger : {},
    plan: planned.length > 0 ? entryDetail(planned[planned.length - 1]) : undefined,
    checks,
    calls: sorted.flatMap(callsOf),
  };
}

function callsOf(entry: LedgerEntry): RecordedCall[] {
  if (!['acted', 'act-failed', 'rolled-back', 'rollback-failed'].includes(entry.phase)) return [];
  const d = entryDetail(entry);
  // `acted` nests its calls in the act's result; the others record them at the top.
  const list = entry.phase === 'acted' && isRecord(d.result) ? d.result.calls : d.calls;
  if (!Array.isArray(list)) return [];
  return list.filter(isRecord).flatMap((c): RecordedCall[] => {
    const service = str(c.service);
    const operation = str(c.operation);
    if (!service || !operation) return [];
    const error = str(c.error)?.split(':')[0].trim();
    return [{
      at: Number.isNaN(time(c.at)) ? time(entry.at) : time(c.at), service, operation, outcome: str(c.outcome) ?? 'succeeded', phase: entry.phase,
      ...(error ? { error } : {}), details: entry.phase === 'acted' && isRecord(d.result) && isRecord(d.result.details) ? d.result.details : {},
    }];
  });
}

/** The successful calls (those the game day counts), in order. */
export const succeeded = (facts: IncidentFacts): RecordedCall[] => facts.calls.filter((c) => c.outcome === 'succeeded');

/**
 * A simulated duration, in seconds from `from`, that puts a change after the last reading that
 * did not see it (`lastWithout`) and no later than the first that did (`firstWith`): the replay's
 * checks then read what the recorded ones read. The middle of that span, so a reading at either
 * end never ties with the change.
 */
export function between(from: number, lastWithout: number, firstWith: number): number {
  const lo = Math.max(0, (lastWithout - from) / 1000);
  const hi = Math.max(0, (firstWith - from) / 1000);
  const mid = Math.floor((lo + hi) / 2);
  return mid > lo ? mid : Math.ceil(hi);
}

/** A simulated duration as the scenario format writes it. */
export const seconds = (s: number): string => `${Math.max(0, Math.round(s))}s`;

/** A ledger trail that cannot become a scenario (no received entry, a runbook the configuration does not have): one line. */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}
