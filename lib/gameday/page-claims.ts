import { entryDetail } from '../../lambdas/shared/ledger';
import type { ScenarioRun } from './engine';
import { tookEffect, touches, recordOf, type IncidentTrail } from './incident-calls';
import type { MutatingCall } from './world';

/**
 * Invariant 5 of lib/gameday/invariants.ts: every page is truthful about the calls medic made.
 * What a page says medic did comes from lambdas/escalate/action-record.ts (`describeActions`):
 * `WHAT MEDIC DID:` then `  SUCCEEDED: <Operation> <target> (request id ...); ...` and
 * `  ROLLED BACK: ...`, or `WHAT MEDIC DID: nothing...`; the incident is named on its
 * `  incident <id>` line. A runbook's report (lambdas/finish) names it on `LOOK IT UP: incident
 * <id>, ...`; a storm digest (lambdas/escalate/digest.ts) lists denied incidents and says "None of
 * them acted".
 *
 * - A call a page says medic made (SUCCEEDED, ROLLED BACK) must be in the world's calls: that
 *   operation, taken effect, by the incident's runbook, between the incident's start and the page,
 *   about that target (lib/gameday/incident-calls.ts `touches`, or the incident's ledger record of it).
 * - A page saying medic did nothing, an observe-mode report, and a digest's incidents: none of
 *   the incident's own calls (as attributed) took effect before the page.
 */
export function pageProblems(run: ScenarioRun, trails: IncidentTrail[], owner: Map<MutatingCall, IncidentTrail>): string[] {
  const byId = new Map(trails.map((t) => [t.id, t]));
  const lines: string[] = [];
  for (const page of run.notifications) {
    const body = page.message ?? '';
    const pageMs = Date.parse(page.at);
    const name = `page "${page.subject ?? '(no subject)'}" at ${page.at}`;
    const id = /^ {2}incident (\S+)\s*$/m.exec(body)?.[1] ?? /^LOOK IT UP: incident ([^,\s]+),/m.exec(body)?.[1];
    const trail = id === undefined ? undefined : byId.get(id);
    const runbook = trail?.runbook ?? /^medic runbook (\S+?):/m.exec(body)?.[1];
    const who = id ?? `runbook ${runbook ?? '?'}`;
    /** The calls the incident made that took effect before the page. */
    const effected = (t: IncidentTrail) => [...owner].filter(([c, o]) => o === t && tookEffect(c) && Date.parse(c.at) <= pageMs).map(([c]) => c);
    const changed = (t: IncidentTrail, says: string) => {
      const calls = effected(t);
      if (calls.length) lines.push(`${t.id}: ${name} says ${says}, but ${calls.map((c) => `${c.service}:${c.operation} ${JSON.stringify(c.parameters)} took effect at ${c.at}`).join('; ')}`);
    };

    for (const claim of claimedCalls(body)) {
      const made = run.calls.some((c) => tookEffect(c) && c.operation === claim.operation && (runbook === undefined || c.runbook === runbook)
        && Date.parse(c.at) <= pageMs && (!trail || Date.parse(c.at) >= trail.startMs)
        && (touches(claim.target, c) || (trail !== undefined && recordOf(trail, c)?.target === claim.target)));
      if (!made) lines.push(`${who}: ${name} says medic made ${claim.operation} on ${claim.target} (${claim.kind}), but no such call took effect`);
    }
    if (/^WHAT MEDIC DID: nothing/m.test(body)) {
      if (trail) changed(trail, 'medic changed nothing');
    }
    if (trail && /^LOOK IT UP: incident /m.test(body)) {
      const completed = trail.entries.find((e) => e.phase === 'completed');
      if (completed && entryDetail(completed).outcome === 'observed') changed(trail, 'observe mode changed nothing');
    }
    if (/^None of them acted\./m.test(body)) {
      for (const [, member] of body.matchAll(/^ {2}\S+ (\S+) /gm)) {
        const t = byId.get(member);
        if (t) changed(t, `incident ${member} (in the storm digest) did not act`);
      }
    }
  }
  return lines;
}

/** A call a page says medic made: `SUCCEEDED: UpdateService prod/api (request id ...)`. */
interface Claim {
  readonly kind: 'succeeded' | 'rolled back';
  readonly operation: string;
  readonly target: string;
}

/** The calls a page's "WHAT MEDIC DID" lines say were made (describeActions of lambdas/escalate/action-record.ts). */
export function claimedCalls(body: string): Claim[] {
  const claims: Claim[] = [];
  for (const [, label, list] of body.matchAll(/^ {2}(SUCCEEDED|ROLLED BACK): (.*)$/gm)) {
    for (const item of list.split('; ')) {
      if (/^and \d+ more \(see the ledger\)$/.test(item)) continue;
      const m = /^(\S+) (.+?)(?: \((?:request id [^)]*|no request id returned)\))?$/.exec(item);
      if (m) claims.push({ kind: label === 'SUCCEEDED' ? 'succeeded' : 'rolled back', operation: m[1], target: m[2] });
    }
  }
  return claims;
}
