import { entryDetail, type LedgerEntry } from '../shared/ledger';
import type { CallRecord, PlannedCall, WorkflowState } from '../shared/types';

/**
 * What the ledger proves medic did to the target, call by call: the page is assembled from
 * this, never from what a step meant to do. `undefined` entries mean the ledger could not be
 * read, and then nothing is claimed beyond what the execution's own path proves.
 */
export interface ActionRecord {
  /** False when the ledger could not be read. */
  readonly readable: boolean;
  readonly readError?: string;
  readonly calls: CallRecord[];
  /** Batches that recorded `acting` and then nothing: their calls may have been made. */
  readonly unsettled: Array<{ readonly batch: number; readonly planned: PlannedCall[] }>;
  /** Planned calls of batches never started, and of a stopped batch's remainder. */
  readonly notMade: PlannedCall[];
  /** Rollback calls, and whether the last rollback attempt failed without a later success. */
  readonly rollbackCalls: CallRecord[];
  readonly rollbackFailed?: { readonly error: string; readonly calls: CallRecord[] };
  readonly rollbackNotes: string[];
}

const detailOf = entryDetail;

const sameCall = (planned: PlannedCall, call: CallRecord): boolean => planned.operation === call.operation && planned.target === call.target;

/** Reads the incident's entries (in sequence order) into an {@link ActionRecord}. */
export function actionRecord(entries: LedgerEntry[] | undefined, state: WorkflowState, readError?: string): ActionRecord {
  if (!entries) return { readable: false, readError, calls: state.act?.calls ?? [], unsettled: [], notMade: [], rollbackCalls: state.rollback?.calls ?? [], rollbackNotes: state.rollback?.notes ?? [] };
  const calls: CallRecord[] = [];
  const settled = new Set<number>();
  const started = new Map<number, PlannedCall[]>();
  const rollbackCalls: CallRecord[] = [];
  let rollbackFailed: ActionRecord['rollbackFailed'];
  let rollbackNotes: string[] = [];
  let planned: PlannedCall[] = state.plan?.plannedCalls ?? [];
  for (const entry of entries) {
    const detail = detailOf(entry);
    switch (entry.phase) {
      case 'planned':
        if (Array.isArray(detail.plannedCalls)) planned = detail.plannedCalls as PlannedCall[];
        break;
      case 'acting':
        started.set(Number(detail.batch), (detail.planned ?? []) as PlannedCall[]);
        break;
      case 'acted':
        settled.add(Number(detail.result?.batch));
        calls.push(...((detail.result?.calls ?? []) as CallRecord[]));
        break;
      case 'act-failed':
        settled.add(Number(detail.batch));
        calls.push(...((detail.calls ?? []) as CallRecord[]));
        break;
      case 'denied':
        if (detail.stage === 'act') {
          settled.add(Number(detail.batch));
          calls.push(...((detail.calls ?? []) as CallRecord[]));
        }
        break;
      case 'rolled-back':
        rollbackCalls.push(...((detail.calls ?? []) as CallRecord[]));
        rollbackNotes = (detail.notes ?? []) as string[];
        rollbackFailed = undefined;
        break;
      case 'rollback-failed':
        rollbackCalls.push(...((detail.calls ?? []) as CallRecord[]));
        rollbackFailed = { error: String(detail.error ?? 'unknown error'), calls: (detail.calls ?? []) as CallRecord[] };
        break;
      default:
        break;
    }
  }
  const unsettled = [...started.entries()].filter(([batch]) => !settled.has(batch)).map(([batch, p]) => ({ batch, planned: p }));
  const unknownBatches = new Set(unsettled.map((u) => u.batch));
  // A call is not made when no attempt of its batch sent it; a guard's `not-made` record counts as not sent.
  const sent = calls.filter((c) => c.outcome !== 'not-made');
  const notMade = planned.filter((p) => !unknownBatches.has(p.batch) && !sent.some((c) => sameCall(p, c)));
  return { readable: true, calls, unsettled, notMade, rollbackCalls, rollbackFailed, rollbackNotes };
}

/** True when the ledger proves no mutating call was started (or may have been). */
export function provesNothingDone(record: ActionRecord): boolean {
  return record.readable && record.unsettled.length === 0 && !record.calls.some((c) => c.outcome === 'succeeded' || c.outcome === 'unknown' || c.outcome === 'refused')
    && !record.rollbackCalls.some((c) => c.outcome !== 'not-made');
}

const MAX_LISTED = 12;

function listCalls(calls: Array<Pick<CallRecord, 'service' | 'operation' | 'target'> & Partial<CallRecord>>, withDetail: (c: Partial<CallRecord>) => string): string {
  const shown = calls.slice(0, MAX_LISTED).map((c) => `${c.operation} ${c.target}${withDetail(c)}`);
  return `${shown.join('; ')}${calls.length > MAX_LISTED ? `; and ${calls.length - MAX_LISTED} more (see the ledger)` : ''}`;
}

/** The "WHAT MEDIC DID" lines of a page. `reachedAct` says whether this execution could have acted at all. */
export function describeActions(record: ActionRecord, reachedAct: boolean): string[] {
  if (!record.readable) {
    const why = `the ledger could not be read (${record.readError ?? 'unknown error'})`;
    if (!reachedAct) return [`WHAT MEDIC DID: nothing in this execution: it stopped before it could act (${why}, so this is not confirmed from the ledger)`];
    const known = record.calls.length ? ` The step reported: ${listCalls(record.calls, (c) => ` ${c.outcome}`)}.` : '';
    return [`WHAT MEDIC DID: not known from the ledger: ${why}; mutating calls may have been made.${known} See the execution history.`];
  }
  if (provesNothingDone(record)) {
    const stopped = record.calls.filter((c) => c.outcome === 'not-made');
    return [`WHAT MEDIC DID: nothing: the ledger shows no mutating call was made${stopped.length ? ` (${listCalls(stopped, (c) => `: ${c.error ?? 'stopped'}`)})` : ''}`];
  }
  const by = (outcome: CallRecord['outcome']) => record.calls.filter((c) => c.outcome === outcome);
  const lines = ['WHAT MEDIC DID:'];
  const succeeded = by('succeeded');
  if (succeeded.length) lines.push(`  SUCCEEDED: ${listCalls(succeeded, (c) => (c.requestId ? ` (request id ${c.requestId})` : ' (no request id returned)'))}`);
  const unknown = by('unknown');
  if (unknown.length) lines.push(`  OUTCOME UNKNOWN (may have taken effect): ${listCalls(unknown, (c) => `: ${c.error ?? 'no answer'}`)}`);
  for (const u of record.unsettled) {
    lines.push(`  OUTCOME UNKNOWN: batch ${u.batch + 1} recorded "acting" and nothing after it; these calls may have been made: ${listCalls(u.planned, () => '') || 'its planned calls (see the ledger)'}`);
  }
  const refused = by('refused');
  if (refused.length) lines.push(`  REFUSED by the service (not executed): ${listCalls(refused, (c) => `: ${c.error ?? 'refused'}`)}`);
  const stopped = by('not-made');
  const notMade = [...stopped, ...record.notMade.filter((p) => !stopped.some((s) => s.operation === p.operation && s.target === p.target))];
  if (notMade.length) lines.push(`  NOT MADE: ${listCalls(notMade, (c) => (c.error ? `: ${c.error}` : ''))}`);
  const rolledBack = record.rollbackCalls.filter((c) => c.outcome === 'succeeded');
  if (rolledBack.length) lines.push(`  ROLLED BACK: ${listCalls(rolledBack, (c) => (c.requestId ? ` (request id ${c.requestId})` : ''))}`);
  for (const note of record.rollbackNotes) lines.push(`  NOTE: ${note}`);
  return lines;
}

const kebab = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** `aws autoscaling update-auto-scaling-group --auto-scaling-group-name web-asg ...` for calls with flat scalar parameters. */
export function cliCommand(call: Pick<CallRecord, 'service' | 'operation' | 'parameters'>): string | undefined {
  const params = Object.entries(call.parameters);
  if (!params.every(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))) return undefined;
  const args = params.map(([k, v]) => (typeof v === 'boolean' ? `--${v ? '' : 'no-'}${kebab(k)}` : `--${kebab(k)} ${JSON.stringify(String(v))}`));
  return `aws ${call.service} ${kebab(call.operation)} ${args.join(' ')}`;
}

/** The lines a failed rollback puts first: what is still changed and the exact values to restore by hand. */
export function rollbackFailedLines(failed: NonNullable<ActionRecord['rollbackFailed']>): string[] {
  const intended = failed.calls.filter((c) => c.outcome !== 'succeeded');
  const lines = [`ROLLBACK FAILED: medic's change is still in place (${failed.error}).`];
  if (intended.length === 0) return [...lines, 'The values to restore were not recorded; see the ledger entries "planned" and "acted" for the previous settings.'];
  lines.push('Restore by hand:');
  for (const call of intended) {
    lines.push(`  ${call.service} ${call.operation} ${JSON.stringify(call.parameters)}`);
    const cli = cliCommand(call);
    if (cli) lines.push(`  ${cli}`);
  }
  return lines;
}
