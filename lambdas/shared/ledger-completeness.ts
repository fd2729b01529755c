import { ENDING_PHASES, type LedgerEntry } from './ledger';

/**
 * Complete trails: every incident's ledger ends with an entry whose phase can end an execution
 * (ENDING_PHASES). One whose newest entry is of another phase, long after its execution must
 * have ended, lost its tail (DynamoDB was down, or the execution stopped outside any Catch):
 * `medic ledger verify` reports it, and the reconciler closes it from the execution history.
 */

/** After the deadline, this long for the backstop and the last steps before a trail counts as incomplete. */
export const COMPLETION_GRACE_MS = 10 * 60_000;
/** For entries written before `received` recorded a deadline: this long after the newest entry. */
export const LEGACY_DEADLINE_MS = 24 * 3_600_000;

/** When an execution that started at `startedAt` has ended at the latest (Step Functions stops it then). */
export function executionDeadline(startedAt: string | undefined, timeoutSeconds: number | undefined): string | undefined {
  const start = startedAt ? Date.parse(startedAt) : NaN;
  if (Number.isNaN(start) || !timeoutSeconds || timeoutSeconds <= 0) return undefined;
  return new Date(start + timeoutSeconds * 1000).toISOString();
}

const detailOf = (entry: LedgerEntry): Record<string, unknown> => {
  try {
    const detail: unknown = JSON.parse(entry.detail);
    return typeof detail === 'object' && detail !== null ? detail as Record<string, unknown> : {};
  } catch {
    return {};
  }
};

export interface Completeness {
  /** The newest entry's phase can end an execution. */
  readonly complete: boolean;
  /** Not complete, and past the deadline and the grace: the tail was lost. */
  readonly incomplete: boolean;
  /** When the execution had ended at the latest: the `received` entry's deadline, else the newest entry's time plus 24 h. */
  readonly deadline?: string;
  /** Where the deadline comes from. */
  readonly deadlineFrom?: 'received' | 'newest-entry';
  readonly lastPhase?: string;
}

/**
 * Whether an incident's entries (in sequence order) are complete, still possibly running, or
 * incomplete at `now`. An incident without entries is neither (there is nothing to judge).
 */
export function completenessOf(entries: LedgerEntry[], now: Date = new Date()): Completeness {
  const last = entries[entries.length - 1];
  if (!last) return { complete: false, incomplete: false };
  if (ENDING_PHASES.has(last.phase)) return { complete: true, incomplete: false, lastPhase: last.phase };
  const received = entries.find((e) => e.phase === 'received');
  const recorded = received ? detailOf(received).deadline : undefined;
  const recordedMs = typeof recorded === 'string' ? Date.parse(recorded) : NaN;
  const deadlineMs = Number.isNaN(recordedMs) ? Date.parse(last.at) + LEGACY_DEADLINE_MS : recordedMs;
  const deadline = Number.isNaN(deadlineMs) ? undefined : new Date(deadlineMs).toISOString();
  return {
    complete: false,
    incomplete: deadline !== undefined && now.getTime() > deadlineMs + COMPLETION_GRACE_MS,
    deadline,
    deadlineFrom: Number.isNaN(recordedMs) ? 'newest-entry' : 'received',
    lastPhase: last.phase,
  };
}

/** Shorthand: the incident's trail lost its tail (see {@link completenessOf}). */
export function isIncomplete(entries: LedgerEntry[], now: Date = new Date()): boolean {
  return completenessOf(entries, now).incomplete;
}

/** The execution that owns the incident, as its entries name it (the newest that names one). */
export function executionOf(entries: LedgerEntry[]): string | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i].execution) return entries[i].execution;
  return undefined;
}
