import { composeReport, outcomeOf, reportOf } from '../../lambdas/finish/index';
import type { ActResult, Mode, Plan, PlanDecision, Report, RunbookSpec, VerifyState, WorkflowState } from '../../lambdas/shared/types';
import { ecsRunbookSpec, ecsTargetSpec, executionInfo, workflowState } from '../support/fixtures';
import { alarmArn } from '../support/synth';

// ---- builders -------------------------------------------------------------------------------

const RUNBOOK: RunbookSpec = ecsRunbookSpec({
  name: 'worker-batches',
  alarmArns: [alarmArn('prod-worker-stuck')],
  target: ecsTargetSpec([{ ClusterName: 'prod', ServiceName: 'worker' }]),
  verification: { initialDelaySeconds: 30, intervalSeconds: 15, maxChecks: 3, requiredConsecutiveSuccesses: 1 },
  options: { strategy: 'stopTasks', maxStopPercent: 25 },
});

const plan = (decision: PlanDecision): Plan => ({ decision, reason: `reason for ${decision}`, summary: 'StopTask on 8 task(s) of prod/worker in 4 batch(es) of at most 2', details: {} });
const act = (batch: number, moreBatches = false): ActResult =>
  ({ summary: `stopped batch ${batch + 1}/4 (2 task(s)) of prod/worker`, calls: [], batch, moreBatches, details: {} });
const verify = (status: VerifyState['status'], batch: number): VerifyState =>
  ({ status, batch, checks: 1, consecutiveSuccesses: status === 'succeeded' ? 1 : 0, lastVerdict: status === 'succeeded' ? 'success' : 'pending', lastReadings: {}, reason: `verify ${status}` });

function state(parts: { mode?: Mode; plan?: Plan; act?: ActResult; verify?: VerifyState }): WorkflowState {
  return workflowState({
    mode: parts.mode,
    runbook: RUNBOOK,
    execution: executionInfo('run-1', 'medic-worker-batches'),
    incident: { incidentId: 'worker-batches-20261122T031722Z-0123456789ab', status: 'received', runbook: RUNBOOK.name, mode: 'auto' },
    plan: parts.plan,
    act: parts.act,
    verify: parts.verify,
  });
}

function expectInvalidState(s: WorkflowState, message: RegExp): void {
  let thrown: unknown;
  try {
    outcomeOf(s);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(Error);
  expect((thrown as Error).name).toBe('Medic.InvalidState');
  expect((thrown as Error).message).toMatch(message);
}

// ---- tests ----------------------------------------------------------------------------------

describe('outcomeOf', () => {
  test('resolved: a succeeded verification of the last batch', () => {
    const result = outcomeOf(state({ plan: plan('act'), act: act(3), verify: verify('succeeded', 3) }));
    expect(result).toEqual({ outcome: 'resolved', phase: 'completed', summary: `${act(3).summary}; verified: verify succeeded` });
  });

  test('resolved for a single-step action (batch 0)', () => {
    expect(outcomeOf(state({ plan: plan('act'), act: act(0), verify: verify('succeeded', 0) })).outcome).toBe('resolved');
  });

  test('an action without a verification is not resolved', () => {
    expectInvalidState(state({ plan: plan('act'), act: act(3) }), /without a succeeded verification/);
  });

  test('a failed verification is not resolved', () => {
    expectInvalidState(state({ plan: plan('act'), act: act(3), verify: verify('failed', 3) }), /without a succeeded verification/);
  });

  test('a still-pending verification is not resolved', () => {
    expectInvalidState(state({ plan: plan('act'), act: act(3), verify: verify('pending', 3) }), /without a succeeded verification/);
  });

  test('batches left to act on are not resolved, even with this batch verified', () => {
    expectInvalidState(state({ plan: plan('act'), act: act(2, true), verify: verify('succeeded', 2) }), /batches left/);
  });

  test('a succeeded verification of an earlier batch does not cover the last one', () => {
    expectInvalidState(state({ plan: plan('act'), act: act(3), verify: verify('succeeded', 2) }), /without a succeeded verification/);
  });

  test('auto mode with an act plan but no action is not resolved', () => {
    expectInvalidState(state({ plan: plan('act') }), /without an action/);
  });

  test('observe mode: observed, saying what it would have done', () => {
    const result = outcomeOf(state({ mode: 'observe', plan: plan('act') }));
    expect(result.outcome).toBe('observed');
    expect(result.phase).toBe('completed');
    expect(result.summary).toContain(`would ${plan('act').summary}`);
  });

  test('defer: deferred, with the plan\'s reason', () => {
    expect(outcomeOf(state({ plan: plan('defer') }))).toEqual({ outcome: 'deferred', phase: 'deferred', summary: 'reason for defer' });
  });

  test('noop: no action needed', () => {
    expect(outcomeOf(state({ plan: plan('noop') }))).toMatchObject({ outcome: 'no-action-needed', phase: 'completed' });
  });

  test('a plan that escalates never finishes as a success', () => {
    expectInvalidState(state({ plan: plan('escalate') }), /plan decision "escalate"/);
  });

  test('no plan at all', () => {
    expectInvalidState(state({}), /without a plan/);
  });
});

describe('runbook reports', () => {
  const report: Report = { title: 'RDS failover drill: orders-db', verdict: 'PASSED', figures: { failoverSeconds: 41 }, lines: ['primary moved from eu-west-1a to eu-west-1b'] };

  test('a resolved outcome reports its verification\'s report; an observed one its plan\'s; others none', () => {
    const verified = { ...verify('succeeded', 0), report };
    expect(reportOf(state({ plan: plan('act'), act: act(0), verify: verified }), 'resolved')).toEqual(report);
    expect(reportOf(state({ mode: 'observe', plan: { ...plan('act'), report: { ...report, verdict: 'DRY RUN' } } }), 'observed')?.verdict).toBe('DRY RUN');
    expect(reportOf(state({ plan: plan('defer'), verify: verified }), 'deferred')).toBeUndefined();
  });

  test('the report message names the verdict, the facts, the figures and where to look', () => {
    const message = composeReport(state({ plan: plan('act') }), report, 'ledger-table');
    expect(message.subject).toBe('[medic] RDS failover drill: orders-db: PASSED');
    expect(message.body).toContain('primary moved from eu-west-1a to eu-west-1b');
    expect(message.body).toContain('"failoverSeconds":41');
    expect(message.body).toContain('ledger table ledger-table');
  });
});
