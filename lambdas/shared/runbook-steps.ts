import type { Context } from 'aws-lambda';
import { ActOutcomeUnknownError, describeError, InvalidStateError, KillSwitchEngagedError } from './errors';
import { readKillSwitch } from './guards';
import { readIncident } from './ledger';
import { actorName, countFor, logger } from './observability';
import { record } from './record';
import { platformSettings } from './settings';
import type { ActResult, Briefing, CheckVerdict, Plan, Report, RollbackResult, VerifyState, WorkflowState } from './types';

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

/**
 * What a runbook contributes to the generic workflow. The framework around it enforces the
 * safety rules, so a runbook's code only talks to its service.
 */
export interface RunbookSteps {
  /** Read-only: decide whether and how to act. */
  plan(state: WorkflowState): Promise<Plan>;
  /** The mutation. Called only in `auto` mode, after admission, with the kill switch re-checked. */
  act(state: WorkflowState): Promise<ActResult>;
  /** Read-only: one verification reading. */
  check(state: WorkflowState): Promise<CheckResult>;
  /** Undo `act`, for reversible runbooks. Absent means the action cannot be undone. */
  rollback?(state: WorkflowState): Promise<RollbackResult>;
}

export type StepName = 'plan' | 'act' | 'check' | 'rollback';

export interface StepRequest {
  readonly step: StepName;
  readonly state: WorkflowState;
}

function requireAdmitted(state: WorkflowState): void {
  if (state.incident?.status !== 'received' || !state.incident.target) throw new InvalidStateError('no received incident with a target');
  if (state.admission?.admitted !== true) throw new InvalidStateError('the incident was not admitted');
}

/** Re-read right before a mutation, so flipping the kill switch stops in-flight work. */
async function assertKillSwitchOff(state: WorkflowState, actor: string, stage: string): Promise<void> {
  let reason: string | undefined;
  try {
    const killSwitch = await readKillSwitch(state.runbook);
    if (killSwitch.engaged) reason = killSwitch.reason;
  } catch (error) {
    reason = `kill switch could not be read (failing closed): ${describeError(error)}`;
  }
  if (reason === undefined) return;
  await record(state, 'denied', actor, { stage, reason });
  throw new KillSwitchEngagedError(`${stage} not performed: ${reason}`);
}

/** Errors that mean the service refused the call, so the mutation did not happen. */
const NOT_EXECUTED_ERRORS = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'ServiceUnavailable']);

type PriorAttempt = { kind: 'none' } | { kind: 'done'; result: ActResult } | { kind: 'unknown' };

/**
 * What earlier attempts of this Act batch left in the ledger. Act writes `acting` before the
 * mutation and `acted` (or `act-failed`) after it, so a retried step can tell "done" (reuse the
 * result), "refused by the service" (safe to try again) and "may have happened" (must not act
 * twice).
 */
async function priorAttempt(state: WorkflowState, batch: number): Promise<PriorAttempt> {
  const entries = await readIncident(platformSettings().ledgerTable, state.incident!.incidentId);
  let attempt: PriorAttempt = { kind: 'none' };
  for (const entry of entries) {
    if (entry.phase !== 'acting' && entry.phase !== 'acted' && entry.phase !== 'act-failed') continue;
    const detail = JSON.parse(entry.detail) as { batch?: number; result?: ActResult; notExecuted?: boolean };
    const entryBatch = entry.phase === 'acted' ? detail.result?.batch : detail.batch;
    if (entryBatch !== batch) continue;
    if (entry.phase === 'acted') return { kind: 'done', result: detail.result! };
    attempt = entry.phase === 'acting' || !detail.notExecuted ? { kind: 'unknown' } : { kind: 'none' };
  }
  return attempt;
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

/** Builds the Lambda handler for a runbook: step dispatch plus the safety rules and ledger entries around each step. */
export function runbookHandler(steps: RunbookSteps) {
  return async (request: StepRequest, context?: Context): Promise<Plan | ActResult | VerifyState | RollbackResult> => {
    const { step, state } = request ?? ({} as StepRequest);
    if (!state?.runbook) throw new InvalidStateError('the request has no workflow state');
    const actor = actorName(context);
    logger.appendKeys({ incidentId: state.incident?.incidentId, runbook: state.runbook.name, step });
    requireAdmitted(state);
    switch (step) {
      case 'plan': {
        const plan = await steps.plan(state);
        const wouldAct = plan.decision === 'act' && state.incident!.mode !== 'auto';
        await record(state, 'planned', actor, { ...plan, ...(wouldAct ? { wouldAct: plan.summary } : {}) });
        return plan;
      }
      case 'act': {
        if (state.incident!.mode !== 'auto') throw new InvalidStateError(`refusing to act in mode "${state.incident!.mode}"`);
        if (state.plan?.decision !== 'act') throw new InvalidStateError('refusing to act without a plan that decided to act');
        const batch = (state.act?.batch ?? -1) + 1;
        const prior = await priorAttempt(state, batch);
        if (prior.kind === 'done') return prior.result;
        if (prior.kind === 'unknown') {
          throw new ActOutcomeUnknownError(`an earlier attempt at batch ${batch} may have acted and its result was not recorded; not acting twice`);
        }
        await assertKillSwitchOff(state, actor, 'act');
        await record(state, 'acting', actor, { batch, plan: state.plan.summary });
        let result: ActResult;
        try {
          result = await steps.act(state);
        } catch (error) {
          const name = (error as Error)?.name;
          await record(state, 'act-failed', actor, { batch, error: describeError(error), notExecuted: NOT_EXECUTED_ERRORS.has(name) });
          throw error;
        }
        countFor(state.runbook.name, 'Actions');
        await record(state, 'acted', actor, { result });
        return result;
      }
      case 'check': {
        if (!state.act) throw new InvalidStateError('nothing was acted on, so nothing can be verified');
        const result = await steps.check(state);
        const verify = nextVerifyState(state, result);
        await record(state, 'checked', actor, { check: verify.checks, batch: verify.batch, verdict: result.verdict, reason: result.reason, readings: result.readings });
        if (verify.status === 'succeeded') await record(state, 'verified', actor, { batch: verify.batch, reason: verify.reason, checks: verify.checks });
        if (verify.status === 'failed') {
          countFor(state.runbook.name, 'VerificationsFailed');
          await record(state, 'verification-failed', actor, { batch: verify.batch, reason: verify.reason, checks: verify.checks, readings: result.readings });
        }
        return verify;
      }
      case 'rollback': {
        if (!steps.rollback) throw new InvalidStateError(`runbook ${state.runbook.kind} has no rollback`);
        await assertKillSwitchOff(state, actor, 'rollback');
        const result = await steps.rollback(state);
        await record(state, 'rolled-back', actor, result);
        return result;
      }
      default:
        throw new InvalidStateError(`unknown step "${String(step)}"`);
    }
  };
}
