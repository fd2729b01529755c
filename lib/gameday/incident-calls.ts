import { canonicalJson } from '../../lambdas/shared/canonical-json';
import { ENDING_PHASES, entryDetail, type LedgerEntry } from '../../lambdas/shared/ledger';
import type { CallRecord, PlannedCall } from '../../lambdas/shared/types';
import type { ScenarioRun } from './engine';
import { targetMatches, textValues } from './faults';
import type { MutatingCall } from './world';

/**
 * What the safety invariants (lib/gameday/invariants.ts) need of an incident's ledger trail, and
 * which incident made each of the world's mutating calls. The world knows a call's runbook and
 * time, not its incident: the ledger's call records (same operation, same parameters) say which
 * incident made it, else the incident of that runbook that touches the call's target then.
 */
export interface IncidentTrail {
  readonly id: string;
  readonly runbook: string;
  readonly entries: LedgerEntry[];
  /** The target's id as Validate recorded it (`prod/api`, `web-asg`, an ARN). */
  readonly targetId?: string;
  readonly targetArn?: string;
  readonly startMs: number;
  /** The last entry's time; the end of the run when the trail has no ending entry (it may go on). */
  readonly endMs: number;
  /** The planned calls of its last `planned` entry with a list; undefined when no plan was recorded. */
  readonly planned?: PlannedCall[];
  /** Batches that recorded `acting`. */
  readonly batches: Set<number>;
  /** Every call record of its act and rollback entries, with the stage that made it. */
  readonly records: Array<CallRecord & { readonly stage: 'act' | 'rollback' }>;
  /** When verification failed (what follows may be a rollback), if it did. */
  readonly verificationFailedMs?: number;
  /** The executions that wrote its entries, by name. */
  readonly executions: Set<string>;
}

const ms = (iso: string): number => Date.parse(iso);

/** Each incident of the run, read from its ledger entries. */
export function incidentTrails(run: ScenarioRun): IncidentTrail[] {
  return [...run.incidents].filter(([, entries]) => entries.length > 0).map(([id, entries]) => {
    let planned: PlannedCall[] | undefined;
    const batches = new Set<number>();
    const records: IncidentTrail['records'] = [];
    let verificationFailedMs: number | undefined;
    let targetId: string | undefined;
    for (const entry of entries) {
      const d = entryDetail(entry);
      const calls = (list: unknown, stage: 'act' | 'rollback') => {
        for (const c of Array.isArray(list) ? list as CallRecord[] : []) records.push({ ...c, stage });
      };
      if (entry.phase === 'received' && typeof d.target?.id === 'string') targetId = d.target.id;
      if (entry.phase === 'planned' && Array.isArray(d.plannedCalls)) planned = d.plannedCalls as PlannedCall[];
      if (entry.phase === 'acting') batches.add(Number(d.batch));
      if (entry.phase === 'acted') calls(d.result?.calls, 'act');
      if (entry.phase === 'act-failed' || (entry.phase === 'denied' && d.stage === 'act')) calls(d.calls, 'act');
      if (entry.phase === 'rolled-back' || entry.phase === 'rollback-failed') calls(d.calls, 'rollback');
      if (entry.phase === 'verification-failed') verificationFailedMs ??= ms(entry.at);
    }
    const last = entries[entries.length - 1];
    return {
      id, runbook: entries[0].runbook, entries, targetId, targetArn: entries.find((e) => e.targetArn)?.targetArn,
      startMs: ms(entries[0].at), endMs: ENDING_PHASES.has(last.phase) ? ms(last.at) : run.endedAt.getTime(),
      planned, batches, records, verificationFailedMs,
      executions: new Set(entries.map((e) => String(e.execution ?? '').split(':').pop() ?? '').filter(Boolean)),
    };
  });
}

/** Whether a call took effect: it succeeded, or it took effect while its caller saw a timeout. */
export const tookEffect = (call: MutatingCall): boolean => call.error === undefined;

/**
 * Whether a call is about `target`, a name as medic writes it (a plan's target, an incident's
 * target id): one of its parameters, the last segment of one (an ARN), every segment of a
 * `cluster/service` path, or a fleet's tag (`instances tagged k=v`).
 */
export function touches(target: string | undefined, call: Pick<MutatingCall, 'parameters'>): boolean {
  if (!target) return false;
  const values = textValues(call.parameters);
  if (targetMatches(target, values)) return true;
  const fleet = /^instances tagged (.+)=(.*)$/.exec(target);
  if (fleet) return values.includes(`tag:${fleet[1]}`) && values.includes(fleet[2]);
  const segments = target.split('/').filter(Boolean);
  return segments.length > 1 && segments.every((s) => values.includes(s));
}

const sameParameters = (a: unknown, b: unknown): boolean => canonicalJson(a ?? {}) === canonicalJson(b ?? {});

/** The incident's ledger record of this call (same service, operation and parameters), if it has one. */
export function recordOf(trail: IncidentTrail, call: MutatingCall): IncidentTrail['records'][number] | undefined {
  return trail.records.find((r) => r.outcome !== 'not-made' && r.service === call.service && r.operation === call.operation && sameParameters(r.parameters, call.parameters));
}

/** Whether the call is about what the incident works on: its target, a planned call's, or a call its ledger records. */
export function aboutIncident(trail: IncidentTrail, call: MutatingCall): boolean {
  return recordOf(trail, call) !== undefined || touches(trail.targetId, call) || touches(trail.targetArn, call)
    || (trail.planned ?? []).some((p) => p.operation === call.operation && touches(p.target, call));
}

/**
 * The incident that made each call of a runbook, when one can be told: the latest incident of
 * that runbook started by then whose ledger records the call; else one, open at the call's time,
 * that works on what it touches (one that had started acting by then first); else the latest that
 * works on it (an invocation that went on after its execution had moved on).
 */
export function attributeCalls(run: ScenarioRun, trails: IncidentTrail[]): Map<MutatingCall, IncidentTrail> {
  const byCall = new Map<MutatingCall, IncidentTrail>();
  for (const call of run.calls) {
    if (call.runbook === undefined) continue;
    const at = ms(call.at);
    const started = trails.filter((t) => t.runbook === call.runbook && t.startMs <= at).sort((a, b) => b.startMs - a.startMs);
    const about = started.filter((t) => aboutIncident(t, call));
    const open = about.filter((t) => at <= t.endMs);
    const acting = open.filter((t) => t.entries.some((e) => e.phase === 'acting' && ms(e.at) <= at));
    const found = started.find((t) => recordOf(t, call)) ?? acting[0] ?? open[0] ?? about[0];
    if (found) byCall.set(call, found);
  }
  return byCall;
}
