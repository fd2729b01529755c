import type { Outcome } from '../../lambdas/finish/index';
import { inert, inertJson } from '../../lambdas/shared/inert-text';
import type { LedgerEntry, Phase } from '../../lambdas/shared/ledger';
import { isIncomplete } from '../../lambdas/shared/ledger-completeness';

/** How an incident ended, derived from its entries by {@link outcomeOf}; `--outcome` takes these. */
export type LedgerOutcome = Outcome | 'escalated' | 'rejected' | 'denied' | 'duplicate' | 'suppressed' | 'reconciled';
/**
 * What list shows when no outcome applies yet: `open` (running, or not yet past its deadline),
 * `incomplete` (no ending entry, past its execution's deadline: `medic ledger reconcile` closes it),
 * `swept` (a sweep's own record).
 */
export type ShownOutcome = LedgerOutcome | 'open' | 'incomplete' | 'swept';

// Records keyed by the union, so the compiler fails when a phase or an outcome is added without being listed here.
const PHASE_SET: Record<Phase, true> = {
  'received': true, 'rejected': true, 'duplicate': true, 'admitted': true, 'denied': true, 'planned': true, 'deferred': true,
  'approval-requested': true, 'approved': true, 'approval-rejected': true, 'approval-expired': true,
  'acting': true, 'acted': true, 'act-failed': true, 'checked': true, 'verified': true, 'verification-failed': true,
  'rolled-back': true, 'rollback-failed': true, 'escalated': true, 'completed': true, 'swept': true, 'digested': true, 'digest-sent': true, 'suppressed': true,
  'reconciled': true,
};
const OUTCOME_SET: Record<LedgerOutcome, true> = {
  'resolved': true, 'observed': true, 'deferred': true, 'no-action-needed': true,
  'escalated': true, 'rejected': true, 'denied': true, 'duplicate': true, 'suppressed': true, 'reconciled': true,
};
const FINISH_OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['resolved', 'observed', 'deferred', 'no-action-needed']);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value : undefined);

/** Every ledger phase, for `--phase` choices. */
export const PHASES = Object.keys(PHASE_SET) as Phase[];
/** Every derivable outcome, for `--outcome` choices. */
export const OUTCOMES = Object.keys(OUTCOME_SET) as LedgerOutcome[];

/** One row of `medic ledger list`. */
export interface IncidentSummary {
  readonly incidentId: string;
  readonly runbook: string;
  readonly targetArn?: string;
  readonly mode?: string;
  readonly first: string;
  readonly last: string;
  readonly lastPhase: Phase;
  readonly outcome: ShownOutcome;
  readonly entries: number;
}

/** Summarizes one incident's entries (in sequence order, at least one), as of `now`. */
export function summarizeIncident(entries: LedgerEntry[], now: Date = new Date()): IncidentSummary {
  const first = entries[0];
  const last = entries[entries.length - 1];
  return {
    incidentId: first.incidentId,
    runbook: first.runbook,
    targetArn: entries.find((e) => e.targetArn)?.targetArn,
    mode: first.mode,
    first: first.at,
    last: last.at,
    lastPhase: last.phase,
    outcome: outcomeOf(entries, now),
    entries: entries.length,
  };
}

/**
 * How an incident ended, from its entries; the first rule that applies wins:
 * 1. a `rejected`, `duplicate` or `denied` entry: that refusal (the `escalated` entry that
 *    follows a refusal is how it reached a human, not another outcome);
 * 2. a `completed` entry: the outcome it records (`resolved`, `observed`, `no-action-needed`);
 * 3. a `deferred` entry: `deferred`;
 * 4. a `reconciled` entry: `reconciled` (the trail lost its tail; the reconciler closed it from the
 *    execution history, whose final status the entry records);
 * 5. an `escalated` entry: `escalated` (failed after admission: act failed, verification failed, ...);
 * 6. otherwise `swept` for a sweep's own record, `incomplete` for an incident with no ending entry
 *    past its execution's deadline (lambdas/shared/ledger-completeness.ts), `open` for one still running.
 */
export function outcomeOf(entries: LedgerEntry[], now: Date = new Date()): ShownOutcome {
  const has = (phase: Phase) => entries.some((e) => e.phase === phase);
  for (const refusal of ['rejected', 'duplicate', 'suppressed', 'denied'] as const) if (has(refusal)) return refusal;
  const completed = entries.filter((e) => e.phase === 'completed').pop();
  const recorded = completed && recordedOutcome(completed.detail);
  if (recorded) return recorded;
  if (has('deferred')) return 'deferred';
  if (has('reconciled')) return 'reconciled';
  if (has('escalated')) return 'escalated';
  if (entries.every((e) => e.phase === 'swept')) return 'swept';
  return isIncomplete(entries, now) ? 'incomplete' : 'open';
}

function recordedOutcome(detailText: string): Outcome | undefined {
  let detail: unknown;
  try {
    detail = JSON.parse(detailText);
  } catch {
    return undefined;
  }
  if (!isRecord(detail)) return undefined;
  // A detail over 64 KB is stored as a truncated preview; its keys are sorted, so `outcome` leads it.
  const outcome = detail.truncated === true ? /^\{"outcome":"([a-z-]+)"/.exec(String(detail.preview))?.[1] : detail.outcome;
  return typeof outcome === 'string' && FINISH_OUTCOMES.has(outcome) ? (outcome as Outcome) : undefined;
}

/** A Step Functions error (`{ Error, Cause }`, Cause often a Lambda's JSON error) or a described one, in words. */
function errorText(error: unknown): string | undefined {
  if (!isRecord(error)) return text(error);
  let cause = text(error.Cause);
  try {
    const parsed: unknown = cause ? JSON.parse(cause) : undefined;
    if (isRecord(parsed)) cause = text(parsed.errorMessage) ?? cause;
  } catch {
    // Cause is plain text.
  }
  return [text(error.Error), cause].filter(Boolean).join(': ') || undefined;
}

function triggerText(trigger: unknown): string | undefined {
  if (!isRecord(trigger)) return undefined;
  const what = [text(trigger.kind), text(trigger.name)].filter(Boolean).join(' ');
  return [what, text(trigger.reason)].filter(Boolean).join(': ') || undefined;
}

/**
 * One line, at most `max` characters, saying what an entry's detail holds: its outcome or verdict
 * and its reason, summary or error. The line is inert (lambdas/shared/inert-text.ts): a detail
 * holds untrusted text (alarm names, state reasons, error messages), and its control, escape and
 * bidi characters are shown as visible escapes, so it cannot drive the terminal or forge a line.
 */
export function summarizeDetail(detailText: string, max = 140): string {
  let detail: unknown;
  try {
    detail = JSON.parse(detailText);
  } catch {
    return clip(detailText, max);
  }
  if (!isRecord(detail)) return inertJson(detail, max);
  if (detail.truncated === true) return clip(`(truncated, ${String(detail.originalBytes)} bytes) ${String(detail.preview)}`, max);
  const label = text(detail.outcome) ?? text(detail.decision) ?? text(detail.verdict);
  const headline = text(detail.headline) && [text(detail.headline), text(detail.diagnosis)].filter(Boolean).join(': ');
  const said = headline
    || text(detail.summary) || text(detail.reason) || errorText(detail.error) || text(detail.skipped)
    || (isRecord(detail.result) ? text(detail.result.summary) : undefined) || text(detail.plan)
    || (text(detail.owner) && `already handled by ${String(detail.owner)}`) || triggerText(detail.trigger);
  const line = label && said ? `${label}: ${said}` : label ?? said;
  // Shown as JSON (escaped once, as JSON) when nothing in it reads as a summary.
  return line === undefined ? inertJson(detail, max) : clip(line, max);
}

/** Untrusted text as one inert line of at most `max` characters (a newline shows as `\n`, it does not break the line). */
const clip = (line: string, max: number): string => inert(line.trim(), max);
