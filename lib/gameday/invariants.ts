import { ENDING_PHASES, verifyChain } from '../../lambdas/shared/ledger';
import type { ScenarioRun } from './engine';
import { attributeCalls, incidentTrails, recordOf, tookEffect, touches, type IncidentTrail } from './incident-calls';
import { pageProblems } from './page-claims';
import type { MutatingCall } from './world';

/**
 * The safety invariants a game day checks whatever the scenario expects (chaos runs,
 * docs/gameday.md "Chaos runs"). Each broken one is one line naming the incident and what
 * happened; none broken is `[]`.
 *
 * 1. No double mutation: within an incident, one mutating operation on one target takes effect
 *    (succeeded, or took effect unanswered) at most as often as the incident's plan called for it
 *    (its `planned` entry), plus its recorded rollback calls; without a recorded plan, at most once
 *    per batch that recorded `acting` (at least once).
 * 2. No mutation by a runbook while a kill switch (the stack's or the runbook's) is not exactly
 *    `off` (a deleted one included), or while the change calendar is CLOSED for a runbook that has
 *    one; a rollback of medic's own change may run under a closed calendar, as the mutation gate
 *    does by design (lambdas/shared/mutation-gate.ts: the kill switch stops a rollback, a closed
 *    calendar does not). A call that only stops a change (STOPPING_CALLS) is no mutation here.
 * 3. Every incident's trail ends in an ending entry (ENDING_PHASES), or it was paged: a page names
 *    the incident, or an execution that wrote its trail ended FAILED (the backstop pages it). A
 *    trail the ledger could not complete (DynamoDB failing) is expected to be paged instead. The
 *    engine does not report executions still running when the scenario ends, so an open trail
 *    without a page is broken.
 * 4. Every incident's hash chain verifies.
 * 5. Every page is truthful about the calls (lib/gameday/page-claims.ts).
 */
export function checkInvariants(run: ScenarioRun): string[] {
  const trails = incidentTrails(run);
  const owner = attributeCalls(run, trails);
  return [
    ...doubleMutations(trails, owner),
    ...guardViolations(run, owner),
    ...openTrails(run, trails),
    ...trails.flatMap((t) => {
      const broken = verifyChain(t.id, t.entries);
      return broken ? [`${t.id}: hash chain does not verify at entry ${broken.seq}: ${broken.reason}`] : [];
    }),
    ...pageProblems(run, trails, owner),
  ];
}

const op = (c: { service: string; operation: string }): string => `${c.service}:${c.operation}`;

/** Calls that stop a change in flight rather than make one: what a closed guard asks for (lambdas/shared/prune-command.ts, stopIfGuardCloses). */
const STOPPING_CALLS = new Set(['ssm:CancelCommand']);

/** Invariant 1, per incident and planned call; a rollback's calls are counted apart (they undo, not repeat, the change). */
function doubleMutations(trails: IncidentTrail[], owner: Map<MutatingCall, IncidentTrail>): string[] {
  const lines: string[] = [];
  for (const trail of trails) {
    const made = new Map<string, { operation: string; target: string; rollback: boolean; n: number; unanswered: number }>();
    for (const [call, t] of owner) {
      // Cancelling a command twice changes nothing more: not a double mutation.
      if (t !== trail || !tookEffect(call) || STOPPING_CALLS.has(op(call))) continue;
      // What the call was meant to change, as the plan names it.
      const target = recordOf(trail, call)?.target ?? trail.planned?.find((p) => p.operation === call.operation && touches(p.target, call))?.target
        ?? JSON.stringify(call.parameters);
      const rollback = isRollback(call, trail);
      const key = `${rollback} ${op(call)} ${target}`;
      const count = made.get(key) ?? { operation: op(call), target, rollback, n: 0, unanswered: 0 };
      made.set(key, { ...count, n: count.n + 1, unanswered: count.unanswered + (call.unanswered ? 1 : 0) });
    }
    for (const { operation, target, rollback, n, unanswered } of made.values()) {
      const same = (c: { service: string; operation: string; target: string }) => op(c) === operation && c.target === target;
      // A rollback whose record the ledger lost still undoes once.
      const allowed = rollback ? Math.max(1, trail.records.filter((r) => r.stage === 'rollback' && r.outcome !== 'not-made' && r.outcome !== 'refused' && same(r)).length)
        : trail.planned ? trail.planned.filter(same).length : Math.max(1, trail.batches.size);
      if (n <= allowed) continue;
      const why = rollback ? 'its rollback called for' : trail.planned ? 'the plan called for' : 'no plan was recorded: at most once per batch,';
      lines.push(`${trail.id}: double mutation: ${operation} on ${target}${rollback ? ' (rollback)' : ''} took effect ${n} time(s)${unanswered ? ` (${unanswered} unanswered)` : ''}, ${why} ${allowed}`);
    }
  }
  return lines;
}

/** Whether a runbook is bound by a change calendar: its config entry names one (a stack of the scenario's own: assumed so). */
function hasCalendar(run: ScenarioRun, runbook: string): boolean {
  const config = run.scenario.config;
  if (!config) return true;
  const entries = Object.values(config.runbooks as Record<string, Array<{ name?: string; changeCalendar?: string }> | undefined>).flat();
  return entries.some((e) => e && e.changeCalendar !== undefined && (e.name === undefined || e.name === runbook));
}

/** Whether a call undid medic's own change: recorded as a rollback, or made after the incident's verification failed. */
function isRollback(call: MutatingCall, trail: IncidentTrail | undefined): boolean {
  if (!trail) return false;
  return recordOf(trail, call)?.stage === 'rollback' || (trail.verificationFailedMs !== undefined && Date.parse(call.at) >= trail.verificationFailedMs);
}

/** Invariant 2. */
function guardViolations(run: ScenarioRun, owner: Map<MutatingCall, IncidentTrail>): string[] {
  const lines: string[] = [];
  for (const call of run.calls) {
    // Stopping a change is what a kill switch or a freeze asks for, so it is made under them.
    if (call.runbook === undefined || !tookEffect(call) || !call.guards || STOPPING_CALLS.has(op(call))) continue;
    const g = call.guards;
    const who = owner.get(call)?.id ?? `runbook ${call.runbook} (no incident found)`;
    const what = `${op(call)} ${JSON.stringify(call.parameters)} at ${call.at}`;
    const switches = [g.globalKillSwitch !== 'off' ? `the stack's kill switch was ${g.globalKillSwitch === undefined ? 'deleted' : JSON.stringify(g.globalKillSwitch)}` : '',
      g.runbookKillSwitch !== 'off' ? `the runbook's kill switch was ${g.runbookKillSwitch === undefined ? 'deleted' : JSON.stringify(g.runbookKillSwitch)}` : ''].filter(Boolean);
    if (switches.length) lines.push(`${who}: mutation while ${switches.join(' and ')}: ${what}`);
    if (g.changeCalendar === 'CLOSED' && hasCalendar(run, call.runbook) && !isRollback(call, owner.get(call))) {
      lines.push(`${who}: mutation while the change calendar was CLOSED (not a rollback): ${what}`);
    }
  }
  return lines;
}

/** Invariant 3. */
function openTrails(run: ScenarioRun, trails: IncidentTrail[]): string[] {
  const failed = new Set(run.executions.filter((e) => e.result.status === 'FAILED').map((e) => e.name));
  return trails.flatMap((t) => {
    const last = t.entries[t.entries.length - 1];
    if (ENDING_PHASES.has(last.phase)) return [];
    if (run.notifications.some((n) => `${n.subject ?? ''}\n${n.message ?? ''}`.includes(t.id))) return [];
    if ([...t.executions].some((e) => failed.has(e))) return [];
    return [`${t.id}: trail ends at "${last.phase}" (seq ${last.seq}, not an ending phase); no page names the incident and no execution of it failed`];
  });
}
