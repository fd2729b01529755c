import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { claimAct, readActClaim, settleAct, type ActClaim } from './act-claim';
import { Admitter, type Denial } from './admission';
import {
  ActIncompleteError, ActOutcomeUnknownError, describeError, GUARD_DENIAL_CATEGORIES, GUARD_DENIALS, InvalidStateError, isTransient, MedicError,
  RollbackRetryableError, StateTooLargeError,
} from './errors';
import { supersededTrigger } from './freshness';
import { readIncident } from './ledger';
import { releaseLeases } from './leases';
import { MutationGate } from './mutation-gate';
import { planHash } from './plan-hash';
import { recheckPlan } from './recheck';
import { actorName, countDenial, countFor, logger } from './observability';
import { record } from './record';
import { platformSettings } from './settings';
import type { ActResult, Briefing, CallRecord, CheckVerdict, Plan, RecheckResult, Report, RollbackResult, VerifyState, WorkflowState } from './types';

/** One reading of a runbook's verification. Errors while checking must yield `inconclusive`, never `success`. */
export interface CheckResult {
  readonly verdict: CheckVerdict;
  readonly reason: string;
  readonly readings: Record<string, unknown>;
  /** On the reading that completes verification (or definitively fails it), the runbook's report. */
  readonly report?: Report;
  /** What a human needs if verification fails on this reading (supersedes the plan's briefing). */
  readonly briefing?: Briefing;
}

/** What a runbook's act returns: the framework adds the calls the gate recorded. */
export type ActOutput = Omit<ActResult, 'calls'>;
/** What a runbook's rollback returns: the framework adds the calls and notes the gate recorded. */
export type RollbackOutput = Omit<RollbackResult, 'calls' | 'notes'>;

/**
 * What a runbook contributes to the generic workflow. The framework around it enforces the
 * safety rules, so a runbook's code only talks to its service, and makes every mutating call
 * through the gate it is given.
 */
export interface RunbookSteps {
  /** Read-only: decide whether and how to act, listing the calls it will make (`plannedCalls`). */
  plan(state: WorkflowState): Promise<Plan>;
  /** The mutation, every call through `gate`. Called only in `auto` mode, after admission, once per batch. */
  act(state: WorkflowState, gate: MutationGate): Promise<ActOutput>;
  /** Read-only: one verification reading. */
  check(state: WorkflowState): Promise<CheckResult>;
  /** Undo `act` (every call through `gate`), for reversible runbooks. Absent means the action cannot be undone. */
  rollback?(state: WorkflowState, gate: MutationGate): Promise<RollbackOutput>;
}

/** `recheck`: the plan made again before Act in mode `approve`, compared with the approved one (lambdas/shared/recheck.ts). */
export type StepName = 'plan' | 'act' | 'check' | 'rollback' | 'recheck';

export interface StepRequest {
  readonly step: StepName;
  readonly state: WorkflowState;
}

/** Step Functions state is limited to 256 KB; keep room for the error and escalation fields. */
export const STATE_LIMIT_BYTES = 240 * 1024;
/** How long a repeated Act waits for a concurrent attempt of the same batch to settle. */
const CONCURRENT_ATTEMPT_WAIT_MS = 20_000;
const CONCURRENT_ATTEMPT_POLL_MS = 250;

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

/** Fails the step (into Escalate) rather than let Step Functions fail the execution outside any Catch. */
function assertFits(state: WorkflowState, key: 'plan' | 'act' | 'verify' | 'rollback', value: unknown): void {
  const size = bytes(state) - bytes(state[key] ?? null) + bytes(value);
  if (size > STATE_LIMIT_BYTES) {
    throw new StateTooLargeError(`the ${key} result would make the workflow state ${size} bytes, over the ${STATE_LIMIT_BYTES}-byte budget of Step Functions' 256 KB limit`);
  }
}

function requireAdmitted(state: WorkflowState): void {
  if (state.incident?.status !== 'received' || !state.incident.target) throw new InvalidStateError('no received incident with a target');
  if (state.admission?.admitted !== true) throw new InvalidStateError('the incident was not admitted');
}

/**
 * Act runs in mode `auto`, or in mode `approve` with an approval of this very plan: its hash
 * must be the hash of the plan in the state, so an approval cannot be carried over to another plan.
 * A veto-window grant (nobody answered in time) counts only for a runbook whose spec says
 * `onTimeout: 'act'`: a forged or stale one never acts for another runbook.
 */
function requireActingMode(state: WorkflowState): void {
  const mode = state.incident!.mode;
  if (mode === 'auto') return;
  if (mode !== 'approve') throw new InvalidStateError(`refusing to act in mode "${mode}"`);
  if (state.approval?.approved !== true) throw new InvalidStateError('refusing to act in mode "approve" without an approval');
  const by = (state.approval as { by?: unknown }).by;
  if (by !== undefined && by !== 'veto-window') throw new InvalidStateError(`refusing to act: unknown approval kind "${String(by)}"`);
  if (by === 'veto-window' && state.runbook.approval?.onTimeout !== 'act') {
    throw new InvalidStateError(`refusing to act on an expired approval: runbook ${state.runbook.name} does not act when nobody answers (approval.onTimeout is not "act")`);
  }
  if (!state.plan || state.approval.planHash !== planHash(state)) {
    throw new InvalidStateError(`refusing to act: the approval is of plan ${state.approval.planHash}, not of the plan in the state`);
  }
}

function nextVerifyState(state: WorkflowState, result: CheckResult): VerifyState {
  const { maxChecks, requiredConsecutiveSuccesses } = state.runbook.verification;
  const batch = state.act?.batch ?? 0;
  const previous = state.verify && state.verify.batch === batch ? state.verify : undefined;
  const checks = (previous?.checks ?? 0) + 1;
  const consecutiveSuccesses = result.verdict === 'success' ? (previous?.consecutiveSuccesses ?? 0) + 1 : 0;
  const base = { batch, checks, consecutiveSuccesses, lastVerdict: result.verdict, lastReadings: result.readings, report: result.report, briefing: result.briefing };
  if (consecutiveSuccesses >= requiredConsecutiveSuccesses) return { ...base, status: 'succeeded', reason: result.reason };
  if (result.verdict === 'failure') return { ...base, status: 'failed', reason: result.reason };
  if (checks >= maxChecks) {
    const why = result.verdict === 'inconclusive' ? 'verification inconclusive' : 'not verified';
    return { ...base, status: 'failed', reason: `${why} after ${checks} check(s): ${result.reason}` };
  }
  return { ...base, status: 'pending', reason: result.reason };
}

/** Calls in a few words each, for error messages that must say what was done. */
export function describeCalls(calls: CallRecord[]): string {
  return calls.map((c) => `${c.operation} ${c.target}: ${c.outcome}${c.requestId ? ` (request ${c.requestId})` : ''}`).join('; ') || 'no call';
}

/**
 * Admits the resources an action changes besides its target (a fleet's instances), like Admit
 * admits the target: their leases and attempt budgets. A denial turns the plan into an
 * escalation (or, observing, a note); what was taken is released on any failure.
 */
async function admitCoveredResources(state: WorkflowState, plan: Plan, actor: string): Promise<Plan> {
  const resources = [...new Set(plan.resources ?? [])].filter((arn) => arn !== state.incident!.target!.arn);
  if (plan.decision !== 'act' || resources.length === 0) return plan;
  // Mode approve takes real leases like auto: once approved it acts on these resources.
  const observing = state.incident!.mode === 'observe';
  const admitter = new Admitter(state, platformSettings().limiterTable, observing);
  let denial: Denial | undefined;
  try {
    for (const arn of resources) {
      denial = (await admitter.resourceLease(arn)) ?? (await admitter.budget(arn));
      if (denial) break;
    }
    if (denial) await admitter.releaseAll();
  } catch (error) {
    await admitter.releaseAll().catch(() => undefined);
    throw error;
  }
  if (!denial) return { ...plan, leases: [...admitter.leases], epochs: { ...admitter.epochs } };
  countDenial(state.runbook.name, denial.category);
  await record(state, 'denied', actor, { stage: 'plan', category: denial.category, reason: denial.reason, readings: admitter.readings, resources });
  if (observing) return { ...plan, reason: `${plan.reason} (a real run would be denied: ${denial.reason})` };
  return { ...plan, decision: 'escalate', reason: `not admitted: ${denial.reason}`, summary: 'nothing was done: a resource the action covers is not admitted' };
}

/** Waits (bounded) for a concurrent attempt of this batch to settle and takes its outcome; never acts itself. */
async function outcomeOfOtherAttempt(state: WorkflowState, batch: number, first: ActClaim, context?: Context): Promise<ActClaim> {
  const table = platformSettings().limiterTable;
  const budget = Math.max(0, Math.min(CONCURRENT_ATTEMPT_WAIT_MS, (context?.getRemainingTimeInMillis?.() ?? CONCURRENT_ATTEMPT_WAIT_MS) - 5000));
  let claim = first;
  // Counted in polls, not read from the clock: simulated clocks do not move while a step runs.
  for (let poll = 0; claim.state === 'acting' && poll < budget / CONCURRENT_ATTEMPT_POLL_MS; poll++) {
    await new Promise((resolve) => setTimeout(resolve, CONCURRENT_ATTEMPT_POLL_MS));
    claim = (await readActClaim(table, state.incident!.incidentId, batch)) ?? claim;
  }
  return claim;
}

/** The `acted` result of a batch as the ledger holds it, if it holds it whole. */
async function recordedResult(state: WorkflowState, batch: number): Promise<ActResult | undefined> {
  const entries = await readIncident(platformSettings().ledgerTable, state.incident!.incidentId);
  for (const entry of entries) {
    if (entry.phase !== 'acted') continue;
    const result = (JSON.parse(entry.detail) as { result?: ActResult }).result;
    if (result?.batch === batch && Array.isArray(result.calls)) return result;
  }
  return undefined;
}

/**
 * One batch of the action, at most once: claim the batch atomically, record `acting`, make the
 * calls through the gate, record `acted` (or `denied` / `act-failed` with every call made so
 * far). A repeated invocation for a batch another attempt claimed takes that attempt's result,
 * or fails without acting.
 */
async function actOnce(steps: RunbookSteps, state: WorkflowState, actor: string, context?: Context): Promise<ActResult> {
  const table = platformSettings().limiterTable;
  const incidentId = state.incident!.incidentId;
  const batch = (state.act?.batch ?? -1) + 1;
  const owner = randomUUID();
  let claim = await claimAct(table, incidentId, batch, owner);
  for (let round = 0; !claim.claimed; round++) {
    const other = await outcomeOfOtherAttempt(state, batch, claim.existing, context);
    if (other.state === 'acted') return other.result as ActResult;
    // The owner may have recorded its result in the ledger and failed to settle the claim.
    const recorded = other.state === 'acting' ? await recordedResult(state, batch) : undefined;
    if (recorded) return recorded;
    if (other.state === 'refused' && round < 3) {
      claim = await claimAct(table, incidentId, batch, owner);
      continue;
    }
    const why = other.state === 'acting'
      ? `another attempt (${other.owner}) has been acting on batch ${batch} since ${other.claimedAt} and has not finished`
      : `an earlier attempt at batch ${batch} ended ${other.state}${other.error ? `: ${other.error}` : ''}`;
    throw new ActOutcomeUnknownError(`${why}; not acting twice`);
  }
  const { attempt } = claim;
  const planned = (state.plan!.plannedCalls ?? []).filter((c) => c.batch === batch);
  try {
    await record(state, 'acting', actor, { batch, attempt, plan: state.plan!.summary, planned });
  } catch (error) {
    await settleAct(table, incidentId, batch, owner, { state: 'refused', attempt, error: `acting not recorded: ${describeError(error)}` }).catch(() => undefined);
    throw error;
  }
  const gate = new MutationGate(state, 'act');
  let output: ActOutput;
  try {
    output = await steps.act(state, gate);
  } catch (error) {
    const tookEffect = gate.anyMayHaveTakenEffect;
    await settleAct(table, incidentId, batch, owner, { state: tookEffect ? 'failed' : 'refused', attempt, error: describeError(error) })
      .catch((e: unknown) => logger.warn('act claim not settled', { error: describeError(e) }));
    const denied = GUARD_DENIALS.has((error as Error)?.name);
    const category = GUARD_DENIAL_CATEGORIES[(error as Error)?.name];
    // A refusal at act time is a denial like Admit's: the same category in the ledger and the Denials metric.
    if (denied) countDenial(state.runbook.name, category);
    await record(state, denied ? 'denied' : 'act-failed', actor, {
      batch, ...(denied ? { stage: 'act', category, reason: (error as Error).message } : { error: describeError(error) }), calls: gate.calls, notExecuted: !tookEffect,
    });
    if (!tookEffect) throw error;
    const facts = `batch ${batch}: ${describeCalls(gate.calls)}`;
    if (denied) {
      // The guard's own error (its headline) with what was already done.
      (error as Error).message = `${(error as Error).message}, after part of the batch was done (${facts})`;
      throw error;
    }
    if (gate.calls.some((c) => c.outcome === 'unknown')) throw new ActOutcomeUnknownError(`a call's outcome is unknown (${facts}); not retrying`);
    throw new ActIncompleteError(`${describeError(error)} after part of the batch was done (${facts}); not retrying`);
  }
  const result: ActResult = { ...output, calls: gate.calls };
  await settleAct(table, incidentId, batch, owner, { state: 'acted', attempt, result })
    .catch((e: unknown) => logger.warn('act claim not settled', { error: describeError(e) }));
  countFor(state.runbook.name, 'Actions');
  try {
    await record(state, 'acted', actor, { result });
  } catch (error) {
    throw new MedicError('Medic.ActUnrecorded', `the batch was done (${describeCalls(result.calls)}) but the ledger entry "acted" could not be written: ${describeError(error)}`);
  }
  assertFits(state, 'act', result);
  return result;
}

/** Undoes the action through the gate; a transient failure is retried by the state machine, every attempt recorded. */
async function rollBack(steps: RunbookSteps, state: WorkflowState, actor: string): Promise<RollbackResult> {
  if (!steps.rollback) throw new InvalidStateError(`runbook ${state.runbook.kind} has no rollback`);
  const gate = new MutationGate(state, 'rollback');
  let output: RollbackOutput;
  try {
    output = await steps.rollback(state, gate);
  } catch (error) {
    const retryable = !GUARD_DENIALS.has((error as Error)?.name) && isTransient(error);
    await record(state, 'rollback-failed', actor, { error: describeError(error), calls: gate.calls, notes: gate.notes, retryable })
      .catch((e: unknown) => logger.error('rollback failure not recorded', { error: describeError(e) }));
    if (retryable) throw new RollbackRetryableError(`rollback failed with ${describeError(error)} (${describeCalls(gate.calls)}); retrying`);
    throw error;
  }
  const result: RollbackResult = { ...output, calls: gate.calls, ...(gate.notes.length ? { notes: gate.notes } : {}) };
  await record(state, 'rolled-back', actor, result);
  return result;
}

/** Builds the Lambda handler for a runbook: step dispatch plus the safety rules and ledger entries around each step. */
export function runbookHandler(steps: RunbookSteps) {
  return async (request: StepRequest, context?: Context): Promise<Plan | ActResult | VerifyState | RollbackResult | RecheckResult> => {
    const { step, state } = request ?? ({} as StepRequest);
    if (!state?.runbook) throw new InvalidStateError('the request has no workflow state');
    const actor = actorName(context);
    logger.appendKeys({ incidentId: state.incident?.incidentId, runbook: state.runbook.name, step });
    requireAdmitted(state);
    switch (step) {
      case 'plan': {
        const plan = await admitCoveredResources(state, (await supersededTrigger(state)) ?? (await steps.plan(state)), actor);
        const wouldAct = plan.decision === 'act' && state.incident!.mode !== 'auto';
        try {
          assertFits(state, 'plan', plan);
          await record(state, 'planned', actor, { ...plan, ...(wouldAct ? { wouldAct: plan.summary } : {}) });
        } catch (error) {
          // The covered resources' leases must not outlive a failed step.
          await releaseLeases(platformSettings().limiterTable, plan.leases ?? [], state.incident!.incidentId).catch(() => undefined);
          throw error;
        }
        return plan;
      }
      case 'act': {
        requireActingMode(state);
        if (state.plan?.decision !== 'act') throw new InvalidStateError('refusing to act without a plan that decided to act');
        return actOnce(steps, state, actor, context);
      }
      case 'check': {
        if (!state.act) throw new InvalidStateError('nothing was acted on, so nothing can be verified');
        const result = await steps.check(state);
        const verify = nextVerifyState(state, result);
        assertFits(state, 'verify', verify);
        await record(state, 'checked', actor, { check: verify.checks, batch: verify.batch, verdict: result.verdict, reason: result.reason, readings: result.readings });
        if (verify.status === 'succeeded') await record(state, 'verified', actor, { batch: verify.batch, reason: verify.reason, checks: verify.checks });
        if (verify.status === 'failed') {
          countFor(state.runbook.name, 'VerificationsFailed');
          await record(state, 'verification-failed', actor, { batch: verify.batch, reason: verify.reason, checks: verify.checks, readings: result.readings });
        }
        return verify;
      }
      case 'rollback':
        return rollBack(steps, state, actor);
      case 'recheck':
        return recheckPlan(steps.plan, state, actor);
      default:
        throw new InvalidStateError(`unknown step "${String(step)}"`);
    }
  };
}
