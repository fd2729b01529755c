import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { DescribeExecutionCommand, paginateGetExecutionHistory, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { resourceLeaseKey, runbookLeaseKey } from './admission';
import { dynamo } from './clients';
import { describeError } from './errors';
import { inert } from './inert-text';
import { appendEntry, incidentsWithEntriesBetween, readIncident, type AppendInput, type LedgerEntry } from './ledger';
import { completenessOf, executionOf } from './ledger-completeness';
import { releaseLeaseIfHeld } from './limiter';
import type { CallOutcome } from './types';

/**
 * The reconciler: closes incidents whose ledger trail stopped before an ending entry (DynamoDB was
 * down when the execution tried to write it) from what the Step Functions execution history
 * proves. For each incomplete incident (lambdas/shared/ledger-completeness.ts) whose execution has
 * stopped, it appends one `reconciled` entry through the ledger writer (final status, the task
 * states that succeeded, the mutating calls the history shows and those the ledger has no entry
 * for), releases the leases the incident still holds, and pages when the history shows a change
 * the ledger missed. A running execution is left alone; an execution whose history cannot be read
 * is reported and left incomplete (nothing is written that the history does not prove).
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** A mutating call the history proves, with where it proves it. */
export interface ProvenCall {
  /** The task state whose output (or error) shows the call, e.g. `Act`. */
  readonly state: string;
  /** `output`: a call record in the task's result; `error`: named in the task's error message. */
  readonly proof: 'output' | 'error';
  readonly service?: string;
  readonly operation: string;
  readonly target: string;
  readonly outcome: CallOutcome;
  readonly requestId?: string;
  readonly at?: string;
}

/** What one execution's history proves. */
export interface HistoryFacts {
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  readonly stoppedAt?: string;
  /** Task states that returned a result, in order (a state run twice is listed twice). */
  readonly tasksSucceeded: string[];
  /** Task states whose last attempt failed, with the error. */
  readonly tasksFailed: Array<{ readonly state: string; readonly error?: string; readonly cause?: string }>;
  readonly calls: ProvenCall[];
  /** Lease keys Admit and Plan returned (with their epochs). */
  readonly leases: string[];
  readonly epochs: Record<string, number>;
  /** The execution's own error, when it failed. */
  readonly error?: string;
}

export interface IncidentReconciliation {
  readonly incidentId: string;
  readonly runbook: string;
  /** `reconciled`: an entry was appended; `running`: the execution still runs; `skipped`: nothing proven (see reason). */
  readonly result: 'reconciled' | 'running' | 'skipped';
  readonly reason?: string;
  readonly execution?: string;
  readonly executionStatus?: ExecutionStatus;
  /** Lease keys whose hold by this incident was released (live, or expired but never released). */
  readonly released: string[];
  readonly missedInLedger: ProvenCall[];
  /** A page was published for the missed calls. */
  readonly paged: boolean;
  readonly pageError?: string;
  readonly entry?: LedgerEntry;
}

export interface ReconcileReport {
  readonly from: string;
  readonly to: string;
  /** Incidents with an entry in the range. */
  readonly incidents: number;
  /** Of those, incomplete ones. */
  readonly incomplete: number;
  readonly results: IncidentReconciliation[];
}

export interface ReconcileDeps {
  readonly ledgerTable: string;
  readonly limiterTable: string;
  readonly sfn: SFNClient;
  /** Where pages go (the escalation topic) and how; without `topicArn` a missed call is reported, not paged. */
  readonly topicArn?: string;
  readonly sns?: SNSClient;
  /** Reads the ledger (the handlers' client by default). */
  readonly ledgerClient?: DynamoDBDocumentClient;
  /** Appends an entry (through the ledger writer by default). */
  readonly append?: (input: AppendInput) => Promise<LedgerEntry>;
  /** Who appends: the function's name, or the CLI's user. */
  readonly actor: string;
  readonly now?: () => Date;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const OUTCOMES: ReadonlySet<string> = new Set<CallOutcome>(['succeeded', 'refused', 'unknown', 'not-made']);

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Call records as the framework writes them (`calls` of an ActResult, a RollbackResult, an `act-failed` entry). */
function callRecords(value: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(value)) return [];
  return value.filter((c): c is Record<string, unknown> => isRecord(c) && typeof c.operation === 'string' && typeof c.target === 'string' && OUTCOMES.has(String(c.outcome)));
}

/**
 * Calls named in an error message of the framework (`describeCalls`: "UpdateService prod/api:
 * succeeded (request r-1); ..."): what a failed Act or Roll back says it did, e.g.
 * Medic.ActUnrecorded ("the batch was done (...) but the ledger entry "acted" could not be written").
 */
export function callsInMessage(message: string): Array<Pick<ProvenCall, 'operation' | 'target' | 'outcome' | 'requestId'>> {
  const calls: Array<Pick<ProvenCall, 'operation' | 'target' | 'outcome' | 'requestId'>> = [];
  const pattern = /(?:^|\(|; |: )([A-Z][A-Za-z0-9]+) ([^;()\s][^;()]*?): (succeeded|unknown|refused|not-made)(?: \(request ([^)]+)\))?(?=;|\)|,|$)/g;
  for (const match of message.matchAll(pattern)) {
    calls.push({ operation: match[1], target: match[2], outcome: match[3] as CallOutcome, ...(match[4] ? { requestId: match[4] } : {}) });
  }
  return calls;
}

/** The message of a Lambda error's cause (`{"errorType", "errorMessage", ...}`), or the cause itself. */
function causeMessage(cause: string | undefined): string {
  const parsed = parseJson(cause);
  return isRecord(parsed) && typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause ?? '';
}

/** The errors whose message lists the calls made before the failure (lambdas/shared/runbook-steps.ts). */
const ERRORS_LISTING_CALLS = /^Medic\.(ActUnrecorded|ActIncomplete|ActOutcomeUnknown|KillSwitchEngaged|ChangeFrozen|LeaseLost|RollbackRetryable)$/;

/** What an execution's DescribeExecution answer and history events prove. */
export function factsOf(executionArn: string, describe: { status?: string; stopDate?: Date | string }, events: HistoryEvent[]): HistoryFacts {
  const tasksSucceeded: string[] = [];
  const failedByState = new Map<string, { state: string; error?: string; cause?: string }>();
  const calls: ProvenCall[] = [];
  const leases: string[] = [];
  const epochs: Record<string, number> = {};
  let state = '';
  let error: string | undefined;
  const succeeded = (output: string | undefined) => {
    tasksSucceeded.push(state);
    failedByState.delete(state);
    const result = parseJson(output);
    if (!isRecord(result)) return;
    for (const call of callRecords(result.calls)) {
      calls.push({
        state, proof: 'output', service: typeof call.service === 'string' ? call.service : undefined, operation: String(call.operation), target: String(call.target),
        outcome: call.outcome as CallOutcome, ...(typeof call.requestId === 'string' ? { requestId: call.requestId } : {}), ...(typeof call.at === 'string' ? { at: call.at } : {}),
      });
    }
    // Admit's Admission and Plan's Plan name the leases they took.
    if (Array.isArray(result.leases)) leases.push(...result.leases.filter((k): k is string => typeof k === 'string'));
    if (isRecord(result.epochs)) for (const [key, epoch] of Object.entries(result.epochs)) if (typeof epoch === 'number') epochs[key] = epoch;
  };
  const failed = (errorName: string | undefined, cause: string | undefined) => {
    failedByState.set(state, { state, error: errorName, cause });
  };
  for (const event of events) {
    if (event.stateEnteredEventDetails?.name) state = event.stateEnteredEventDetails.name;
    switch (event.type) {
      case 'LambdaFunctionSucceeded': succeeded(event.lambdaFunctionSucceededEventDetails?.output); break;
      case 'TaskSucceeded': succeeded(event.taskSucceededEventDetails?.output); break;
      case 'LambdaFunctionFailed': failed(event.lambdaFunctionFailedEventDetails?.error, event.lambdaFunctionFailedEventDetails?.cause); break;
      case 'LambdaFunctionTimedOut': failed(event.lambdaFunctionTimedOutEventDetails?.error ?? 'States.Timeout', event.lambdaFunctionTimedOutEventDetails?.cause); break;
      case 'TaskFailed': failed(event.taskFailedEventDetails?.error, event.taskFailedEventDetails?.cause); break;
      case 'TaskTimedOut': failed(event.taskTimedOutEventDetails?.error ?? 'States.Timeout', event.taskTimedOutEventDetails?.cause); break;
      case 'ExecutionFailed': error = [event.executionFailedEventDetails?.error, event.executionFailedEventDetails?.cause].filter(Boolean).join(': '); break;
      case 'ExecutionTimedOut': error = 'States.Timeout: the execution timed out'; break;
      case 'ExecutionAborted': error = 'the execution was aborted'; break;
      default: break;
    }
  }
  const tasksFailed = [...failedByState.values()];
  for (const failure of tasksFailed) {
    if (!ERRORS_LISTING_CALLS.test(failure.error ?? '')) continue;
    for (const call of callsInMessage(causeMessage(failure.cause))) calls.push({ state: failure.state, proof: 'error', ...call });
  }
  const stopDate = describe.stopDate ? new Date(describe.stopDate) : undefined;
  return {
    executionArn, status: (describe.status ?? 'RUNNING') as ExecutionStatus,
    ...(stopDate && !Number.isNaN(stopDate.getTime()) ? { stoppedAt: stopDate.toISOString() } : {}),
    tasksSucceeded, tasksFailed, calls, leases: [...new Set(leases)], epochs, ...(error ? { error } : {}),
  };
}

/** DescribeExecution and the whole history (GetExecutionHistory, every page). */
export async function readHistory(sfn: SFNClient, executionArn: string): Promise<HistoryFacts> {
  const describe = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const events: HistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory({ client: sfn }, { executionArn, includeExecutionData: true })) events.push(...(page.events ?? []));
  return factsOf(executionArn, describe, events);
}

const detailOf = (entry: LedgerEntry): Record<string, unknown> => {
  const detail = parseJson(entry.detail);
  return isRecord(detail) ? detail : {};
};

/** Every call the ledger's entries record (acted, act-failed, denied after a partial batch, rolled-back, rollback-failed). */
function ledgerCalls(entries: LedgerEntry[]): Array<Record<string, unknown>> {
  return entries.flatMap((entry) => {
    const detail = detailOf(entry);
    return [...callRecords(detail.calls), ...(isRecord(detail.result) ? callRecords(detail.result.calls) : [])];
  });
}

/** Calls that may have changed something (succeeded, or no answer) and that no ledger entry records. */
export function missedCalls(history: HistoryFacts, entries: LedgerEntry[]): ProvenCall[] {
  const recorded = ledgerCalls(entries);
  return history.calls.filter((call) => (call.outcome === 'succeeded' || call.outcome === 'unknown')
    && !recorded.some((r) => r.operation === call.operation && r.target === call.target
      && (call.requestId === undefined || r.requestId === undefined || r.requestId === call.requestId)));
}

/** The lease keys the incident may hold: what its entries and its history name, and its target's and runbook's. */
function leaseKeysOf(entries: LedgerEntry[], history: HistoryFacts): { keys: string[]; epochs: Record<string, number> } {
  const keys = [...history.leases];
  const epochs: Record<string, number> = { ...history.epochs };
  for (const entry of entries) {
    if (entry.phase !== 'admitted' && entry.phase !== 'planned') continue;
    const readings = detailOf(entry).readings;
    if (!isRecord(readings)) continue;
    for (const [name, reading] of Object.entries(readings)) {
      if (!name.startsWith('lease ') || !isRecord(reading) || reading.acquired !== true) continue;
      const key = name.slice('lease '.length);
      keys.push(key);
      if (typeof reading.epoch === 'number') epochs[key] ??= reading.epoch;
    }
  }
  const targetArn = entries.find((e) => e.targetArn)?.targetArn;
  if (targetArn) keys.push(resourceLeaseKey(targetArn));
  if (entries[0]?.runbook) keys.push(runbookLeaseKey(entries[0].runbook));
  return { keys: [...new Set(keys)], epochs };
}

const callText = (call: ProvenCall): string =>
  `${call.service ? `${call.service}:` : ''}${call.operation} ${call.target}: ${call.outcome}${call.requestId ? ` (request ${call.requestId})` : ''}`;

/** The page for changes the history proves and the ledger missed: every sentence says what is known, inert. */
export function missedPage(entries: LedgerEntry[], history: HistoryFacts, missed: ProvenCall[]): { subject: string; body: string } {
  const first = entries[0];
  const last = entries[entries.length - 1];
  const targetArn = entries.find((e) => e.targetArn)?.targetArn;
  const subject = inert(`[medic] ${first.runbook}: the ledger missed ${missed.length} change(s) (${targetArn?.split(/[:/]/).pop() ?? 'no target'})`);
  const lines = [
    `INCIDENT ${inert(first.incidentId)} of runbook ${inert(first.runbook)}${targetArn ? ` on ${inert(targetArn)}` : ''}.`,
    `WHAT HAPPENED: its ledger trail stops at "${inert(last.phase)}" (${inert(last.at)}); its execution ended ${inert(history.status)}${history.stoppedAt ? ` at ${inert(history.stoppedAt)}` : ''}.`,
    'WHAT THE EXECUTION HISTORY PROVES medic did, and the ledger has no entry for:',
    ...missed.map((call) => `- ${inert(callText(call))}, shown by the ${call.proof === 'output' ? 'result' : 'error'} of step "${inert(call.state)}"${call.outcome === 'unknown' ? ' (no answer: it may have taken effect)' : ''}`),
    // Sent before the reconciled entry is appended: say so, and what happens if that append fails.
    `Right after this page, medic appends a "reconciled" entry recording these calls; if \`medic ledger show\` does not list it, the reconciler pages again at its next run.`,
    history.tasksSucceeded.includes('Verify')
      ? 'The history shows a Verify step that succeeded; the ledger has no record of what it checked.'
      : 'No Verify step succeeded in this execution: medic did not verify the change.',
    `ACTION: look at the target's state now. Execution: ${inert(history.executionArn)}. Trail: medic ledger show ${inert(first.incidentId)}`,
  ];
  return { subject: subject.length > 100 ? `${subject.slice(0, 97)}...` : subject, body: lines.join('\n') };
}

/**
 * Reconciles one incident (its entries, in sequence order), if it is incomplete at `now`: reads its
 * execution's history; a stopped execution gets its `reconciled` entry, its leftover leases freed,
 * and a page for missed changes.
 */
export async function reconcileIncident(entries: LedgerEntry[], deps: ReconcileDeps): Promise<IncidentReconciliation> {
  const now = deps.now?.() ?? new Date();
  const first = entries[0];
  const base = { incidentId: first?.incidentId ?? '', runbook: first?.runbook ?? '', released: [], missedInLedger: [], paged: false };
  if (!first) return { ...base, result: 'skipped', reason: 'no entries' };
  const completeness = completenessOf(entries, now);
  if (!completeness.incomplete) return { ...base, result: 'skipped', reason: completeness.complete ? 'complete' : `not past its deadline (${completeness.deadline})` };
  const execution = executionOf(entries);
  if (!execution) return { ...base, result: 'skipped', reason: 'no entry names the execution; nothing can be read from a history' };
  let history: HistoryFacts;
  try {
    history = await readHistory(deps.sfn, execution);
  } catch (error) {
    return { ...base, result: 'skipped', execution, reason: `the execution history cannot be read: ${describeError(error)}` };
  }
  if (history.status === 'RUNNING' || history.status === 'PENDING_REDRIVE') {
    return { ...base, result: 'running', execution, executionStatus: history.status, reason: 'the execution has not stopped; left alone' };
  }
  const missed = missedCalls(history, entries);
  const { keys, epochs } = leaseKeysOf(entries, history);
  const released: string[] = [];
  const expired: string[] = [];
  const releaseErrors: string[] = [];
  for (const key of keys) {
    try {
      const hold = await releaseLeaseIfHeld(deps.limiterTable, key, first.incidentId, epochs[key], now.getTime());
      if (hold) released.push(key);
      if (hold === 'expired') expired.push(key);
    } catch (error) {
      releaseErrors.push(`${key}: ${describeError(error)}`);
    }
  }
  let paged = false;
  let pageError: string | undefined;
  let messageId: string | undefined;
  if (missed.length > 0) {
    if (deps.topicArn && deps.sns) {
      const page = missedPage(entries, history, missed);
      try {
        messageId = (await deps.sns.send(new PublishCommand({ TopicArn: deps.topicArn, Subject: page.subject, Message: page.body }))).MessageId;
        paged = true;
      } catch (error) {
        pageError = describeError(error);
      }
    } else {
      pageError = 'no escalation topic to page';
    }
  }
  const entry = await (deps.append ?? appendEntry)({
    table: deps.ledgerTable,
    incidentId: first.incidentId,
    phase: 'reconciled',
    runbook: first.runbook,
    targetArn: entries.find((e) => e.targetArn)?.targetArn,
    mode: first.mode,
    actor: deps.actor,
    execution,
    detail: {
      executionStatus: history.status,
      ...(history.stoppedAt ? { stoppedAt: history.stoppedAt } : {}),
      ...(history.error ? { executionError: history.error } : {}),
      summary: `trail closed from the execution history: the execution ended ${history.status}; ${missed.length === 0 ? 'every change it shows is in the ledger' : `${missed.length} change(s) the ledger missed`}`,
      lastPhaseBefore: entries[entries.length - 1].phase,
      deadline: completeness.deadline,
      tasksSucceeded: history.tasksSucceeded,
      tasksFailed: history.tasksFailed.map((f) => ({ state: f.state, error: f.error })),
      callsFromHistory: history.calls,
      missedInLedger: missed,
      leasesReleased: released,
      ...(expired.length ? { leasesExpiredBeforeRelease: expired } : {}),
      ...(releaseErrors.length ? { leaseReleaseErrors: releaseErrors } : {}),
      ...(missed.length ? { paged, ...(messageId ? { messageId } : {}), ...(pageError ? { pageError } : {}) } : {}),
    },
    now,
  });
  return { ...base, result: 'reconciled', execution, executionStatus: history.status, released, missedInLedger: missed, paged, ...(pageError ? { pageError } : {}), entry };
}


/** Reconciles every incomplete incident with an entry in [from, to] (each over its whole trail). */
export async function reconcileRange(deps: ReconcileDeps, from: Date, to: Date): Promise<ReconcileReport> {
  const client = deps.ledgerClient ?? dynamo();
  const now = deps.now?.() ?? new Date();
  const ids = await incidentsWithEntriesBetween(deps.ledgerTable, from, to, client);
  const results: IncidentReconciliation[] = [];
  let incomplete = 0;
  for (const id of ids) {
    const entries = await readIncident(deps.ledgerTable, id, client);
    if (!completenessOf(entries, now).incomplete) continue;
    incomplete++;
    results.push(await reconcileIncident(entries, deps));
  }
  return { from: from.toISOString(), to: to.toISOString(), incidents: ids.length, incomplete, results };
}
