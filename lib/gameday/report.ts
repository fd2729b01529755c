import { inert } from '../../lambdas/shared/inert-text';
import { ENDING_PHASES, entryDetail, verifyChain, type LedgerEntry } from '../../lambdas/shared/ledger';
import { formatDuration } from './duration';
import type { ScenarioRun } from './engine';
import type { SurroundingsRecord } from './surroundings';
import type { CountRange, Expectations, FaultRule, Outcome, TextMatcher, Trigger } from './scenario';
import type { MutatingCall } from './world';

/** One expectation of a scenario, checked: what was expected, whether it was met, and what happened (the failure message when not met). */
export interface ExpectationResult {
  readonly expectation: string;
  readonly passed: boolean;
  readonly detail: string;
}

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
  /** Each expectation that was not met, in words (what was expected, what happened), then the executions that could not run. */
  readonly failures: string[];
  /** Every expectation of the scenario, met or not, in the order of `expect`. */
  readonly expectations: ExpectationResult[];
  readonly incidents: IncidentReport[];
  readonly calls: MutatingCall[];
  /** What reached the escalation topic (escalations and runbook reports), in order. */
  readonly notifications: Array<{ readonly at: string; readonly subject?: string; readonly message?: string; readonly undelivered?: true }>;
  readonly summary: { readonly incidents: number; readonly acted: number; readonly denied: number; readonly escalated: number; readonly mttrSeconds?: number };
  /** What the approval endpoint answered each timeline approve/reject. */
  readonly approvals: ScenarioRun['approvalAnswers'];
  /** Events EventBridge sent to a dead-letter queue after its retries. */
  readonly deadLetters: SurroundingsRecord['deadLetters'];
  /** Each self-alarm that paged, with its state at the end; and the alarms the game day could not evaluate. */
  readonly selfAlarms: { readonly paged: SurroundingsRecord['selfAlarms']; readonly unsimulated: SurroundingsRecord['unsimulatedAlarms'] };
  /** Each fault rule in words and how many calls it affected (a rule that affected none fails the scenario: it tested nothing). */
  readonly faults: Array<{ readonly rule: string; readonly applied: number }>;
}

/** A fault rule in one line, as the scenario wrote it. */
export function describeFault(rule: FaultRule): string {
  const effect = rule.effect.kind === 'error' ? rule.effect.error : rule.effect.kind === 'latency' ? `latency ${formatDuration(rule.effect.seconds)}` : rule.effect.kind;
  const scope = [
    rule.target !== undefined ? `target ${rule.target}` : '',
    rule.runbook !== undefined ? `runbook ${rule.runbook}` : '',
    rule.after > 0 ? `after ${rule.after}` : '',
    rule.times === Number.MAX_SAFE_INTEGER ? 'always' : `${rule.times} time(s)`,
    rule.window ? `from ${formatDuration(rule.window.from)}${rule.window.for !== undefined ? ` for ${formatDuration(rule.window.for)}` : ''}` : '',
  ].filter(Boolean).join(', ');
  return `${rule.operation} ${effect} (${scope})`;
}

/** A trigger in one line, as the scenario wrote it. */
function describeTrigger(trigger: Trigger): string {
  const what = trigger.phase !== undefined ? `phase ${trigger.phase}` : `call ${trigger.call}`;
  return `${what}${trigger.runbook !== undefined ? ` of ${trigger.runbook}` : ''}${trigger.occurrence > 1 ? ` (occurrence ${trigger.occurrence})` : ''}`;
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
  // A sweep's own trail: one entry listing the groups it found and the incidents it started.
  if (phases.has('swept')) return 'swept';
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
    case 'planned':
      if (d.recheck) return [`${at} RECHECK ${shown(d.status)}: ${oneLine(d.drift ?? d.summary ?? d.reason)}`];
      return [`${at} PLAN ${shown(d.decision)}: ${oneLine(d.wouldAct ? `would ${d.wouldAct}` : d.decision === 'act' ? d.summary : d.reason)}`];
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
    case 'approval-requested': return [`${at} APPROVAL REQUESTED for plan ${shown(String(d.planHash ?? '').slice(0, 12))} from ${oneLine((d.approvers ?? []).join(', '), 120)} (${shown(d.minApprovals)} needed, until ${clockTime(String(d.expiresAt ?? ''))})`];
    case 'approved': return [`${at} APPROVED by ${shown(d.principal)}${d.channel === 'link' ? ' (link)' : ''} (plan ${shown(String(d.planHash ?? '').slice(0, 12))})${d.comment ? `: ${oneLine(d.comment, 80)}` : ''}`];
    case 'approval-rejected': return [`${at} APPROVAL REJECTED by ${shown(d.principal)}: ${oneLine(d.reason)}`];
    case 'approval-expired': return [`${at} APPROVAL EXPIRED (${shown(d.received ?? (d.approvals ?? []).length)} of ${shown(d.minApprovals)} approval(s) received)`
      + `${d.onTimeout === 'act' && d.acted !== false ? ': veto window passed without a rejection, the plan is made again before acting' : ''}`];
    case 'swept': {
      const names = (list: { names?: unknown[] } | undefined) => (list?.names ?? []).map((n) => shown(n)).join(', ') || 'none';
      const started = ((d.started ?? []) as Array<{ autoScalingGroupName?: unknown }>).map((g) => shown(g.autoScalingGroupName)).join(', ') || 'none';
      return [`${at} SWEEP scanned ${shown(d.scanned)} group(s): started ${started}; compliant ${names(d.compliant)}; deferred ${names(d.deferred)}`];
    }
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
  const expectations = checkExpectations(run, incidents);
  const failures = expectations.filter((e) => !e.passed).map((e) => e.detail);
  failures.push(...run.errors);
  // A fault that hit nothing or a trigger that never came: the scenario did not rehearse what it says.
  for (const { rule, applied } of run.faultsApplied) if (applied === 0) failures.push(`fault ${describeFault(rule)} affected no call`);
  for (const trigger of run.unfiredTriggers) failures.push(`the timeline's trigger ${describeTrigger(trigger)} never happened`);
  const resolved = incidents.filter((i) => i.secondsToResolve !== undefined);
  return {
    name: run.scenario.name,
    file: run.scenario.file,
    passed: failures.length === 0,
    failures,
    expectations,
    incidents,
    calls: run.calls,
    notifications: run.notifications.map((n) => ({ at: n.at, subject: n.subject, ...(n.message !== undefined ? { message: n.message } : {}), ...(n.undelivered ? { undelivered: true as const } : {}) })),
    faults: run.faultsApplied.map(({ rule, applied }) => ({ rule: describeFault(rule), applied })),
    approvals: run.approvalAnswers,
    deadLetters: run.surroundings.deadLetters,
    selfAlarms: { paged: run.surroundings.selfAlarms.filter((a) => a.pages > 0), unsimulated: run.surroundings.unsimulatedAlarms },
    summary: {
      incidents: incidents.length,
      acted: incidents.filter((i) => i.entries.some((e) => e.phase === 'acted')).length,
      denied: incidents.filter((i) => i.outcome === 'denied').length,
      escalated: incidents.filter((i) => i.entries.some((e) => e.phase === 'escalated')).length,
      ...(resolved.length ? { mttrSeconds: resolved.reduce((sum, i) => sum + i.secondsToResolve!, 0) / resolved.length } : {}),
    },
  };
}

// ---- expectations ----

/** `1`, `at least 2`, `at most 3`, `between 1 and 3`; no count: at least one. */
export function countText(count: CountRange | undefined): string {
  if (count === undefined) return 'at least 1';
  if (typeof count === 'number') return String(count);
  if (count.atLeast !== undefined && count.atMost !== undefined) return count.atLeast === count.atMost ? String(count.atLeast) : `between ${count.atLeast} and ${count.atMost}`;
  return count.atLeast !== undefined ? `at least ${count.atLeast}` : `at most ${count.atMost}`;
}

/** Whether `n` is the count asked for (no count: at least one). */
export function countMet(count: CountRange | undefined, n: number): boolean {
  if (count === undefined) return n >= 1;
  if (typeof count === 'number') return n === count;
  return (count.atLeast === undefined || n >= count.atLeast) && (count.atMost === undefined || n <= count.atMost);
}

/** Whether `actual` includes `wanted`: objects key by key (others may be there too), arrays element by element (same length), the rest equal. */
export function includesParameters(actual: unknown, wanted: unknown): boolean {
  if (Array.isArray(wanted)) return Array.isArray(actual) && actual.length === wanted.length && wanted.every((w, i) => includesParameters(actual[i], w));
  if (typeof wanted === 'object' && wanted !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
    return Object.entries(wanted).every(([k, w]) => includesParameters((actual as Record<string, unknown>)[k], w));
  }
  return Object.is(actual, wanted);
}

const textMatches = (matcher: TextMatcher, value: string | undefined): boolean =>
  value !== undefined && ('contains' in matcher ? value.includes(matcher.contains) : new RegExp(matcher.regex).test(value));
const matcherText = (matcher: TextMatcher): string => ('contains' in matcher ? `containing ${JSON.stringify(matcher.contains)}` : `matching /${matcher.regex}/`);
const cut = (text: string, max = 120): string => (text.length > max ? `${text.slice(0, max - 3)}...` : text);
/** `a x2, b` from a list of values. */
function tally(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => (n > 1 ? `${v} x${n}` : v)).join(', ') || 'none';
}
/** The phases of a trail, consecutive repeats counted once. */
const phaseRun = (phases: readonly string[]): string[] => phases.filter((p, i) => p !== phases[i - 1]);

/**
 * Every expectation of the scenario, checked against what happened. The messages of the counts
 * that existed before ranges (`incidents`, `calls`, `notifications`, `leasesHeld`, `totalIncidents`)
 * are unchanged.
 */
export function checkExpectations(run: ScenarioRun, incidents: IncidentReport[]): ExpectationResult[] {
  const expect: Expectations = run.scenario.expect;
  const results: ExpectationResult[] = [];
  const check = (expectation: string, passed: boolean, met: string, failed: string) => results.push({ expectation, passed, detail: passed ? met : failed });

  for (const wanted of expect.incidents) {
    const found = incidents.filter((i) => i.runbook === wanted.runbook && i.outcome === wanted.outcome).length;
    const seen = incidents.filter((i) => i.runbook === wanted.runbook).map((i) => i.outcome);
    check(`${countText(wanted.count)} ${wanted.outcome} incident(s) of ${wanted.runbook}`, countMet(wanted.count, found),
      `got ${found}`, `expected ${countText(wanted.count)} ${wanted.outcome} incident(s) of ${wanted.runbook}, got ${found} (its outcomes: ${seen.join(', ') || 'none'})`);
  }
  const succeeded = (run.calls ?? []).filter((c) => !c.error);
  /** The successful calls a `calls` key names: `service:Operation` by any runbook, `runbook/service:Operation` by that one. */
  const callsOf = (key: string) => {
    const slash = key.lastIndexOf('/');
    const runbook = slash < 0 ? undefined : key.slice(0, slash);
    const operation = key.slice(slash + 1);
    return { runbook, operation, calls: succeeded.filter((c) => `${c.service}:${c.operation}` === operation && (runbook === undefined || c.runbook === runbook)) };
  };
  for (const [key, n] of Object.entries(expect.calls)) {
    const { runbook, operation, calls } = callsOf(key);
    const byRunbook = tally(succeeded.filter((c) => `${c.service}:${c.operation}` === operation).map((c) => c.runbook ?? '(no runbook)'));
    check(`${countText(n)} ${key} call(s)`, countMet(n, calls.length), `made ${calls.length}`, runbook === undefined
      ? `expected ${countText(n)} ${key} call(s), the runbooks made ${calls.length}`
      : `expected ${countText(n)} ${operation} call(s) by ${runbook}, it made ${calls.length} (${operation} calls by runbook: ${byRunbook})`);
  }
  for (const wanted of expect.callsWith ?? []) {
    const { calls } = callsOf(wanted.call);
    const matching = calls.filter((c) => includesParameters(c.parameters, wanted.parameters)).length;
    const shown = calls.slice(0, 3).map((c) => cut(JSON.stringify(c.parameters))).join('; ');
    const what = `${wanted.call} call(s) with ${JSON.stringify(wanted.parameters)}`;
    check(`${countText(wanted.count)} ${what}`, countMet(wanted.count, matching), `made ${matching}`,
      `expected ${countText(wanted.count)} ${what}, the runbooks made ${matching} (of ${calls.length} ${wanted.call} call(s)${calls.length ? `; parameters: ${shown}${calls.length > 3 ? '; ...' : ''}` : ''})`);
  }
  for (const wanted of expect.pages ?? []) {
    const matching = run.notifications.filter((n) => (!wanted.subject || textMatches(wanted.subject, n.subject)) && (!wanted.body || textMatches(wanted.body, n.message))).length;
    const what = [wanted.subject && `subject ${matcherText(wanted.subject)}`, wanted.body && `body ${matcherText(wanted.body)}`].filter(Boolean).join(' and ');
    const subjects = run.notifications.map((n) => (n.subject === undefined ? '(no subject)' : JSON.stringify(cut(n.subject, 80)))).join(', ');
    check(`${countText(wanted.count)} page(s)${what ? ` with ${what}` : ''}`, countMet(wanted.count, matching), `got ${matching}`,
      `expected ${countText(wanted.count)} page(s)${what ? ` with ${what}` : ''} to the escalation topic, got ${matching} (of ${run.notifications.length}${subjects ? `: ${subjects}` : ''})`);
  }
  for (const wanted of expect.ledger?.phases ?? []) {
    const expected = phaseRun(wanted.phases);
    const of = incidents.filter((i) => i.runbook === wanted.runbook && (wanted.outcome === undefined || i.outcome === wanted.outcome));
    const wrong = of.map((i) => ({ id: i.incidentId, phases: phaseRun(i.entries.map((e) => e.phase)) })).filter((i) => i.phases.join() !== expected.join());
    const whose = `${wanted.outcome ? `${wanted.outcome} ` : ''}incident of ${wanted.runbook}`;
    check(`every ${whose} records phases ${expected.join(', ')}`, of.length > 0 && wrong.length === 0, `${of.length} incident(s) did`,
      of.length === 0
        ? `expected every ${whose} to record phases ${expected.join(', ')}, there is no such incident`
        : `expected every ${whose} to record phases ${expected.join(', ')}, ${wrong.length} of ${of.length} did not: ${wrong.slice(0, 3).map((w) => `${w.id} recorded ${w.phases.join(', ')}`).join('; ')}`);
  }
  if (expect.ledger?.terminal) {
    const open = incidents.filter((i) => !ENDING_PHASES.has(i.entries[i.entries.length - 1]?.phase));
    check('every incident ends in an ending entry', open.length === 0, `all ${incidents.length} did`,
      `expected every incident to end in an ending entry (${[...ENDING_PHASES].join(', ')}), ${open.length} of ${incidents.length} did not: ${open.slice(0, 3).map((i) => `${i.incidentId} (last: ${i.entries[i.entries.length - 1]?.phase ?? 'no entry'})`).join(', ')}`);
  }
  if (expect.ledger?.chainsVerify) {
    const broken = incidents.map((i) => verifyChain(i.incidentId, i.entries)).filter((b) => b !== undefined);
    check('every incident\'s hash chain verifies', broken.length === 0, `all ${incidents.length} did`,
      `expected every incident's hash chain to verify, ${broken.length} of ${incidents.length} did not: ${broken.slice(0, 3).map((b) => `${b.incidentId} at entry ${b.seq}: ${b.reason}`).join('; ')}`);
  }
  for (const wanted of expect.denials ?? []) {
    const categories = incidents.filter((i) => i.runbook === wanted.runbook)
      .flatMap((i) => i.entries.filter((e) => e.phase === 'denied').map((e) => String(detailOf(e).category ?? '(no category)')));
    const found = categories.filter((c) => c === wanted.reason).length;
    check(`${countText(wanted.count)} ${wanted.reason} denial(s) of ${wanted.runbook}`, countMet(wanted.count, found), `got ${found}`,
      `expected ${countText(wanted.count)} ${wanted.reason} denial(s) of ${wanted.runbook}, got ${found} (its denials: ${tally(categories)})`);
  }
  if (expect.notifications !== undefined) {
    check(`${expect.notifications} notification(s) to the escalation topic`, run.notifications.length === expect.notifications, `got ${run.notifications.length}`,
      `expected ${expect.notifications} notification(s) to the escalation topic, got ${run.notifications.length}`);
  }
  if (expect.leasesHeld !== undefined) {
    check(`${expect.leasesHeld} lease(s) still held at the end`, run.leasesHeld.length === expect.leasesHeld, `found ${run.leasesHeld.length}`,
      `expected ${expect.leasesHeld} lease(s) still held at the end, found ${run.leasesHeld.length}: ${run.leasesHeld.map((l) => `${l.key} by ${l.incidentId}`).join(', ') || 'none'}`);
  }
  for (const wanted of expect.approvals ?? []) {
    const answers = run.approvalAnswers.filter((a) => (wanted.as === undefined || a.as === wanted.as) && (wanted.decision === undefined || a.decision === wanted.decision)
      && (wanted.channel === undefined || a.channel === wanted.channel));
    const found = answers.filter((a) => a.status === wanted.status).length;
    const who = `${wanted.decision ?? 'approval'} answer(s)${wanted.as ? ` to ${wanted.as}` : ''}${wanted.channel ? ` by ${wanted.channel}` : ''} with status ${wanted.status}`;
    check(`${countText(wanted.count)} ${who}`, countMet(wanted.count, found), `got ${found}`,
      `expected ${countText(wanted.count)} ${who}, got ${found} (answers: ${answers.map((a) => `${a.status} ${cut(a.message, 80)}`).join('; ') || 'none'})`);
  }
  if (expect.deadLetters !== undefined) {
    const found = run.surroundings.deadLetters.length;
    check(`${countText(expect.deadLetters)} event(s) in a dead-letter queue`, countMet(expect.deadLetters, found), `got ${found}`,
      `expected ${countText(expect.deadLetters)} event(s) in a dead-letter queue, got ${found}`);
  }
  for (const [alarm, wanted] of Object.entries(expect.selfAlarms ?? {})) {
    const matching = run.surroundings.selfAlarms.filter((a) => a.alarm.includes(alarm));
    const found = matching.reduce((sum, a) => sum + a.pages, 0);
    const paged = run.surroundings.selfAlarms.filter((a) => a.pages > 0).map((a) => `${a.alarm} x${a.pages}`).join(', ') || 'none';
    check(`${countText(wanted)} page(s) of self-alarm ${alarm}`, matching.length > 0 && countMet(wanted, found), `got ${found}`,
      matching.length === 0 ? `expected self-alarm ${alarm}, which the stack does not have` : `expected ${countText(wanted)} page(s) of self-alarm ${alarm}, got ${found} (self-alarms that paged: ${paged})`);
  }
  if (expect.totalIncidents !== undefined) {
    check(`${expect.totalIncidents} incident(s) in all`, incidents.length === expect.totalIncidents, `got ${incidents.length}`,
      `expected ${expect.totalIncidents} incident(s) in all, got ${incidents.length}`);
  }
  return results;
}
