import { inert } from '../../lambdas/shared/inert-text';
import { entryDetail, type LedgerEntry } from '../../lambdas/shared/ledger';
import { formatDuration } from './duration';
import type { ScenarioRun } from './engine';
import type { Outcome } from './scenario';
import type { MutatingCall } from './world';

/** One incident as the game day reports it. */
export interface IncidentReport {
  readonly incidentId: string;
  readonly runbook: string;
  readonly target?: string;
  readonly outcome: Outcome;
  /** Simulated seconds from detection to resolution, for resolved incidents. */
  readonly secondsToResolve?: number;
  /** For humans: one line per step, already inert (every value from the ledger through lambdas/shared/inert-text.ts): print as is. */
  readonly timeline: string[];
  readonly entries: LedgerEntry[];
}

export interface ScenarioReport {
  readonly name: string;
  readonly file?: string;
  readonly passed: boolean;
  /** Each expectation that was not met, in words. */
  readonly failures: string[];
  readonly incidents: IncidentReport[];
  readonly calls: MutatingCall[];
  /** What reached the escalation topic (escalations and runbook reports), in order. */
  readonly notifications: Array<{ readonly at: string; readonly subject?: string }>;
  readonly summary: { readonly incidents: number; readonly acted: number; readonly denied: number; readonly escalated: number; readonly mttrSeconds?: number };
}

const detailOf = entryDetail;
const clockTime = (iso: string): string => inert(String(iso).slice(11, 19));
/**
 * A ledger value as one inert line of at most `max` characters. Ledger details carry untrusted text
 * (alarm names, dimensions, reasons, error messages): control, escape and bidi characters are shown
 * as visible escapes, so none of it can drive the terminal or forge a timeline line.
 */
const oneLine = (text: unknown, max = 160): string => inert(String(text ?? '').trim(), max);
/** A short ledger value (a name, a verdict) made inert, uncut. */
const shown = (text: unknown): string => inert(text);

/** The outcome an incident's ledger entries show (the furthest the workflow got). */
export function outcomeOf(entries: LedgerEntry[]): Outcome {
  const phases = new Set(entries.map((e) => e.phase));
  if (phases.has('duplicate')) return 'duplicate';
  if (phases.has('rejected')) return 'rejected';
  if (phases.has('suppressed')) return 'suppressed';
  if (phases.has('denied')) return 'denied';
  // Closed by the reconciler from the execution history: its trail had lost its tail.
  if (phases.has('reconciled')) return 'reconciled';
  if (phases.has('escalated')) return 'escalated';
  if (phases.has('deferred')) return 'deferred';
  const completed = entries.find((e) => e.phase === 'completed');
  if (completed) return (detailOf(completed).outcome as Outcome | undefined) ?? 'incomplete';
  return 'incomplete';
}

function callText(call: { service?: string; operation?: string; parameters?: Record<string, unknown> }): string {
  // Targets and the like matter more than long parameter maps: scalars first, then the shortest objects.
  const text = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v));
  const params = Object.entries(call.parameters ?? {}).filter(([k]) => k !== 'Comment').sort(([, a], [, b]) => (typeof a === 'object' ? 1 : 0) - (typeof b === 'object' ? 1 : 0) || (typeof a === 'object' ? text(a).length - text(b).length : 0))
    .map(([k, v]) => `${k}=${text(v)}`).join(' ');
  // Parameters hold targets named by events (a service, a group, an instance): made inert with the rest.
  return `${shown(call.service)}:${shown(call.operation)}${params ? ` ${oneLine(params, 160)}` : ''}`;
}

/**
 * One line per ledger entry worth a human's attention: `03:17:22 DETECT api-5xx ALARM (ecs-service prod/api)`.
 * Every value taken from the entry goes through oneLine() or shown(): the lines are inert.
 */
function timelineLine(entry: LedgerEntry, detected: number | undefined): string[] {
  const d = detailOf(entry);
  const at = clockTime(entry.at);
  switch (entry.phase) {
    case 'received': {
      const trigger = d.trigger ?? {};
      const what = trigger.kind === 'alarm' ? `${shown(trigger.name)} ALARM` : shown(trigger.name ?? trigger.kind);
      return [`${at} DETECT ${what} (${shown(d.target?.type)} ${shown(d.target?.id)})`];
    }
    case 'rejected': return [`${at} REJECT ${oneLine(d.reason)}`];
    case 'duplicate': return [`${at} DUPLICATE delivery of ${shown(d.incidentId)} (already handled)`];
    case 'suppressed': return [`${at} SUPPRESSED ${oneLine(d.reason)}`];
    case 'admitted': return [`${at} ADMIT all guards passed`];
    case 'denied': return [`${at} DENY ${oneLine(d.reason)}`];
    case 'planned': return [`${at} PLAN ${shown(d.decision)}: ${oneLine(d.wouldAct ? `would ${d.wouldAct}` : d.decision === 'act' ? d.summary : d.reason)}`];
    case 'acted': return ((d.result?.calls ?? []) as Array<Record<string, any>>).map((call) => `${at} ACT ${callText(call)}`);
    case 'act-failed': return [
      ...((d.calls ?? []) as Array<Record<string, any>>).map((call) => `${at} ACT ${shown(call.outcome)} ${callText(call)}`),
      `${at} ACT FAILED ${oneLine(d.error)}`,
    ];
    case 'checked': return [`${at} VERIFY ${shown(d.verdict)}: ${oneLine(d.reason)}`];
    case 'verification-failed': return [`${at} VERIFY FAILED ${oneLine(d.reason)}`];
    case 'rolled-back': return [`${at} ROLLBACK ${oneLine(d.summary)}`, ...((d.notes ?? []) as unknown[]).map((n) => `${at} NOTE ${oneLine(n)}`)];
    case 'rollback-failed': return [`${at} ROLLBACK FAILED ${oneLine(d.error)}${d.retryable ? ' (retrying)' : ''}`];
    case 'digested': return [`${at} DIGEST joined the storm digest of ${shown(d.digestOwner)} (no page of its own)`];
    case 'digest-sent': return [`${at} DIGEST SENT ${shown(d.denials)} denial(s) in one page`];
    case 'escalated': return [`${at} ESCALATE ${shown(d.headline)}: ${oneLine(d.diagnosis)}`];
    case 'deferred': return [`${at} DEFER ${oneLine(d.summary)}`];
    case 'reconciled': return [
      `${at} RECONCILED execution ${shown(d.executionStatus)}; leases released: ${shown((d.leasesReleased ?? []).length)}`,
      ...((d.missedInLedger ?? []) as Array<Record<string, any>>).map((call) => `${at} MISSED BY THE LEDGER ${shown(call.operation)} ${oneLine(call.target, 80)}: ${shown(call.outcome)}${d.paged ? ' (paged)' : ''}`),
    ];
    case 'completed': {
      if (d.outcome === 'resolved' && detected !== undefined) return [`${at} RESOLVED in ${formatDuration((Date.parse(entry.at) - detected) / 1000)} (simulated)`];
      return [`${at} DONE ${shown(d.outcome)}: ${oneLine(d.summary)}`];
    }
    default: return [];
  }
}

/** A `verification-failed` entry that only restates the failing reading just before it. */
function isRestatedFailure(entry: LedgerEntry, previous: LedgerEntry | undefined): boolean {
  if (entry.phase !== 'verification-failed' || previous?.phase !== 'checked') return false;
  const reading = detailOf(previous);
  return reading.verdict === 'failure' && reading.reason === detailOf(entry).reason;
}

/** Consecutive lines that differ only in their time become one: `... (x19, until 03:27:00)`. */
function collapseRepeats(lines: string[]): string[] {
  const out: Array<{ line: string; n: number; last: string }> = [];
  for (const line of lines) {
    const previous = out[out.length - 1];
    if (previous && previous.line.slice(9) === line.slice(9)) {
      previous.n++;
      previous.last = line.slice(0, 8);
    } else {
      out.push({ line, n: 1, last: '' });
    }
  }
  return out.map((o) => (o.n > 1 ? `${o.line} (x${o.n}, until ${o.last})` : o.line));
}

function incidentReport(incidentId: string, entries: LedgerEntry[]): IncidentReport {
  const received = entries.find((e) => e.phase === 'received');
  const trigger = received ? detailOf(received).trigger : undefined;
  const detected = trigger?.at ? Date.parse(trigger.at) : received ? Date.parse(received.at) : undefined;
  const outcome = outcomeOf(entries);
  const completed = entries.find((e) => e.phase === 'completed');
  return {
    incidentId,
    runbook: entries[0]?.runbook ?? '?',
    target: entries.find((e) => e.targetArn)?.targetArn,
    outcome,
    ...(outcome === 'resolved' && completed && detected !== undefined ? { secondsToResolve: (Date.parse(completed.at) - detected) / 1000 } : {}),
    timeline: collapseRepeats(entries.flatMap((e, i) => (isRestatedFailure(e, entries[i - 1]) ? [] : timelineLine(e, detected)))),
    entries,
  };
}

/** What a scenario came to, checked against its expectations. */
export function reportScenario(run: ScenarioRun): ScenarioReport {
  const incidents = [...run.incidents.entries()].map(([id, entries]) => incidentReport(id, entries))
    .sort((a, b) => (a.entries[0]?.at ?? '').localeCompare(b.entries[0]?.at ?? '') || a.incidentId.localeCompare(b.incidentId));
  const { expect } = run.scenario;
  const failures: string[] = [];
  for (const wanted of expect.incidents) {
    const found = incidents.filter((i) => i.runbook === wanted.runbook && i.outcome === wanted.outcome).length;
    if (wanted.count === undefined ? found === 0 : found !== wanted.count) {
      const seen = incidents.filter((i) => i.runbook === wanted.runbook).map((i) => i.outcome);
      failures.push(`expected ${wanted.count ?? 'at least 1'} ${wanted.outcome} incident(s) of ${wanted.runbook}, got ${found} (its outcomes: ${seen.join(', ') || 'none'})`);
    }
  }
  const succeeded = run.calls.filter((c) => !c.error);
  for (const [operation, n] of Object.entries(expect.calls)) {
    const made = succeeded.filter((c) => `${c.service}:${c.operation}` === operation).length;
    if (made !== n) failures.push(`expected ${n} ${operation} call(s), the runbooks made ${made}`);
  }
  if (expect.notifications !== undefined && run.notifications.length !== expect.notifications) {
    failures.push(`expected ${expect.notifications} notification(s) to the escalation topic, got ${run.notifications.length}`);
  }
  if (expect.leasesHeld !== undefined && run.leasesHeld.length !== expect.leasesHeld) {
    failures.push(`expected ${expect.leasesHeld} lease(s) still held at the end, found ${run.leasesHeld.length}: ${run.leasesHeld.map((l) => `${l.key} by ${l.incidentId}`).join(', ') || 'none'}`);
  }
  if (expect.totalIncidents !== undefined && incidents.length !== expect.totalIncidents) {
    failures.push(`expected ${expect.totalIncidents} incident(s) in all, got ${incidents.length}`);
  }
  failures.push(...run.errors);
  const resolved = incidents.filter((i) => i.secondsToResolve !== undefined);
  return {
    name: run.scenario.name,
    file: run.scenario.file,
    passed: failures.length === 0,
    failures,
    incidents,
    calls: run.calls,
    notifications: run.notifications.map((n) => ({ at: n.at, subject: n.subject })),
    summary: {
      incidents: incidents.length,
      acted: incidents.filter((i) => i.entries.some((e) => e.phase === 'acted')).length,
      denied: incidents.filter((i) => i.outcome === 'denied').length,
      escalated: incidents.filter((i) => i.entries.some((e) => e.phase === 'escalated')).length,
      ...(resolved.length ? { mttrSeconds: resolved.reduce((sum, i) => sum + i.secondsToResolve!, 0) / resolved.length } : {}),
    },
  };
}
