import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { runbookLeaseKey, targetLeaseKey } from '../../lambdas/admit/index';
import { handler } from '../../lambdas/escalate/index';
import { handler as complete } from '../../lambdas/finish/index';
import { acquireLease } from '../../lambdas/shared/limiter';
import { actionRecord } from '../../lambdas/escalate/action-record';
import { composeEscalation } from '../../lambdas/escalate/message';
import { dynamo } from '../../lambdas/shared/clients';
import { readIncident, type LedgerEntry } from '../../lambdas/shared/ledger';
import { LocalDynamo } from '../../lib/local/dynalite';
import { freshTables } from '../support/tables';
import type { ActResult, CallRecord, Incident, Plan, VerifyState, WorkflowState } from '../../lambdas/shared/types';
import {
  ALARM, INCIDENT_ID, alarmTrigger, ecsRunbookSpec, ecsTarget, executionInfo, receivedIncident, workflowState,
} from '../support/fixtures';
import { ACCOUNT, REGION, alarmEvent } from '../support/synth';

const LEDGER = 'medic-ledger';
const EXECUTION_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:execution:medic-api-restart:${INCIDENT_ID}`;
const SERVICE_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/api`;

// ---- builders -------------------------------------------------------------------------------

const TRIGGER = alarmTrigger({ reason: 'Threshold Crossed: 12 > 5' });

function state(overrides: Partial<WorkflowState> = {}): WorkflowState {
  return workflowState({ execution: executionInfo(INCIDENT_ID), incident: receivedIncident({ trigger: TRIGGER }), ...overrides });
}

const ACT_PLAN: Plan = { decision: 'act', reason: 'service is stable and its alarm fired', summary: 'UpdateService forceNewDeployment on prod/api', details: {} };
const UPDATE: CallRecord = {
  service: 'ecs', operation: 'UpdateService', target: 'prod/api', parameters: { cluster: 'prod', service: 'api', forceNewDeployment: true },
  outcome: 'succeeded', at: '2026-11-22T03:18:00.000Z', requestId: 'a1b2c3d4-req',
};
const ACTED: ActResult = {
  summary: 'forced a new deployment of prod/api (ecs-svc/2)', calls: [UPDATE], batch: 0, moreBatches: false, details: { deploymentId: 'ecs-svc/2' },
};
const FAILED_VERIFY: VerifyState = {
  status: 'failed', batch: 0, checks: 4, consecutiveSuccesses: 0, lastVerdict: 'pending', lastReadings: {},
  reason: 'not verified after 4 check(s): service not steady: 3/4 tasks running, 1 pending',
};

/** A ledger entry of the default incident (only the fields the page reads matter). */
const entry = (seq: number, phase: LedgerEntry['phase'], detail: unknown): LedgerEntry => ({
  pk: `INCIDENT#${INCIDENT_ID}`, sk: `${String(seq).padStart(6, '0')}#${phase}`, incidentId: INCIDENT_ID, seq, phase, at: '2026-11-22T03:18:00.000Z', day: '2026-11-22',
  runbook: 'api-restart', actor: 'test', detail: JSON.stringify(detail), prevHash: '', hash: '',
});

/** The page for a state, with what the ledger holds (default: nothing, so nothing was done). */
const compose = (s: WorkflowState, entries: LedgerEntry[] = []) => composeEscalation(s, LEDGER, actionRecord(entries, s));

// ---- composeEscalation ----------------------------------------------------------------------

describe('composeEscalation', () => {
  test('names the alarm, the target, what medic saw and what the ledger proves it did', () => {
    const message = compose(state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY }), [entry(3, 'acting', { batch: 0 }), entry(4, 'acted', { result: ACTED })]);
    expect(message.body).toContain(`alarm ${ALARM} went to ALARM at 2026-11-22T03:17:22.318Z: Threshold Crossed: 12 > 5`);
    expect(message.body).toContain(`TARGET: ecs-service prod/api (${SERVICE_ARN})`);
    expect(message.body).toContain(`WHAT MEDIC SAW: ${ACT_PLAN.reason}; plan: ${ACT_PLAN.summary}`);
    expect(message.body).toContain('WHAT MEDIC DID:\n  SUCCEEDED: UpdateService prod/api (request id a1b2c3d4-req)');
    expect(message.body).toContain('VERIFICATION: failed after 4 check(s)');
    expect(message.subject).toBe('[medic] api-restart: verification failed (prod/api)');
  });

  test('says "nothing" when no mutating call was made', () => {
    const message = compose(state({ plan: { ...ACT_PLAN, decision: 'escalate', reason: 'service prod/api is DRAINING' } }));
    expect(message.body).toContain('WHAT MEDIC DID: nothing');
  });

  test('tells how to look the incident up: ledger query with the incident id, execution id and console link', () => {
    const { body } = compose(state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY }));
    expect(body).toContain(`aws dynamodb query --table-name ${LEDGER}`);
    expect(body).toContain(`"INCIDENT#${INCIDENT_ID}"`);
    expect(body).toContain(`execution ${EXECUTION_ARN}`);
    expect(body).toContain(`https://${REGION}.console.aws.amazon.com/states/home?region=${REGION}#/v2/executions/details/${EXECUTION_ARN}`);
  });

  test('a rejected incident', () => {
    const rejected: Incident = {
      incidentId: 'api-restart-rejected-run-7', status: 'rejected', runbook: 'api-restart', mode: 'auto',
      reason: 'alarm arn:aws:cloudwatch:eu-west-1:111111111111:alarm:other is not attached to runbook api-restart',
    };
    const message = compose(state({ incident: rejected, admission: undefined }));
    expect(message.headline).toBe('event rejected');
    expect(message.diagnosis).toBe(rejected.reason);
    expect(message.body).toContain(`WHAT FAILED: ${rejected.reason}`);
    expect(message.body).toContain('WHAT FIRED: an event that could not be read as an incident');
    expect(message.body).toContain('TARGET: unknown target');
    expect(message.body).toContain('WHAT MEDIC DID: nothing');
    expect(message.body).toContain('INCIDENT#api-restart-rejected-run-7');
    expect(message.subject).toContain('(no target)');
  });

  test('a denied admission', () => {
    const reason = 'prod/api was admitted 3 times in the last 3600 s (limit 3): needs a human';
    const message = compose(state({ admission: { admitted: false, reason, leases: [] } }));
    expect(message.headline).toBe('needs a human (not admitted)');
    expect(message.diagnosis).toBe(reason);
    expect(message.body).toContain(`WHAT FAILED: ${reason}`);
    expect(message.body).toContain('WHAT MEDIC SAW: no plan was made');
    expect(message.body).toContain('WHAT MEDIC DID: nothing');
  });

  test('a plan that escalates', () => {
    const plan: Plan = { decision: 'escalate', reason: 'stopping even one of 3 task(s) exceeds the cap of 25% at once', summary: 'no batch fits the blast-radius cap', details: {} };
    const message = compose(state({ plan }));
    expect(message.headline).toBe('needs a human (runbook cannot act)');
    expect(message.diagnosis).toBe(plan.reason);
    expect(message.body).toContain('WHAT MEDIC DID: nothing');
  });

  test('verification failed, action not reversible', () => {
    const message = compose(state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY }));
    expect(message.headline).toBe('verification failed');
    expect(message.diagnosis).toContain(FAILED_VERIFY.reason);
    expect(message.diagnosis).toContain('not reversible; nothing was rolled back');
  });

  test('verification failed, rolled back', () => {
    const rollback = { status: 'rolled-back' as const, summary: 'restored HealthCheckType EC2, grace 300 s', calls: [] };
    const message = compose(state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY, rollback }));
    expect(message.headline).toBe('verification failed');
    expect(message.diagnosis).toContain(FAILED_VERIFY.reason);
    expect(message.diagnosis).toContain(`Rollback: ${rollback.summary}`);
    expect(message.diagnosis).not.toContain('not reversible');
  });

  test('a step error', () => {
    const message = compose(state({ plan: ACT_PLAN, error: { Error: 'ECS.AccessDeniedException', Cause: 'not authorized to perform ecs:UpdateService' } }));
    expect(message.headline).toBe('a step failed');
    expect(message.diagnosis).toBe('ECS.AccessDeniedException: not authorized to perform ecs:UpdateService');
    expect(message.body).toContain('WHAT MEDIC DID: nothing');
  });

  test('a step error without a cause', () => {
    expect(compose(state({ error: { Error: 'States.Timeout' } })).diagnosis).toBe('States.Timeout: no cause given');
  });

  test('the kill switch', () => {
    const cause = 'act not performed: kill switch /medic/kill-switch is "on"';
    const message = compose(state({ plan: ACT_PLAN, error: { Error: 'Medic.KillSwitchEngaged', Cause: cause } }));
    expect(message.headline).toBe('stopped by the kill switch');
    expect(message.diagnosis).toBe(cause);
    expect(message.subject).toContain('stopped by the kill switch');
  });

  describe('each failure category has its own headline, and the cause (or what it means without one)', () => {
    const lambdaCause = (message: string) => JSON.stringify({ errorType: 'X', errorMessage: message, trace: ['at handler (index.mjs:1:1)'] });
    test.each([
      ['Medic.ChangeFrozen', 'stopped by a change freeze'],
      ['Medic.LeaseLost', 'stopped: the target is no longer this incident\'s'],
      ['Medic.ActOutcomeUnknown', 'action outcome unknown'],
      ['Medic.ActIncomplete', 'action stopped part-way'],
      ['Medic.KillSwitchEngaged', 'stopped by the kill switch'],
    ])('%s', (name, headline) => {
      // Lambda's JSON cause is read down to its message; the stack trace is not paged.
      const withCause = compose(state({ plan: ACT_PLAN, error: { Error: name, Cause: lambdaCause('calendar prod-freeze is CLOSED') } }));
      expect({ headline: withCause.headline, diagnosis: withCause.diagnosis }).toEqual({ headline, diagnosis: 'calendar prod-freeze is CLOSED' });
      expect(withCause.body).toContain(`medic runbook api-restart: ${headline}`);
      expect(withCause.body).not.toContain('index.mjs');
      const bare = compose(state({ plan: ACT_PLAN, error: { Error: name } }));
      expect({ headline: bare.headline, diagnosis: bare.diagnosis }).toEqual({ headline, diagnosis: name });
    });

    test('the approval gate: expired and drifted say nothing was done, with or without a cause', () => {
      expect(compose(state({ error: { Error: 'Medic.ApprovalExpired' } }))).toMatchObject({ headline: 'APPROVAL EXPIRED: not acted', diagnosis: 'no approval before the deadline; nothing was done' });
      expect(compose(state({ error: { Error: 'Medic.ApprovalExpired', Cause: 'no approval by 03:40' } }))).toMatchObject({ diagnosis: 'no approval by 03:40' });
      expect(compose(state({ error: { Error: 'Medic.PlanDrifted' } }))).toMatchObject({
        headline: 'plan changed after approval: not acted', diagnosis: 'the plan made again before acting is not the one approved; nothing was done',
      });
      expect(compose(state({ error: { Error: 'Medic.PlanDrifted', Cause: 'hash abc is not def' } }))).toMatchObject({ diagnosis: 'hash abc is not def' });
    });

    test('a rejection names the approver and their reason; a long reason is cut in the headline only; a cause that is not JSON is the reason', () => {
      const cause = JSON.stringify({ principal: 'arn:aws:iam::111111111111:role/on-call', reason: 'not during the sale' });
      expect(compose(state({ error: { Error: 'Medic.ApprovalRejected', Cause: cause } }))).toMatchObject({
        headline: 'REJECTED by arn:aws:iam::111111111111:role/on-call: not during the sale; not acted',
        diagnosis: 'the plan was rejected by arn:aws:iam::111111111111:role/on-call (not during the sale); nothing was done',
      });
      const long = 'x'.repeat(250);
      const cut = compose(state({ error: { Error: 'Medic.ApprovalRejected', Cause: JSON.stringify({ principal: 'p', reason: long }) } }));
      expect(cut.headline).toBe(`REJECTED by p: ${'x'.repeat(200)}...; not acted`);
      expect(cut.diagnosis).toBe(`the plan was rejected by p (${long}); nothing was done`);
      const exactly200 = compose(state({ error: { Error: 'Medic.ApprovalRejected', Cause: JSON.stringify({ principal: 'p', reason: 'y'.repeat(200) }) } }));
      expect(exactly200.headline).toBe(`REJECTED by p: ${'y'.repeat(200)}; not acted`);
      expect(compose(state({ error: { Error: 'Medic.ApprovalRejected', Cause: 'plain words' } }))).toMatchObject({ headline: 'REJECTED by an approver: plain words; not acted' });
      expect(compose(state({ error: { Error: 'Medic.ApprovalRejected', Cause: JSON.stringify({ principal: '', reason: '' }) } }))).toMatchObject({
        headline: 'REJECTED by an approver: no reason given; not acted',
      });
      expect(compose(state({ error: { Error: 'Medic.ApprovalRejected' } }))).toMatchObject({ headline: 'REJECTED by an approver: no reason given; not acted' });
    });

    test('without an error: a rejected event or a denial without a reason, and an escalation nothing explains', () => {
      const rejected = { incidentId: 'r-1', status: 'rejected', runbook: 'api-restart', mode: 'auto' } as Incident;
      expect(compose(state({ incident: rejected, admission: undefined }))).toMatchObject({ headline: 'event rejected', diagnosis: 'no reason given' });
      expect(compose(state({ admission: { admitted: false, leases: [] } as never }))).toMatchObject({ headline: 'needs a human (not admitted)', diagnosis: 'denied' });
      expect(compose(state({ admission: { admitted: true, reason: 'all guards passed', leases: [] } }))).toMatchObject({
        headline: 'escalated', diagnosis: 'the workflow escalated without a recorded reason',
      });
    });

    test('a failure after a failed verification is the rollback failing: ROLLBACK FAILED, with the verification\'s reason', () => {
      const message = compose(state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY, error: { Error: 'ECS.ServiceException', Cause: lambdaCause('rollback call failed') } }));
      expect(message.headline).toBe('ROLLBACK FAILED');
      expect(message.diagnosis).toBe(`verification failed (${FAILED_VERIFY.reason}) and the rollback did not complete: ECS.ServiceException: rollback call failed`);
      // The same error before any verification is a plain step failure.
      expect(compose(state({ plan: ACT_PLAN, error: { Error: 'ECS.ServiceException', Cause: 'x' } })).headline).toBe('a step failed');
      // A rollback that completed, then another step failing, is not a failed rollback.
      const rollback = { status: 'rolled-back' as const, summary: 'restored', calls: [] };
      expect(compose(state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY, rollback, error: { Error: 'States.Timeout' } })).headline).toBe('a step failed');
    });
  });

  test('the page\'s lines in order: the mode (the incident\'s, else the runbook\'s), the verification and what it measured, the look-up block', () => {
    const verify: VerifyState = { ...FAILED_VERIFY, lastReadings: { runningCount: 3, desiredCount: 4 } };
    const body = compose(state({ plan: ACT_PLAN, act: ACTED, verify, incident: receivedIncident({ trigger: TRIGGER, mode: 'approve' }) })).body.split('\n');
    expect(body).toContain('MODE: approve');
    expect(body).toContain(`VERIFICATION: failed after 4 check(s): ${FAILED_VERIFY.reason}`);
    expect(body).toContain('MEASURED: {"runningCount":3,"desiredCount":4}');
    const lookUp = body.indexOf('LOOK IT UP:');
    expect(body[lookUp - 1]).toBe('');
    expect(body[lookUp + 1]).toBe(`  incident ${INCIDENT_ID}`);
    // No readings: no MEASURED line; no incident: the runbook's mode and "(no incident)".
    const bare = compose(state({ incident: undefined, verify: FAILED_VERIFY })).body.split('\n');
    expect(bare.some((l) => l.startsWith('MEASURED'))).toBe(false);
    expect(bare).toContain(`MODE: ${ecsRunbookSpec().mode}`);
    expect(bare).toContain('  incident (no incident)');
    expect(bare.some((l) => l.startsWith('ABOUT THE TARGET'))).toBe(false);
    expect(bare.some((l) => l.startsWith('WHAT TO DO'))).toBe(false);
  });

  test('a subject of exactly 100 characters is kept whole; 101 is cut to 97 and "..."', () => {
    const base = compose(state({ error: { Error: 'States.Timeout' } })).subject;
    const pad = (n: number) => compose(state({ error: { Error: 'States.Timeout' }, incident: receivedIncident({ trigger: TRIGGER, target: { ...ecsTarget(), id: 'x'.repeat(n) } }) })).subject;
    const exact = pad(100 - base.length + ecsTarget().id.length);
    expect(exact).toHaveLength(100);
    expect(exact.endsWith('...')).toBe(false);
    const over = pad(101 - base.length + ecsTarget().id.length);
    expect(over).toHaveLength(100);
    expect(over.endsWith('...')).toBe(true);
  });

  test('a runbook\'s briefing: the action right under the headline, the facts in their own block', () => {
    const briefing = { facts: ['days left: 12 (expires 2026-12-07T00:00:00.000Z)', 'used by: arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/web/1'], action: 'Re-import the certificate.' };
    const lines = compose(state({ plan: { decision: 'escalate', reason: 'imported', summary: 'no change', details: {}, briefing } })).body.split('\n');
    expect(lines.slice(0, 4)).toEqual(['medic runbook api-restart: needs a human (runbook cannot act)', '', 'WHAT TO DO: Re-import the certificate.', '']);
    const about = lines.indexOf('ABOUT THE TARGET:');
    expect(about).toBeGreaterThan(lines.findIndex((l) => l.startsWith('WHAT FAILED:')));
    expect(lines.slice(about + 1, about + 3)).toEqual(briefing.facts.map((f) => `  ${f}`));
  });

  test('a failed reading\'s briefing supersedes the plan\'s; without any there is no WHAT TO DO', () => {
    const planBriefing = { facts: ['from the plan'], action: 'plan action' };
    const verify = { ...FAILED_VERIFY, briefing: { facts: ['from the check'], action: 'check action' } };
    const message = compose(state({ plan: { ...ACT_PLAN, briefing: planBriefing }, act: ACTED, verify }));
    expect(message.body).toContain('WHAT TO DO: check action');
    expect(message.body).not.toContain('plan action');
    expect(message.action).toBe('check action');
    expect(compose(state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY })).body).not.toMatch(/WHAT TO DO|ABOUT THE TARGET/);
  });

  test('the subject stays within SNS\'s 100 characters', () => {
    const longName = `restart-${'x'.repeat(80)}`;
    const incident = receivedIncident({ trigger: TRIGGER, target: ecsTarget('c'.repeat(60), 's'.repeat(60)) });
    const message = compose(state({ runbook: ecsRunbookSpec({ name: longName }), incident, plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY }));
    expect(message.subject.length).toBeLessThanOrEqual(100);
    expect(message.subject.startsWith(`[medic] ${longName}`)).toBe(true);
    expect(message.subject.endsWith('...')).toBe(true);
  });
});

// ---- what the ledger proves ------------------------------------------------------------------

describe('WHAT MEDIC DID comes from the ledger, call by call', () => {
  const stop = (task: string, outcome: CallRecord['outcome'], extra: Partial<CallRecord> = {}): CallRecord =>
    ({ service: 'ecs', operation: 'StopTask', target: task, parameters: { cluster: 'prod', task }, outcome, at: '2026-11-22T03:18:00.000Z', ...extra });
  const planned = (batch: number, ...tasks: string[]) => tasks.map((target) => ({ batch, service: 'ecs', operation: 'StopTask', target }));
  const stopPlan: Plan = { ...ACT_PLAN, summary: 'StopTask on 4 tasks in 2 batches', plannedCalls: [...planned(0, 't1', 't2'), ...planned(1, 't3', 't4')] };
  /** The WHAT MEDIC DID block of the page: its line and the indented lines under it. */
  const did = (entries: LedgerEntry[], s = state({ plan: stopPlan, error: { Error: 'Medic.ActOutcomeUnknown', Cause: 'see the ledger' } })): string[] => {
    const lines = compose(s, entries).body.split('\n');
    const start = lines.findIndex((l) => l.startsWith('WHAT MEDIC DID'));
    const end = lines.findIndex((l, i) => i > start && !l.startsWith('  '));
    return lines.slice(start, end);
  };

  test('a batch that failed part-way: what succeeded (with request ids), what is unknown, what was not made', () => {
    const lines = did([
      entry(3, 'acting', { batch: 0, planned: planned(0, 't1', 't2') }),
      entry(4, 'act-failed', { batch: 0, error: 'ServerException: internal error', calls: [stop('t1', 'succeeded', { requestId: 'req-1' }), stop('t2', 'unknown', { error: 'ServerException: internal error' })] }),
    ]);
    expect(lines).toContain('  SUCCEEDED: StopTask t1 (request id req-1)');
    expect(lines).toContain('  OUTCOME UNKNOWN (may have taken effect): StopTask t2: ServerException: internal error');
    expect(lines).toContain('  NOT MADE: StopTask t3; StopTask t4');
    expect(lines.join('\n')).not.toMatch(/nothing/);
  });

  test('a step that recorded "acting" and nothing after it: its calls may have been made', () => {
    const lines = did([entry(3, 'acting', { batch: 0, planned: planned(0, 't1', 't2') })]);
    expect(lines).toContain('  OUTCOME UNKNOWN: batch 1 recorded "acting" and nothing after it; these calls may have been made: StopTask t1; StopTask t2');
    expect(lines).toContain('  NOT MADE: StopTask t3; StopTask t4');
  });

  test('a throttled call is "refused (not executed)", never "outcome unknown"', () => {
    const lines = did([entry(3, 'acting', { batch: 0 }), entry(4, 'act-failed', { batch: 0, calls: [stop('t1', 'succeeded'), stop('t2', 'refused', { error: 'ThrottlingException: Rate exceeded' })] })]);
    expect(lines).toContain('  REFUSED by the service (not executed): StopTask t2: ThrottlingException: Rate exceeded');
    expect(lines.join('\n')).not.toContain('UNKNOWN');
  });

  test('"nothing" only when the ledger proves no call started', () => {
    expect(did([])).toEqual(['WHAT MEDIC DID: nothing: the ledger shows no mutating call was made']);
    const stopped = did([entry(3, 'acting', { batch: 0 }), entry(4, 'denied', { stage: 'act', batch: 0, calls: [stop('t1', 'not-made', { error: 'Medic.KillSwitchEngaged: kill switch is "on"' })] })]);
    expect(stopped[0]).toMatch(/^WHAT MEDIC DID: nothing: the ledger shows no mutating call was made \(StopTask t1: Medic.KillSwitchEngaged/);
  });

  test('the ledger unreadable: never "nothing" for an execution that reached Act', () => {
    const s = state({ plan: stopPlan, act: ACTED, error: { Error: 'Medic.ActOutcomeUnknown', Cause: 'x' } });
    const message = composeEscalation(s, LEDGER, actionRecord(undefined, s, 'ProvisionedThroughputExceededException: slow down'));
    expect(message.body).toMatch(/WHAT MEDIC DID: not known from the ledger: the ledger could not be read \(ProvisionedThroughputExceededException: slow down\); mutating calls may have been made/);
    expect(message.body).not.toContain('WHAT MEDIC DID: nothing');
  });

  describe('with the ledger unreadable, whether the execution could have acted decides the line', () => {
    const MAY = /WHAT MEDIC DID: not known from the ledger: .*mutating calls may have been made/;
    const NOTHING = 'WHAT MEDIC DID: nothing in this execution';
    const page = (s: WorkflowState) => composeEscalation(s, LEDGER, actionRecord(undefined, s, 'ECONNREFUSED')).body;
    const admitted = { admitted: true, reason: 'all guards passed', leases: [] };
    const approveMode = (approval?: WorkflowState['approval']) => state({
      incident: receivedIncident({ trigger: TRIGGER, mode: 'approve' }), admission: admitted, plan: stopPlan, ...(approval ? { approval } : {}),
      error: { Error: 'States.Timeout' },
    });

    test('auto, admitted, a plan to act: may have acted', () => {
      expect(page(state({ admission: admitted, plan: stopPlan, error: { Error: 'States.Timeout' } }))).toMatch(MAY);
    });
    test('approve mode, approved: may have acted; not (yet) approved: it could not have', () => {
      expect(page(approveMode({ approved: true } as WorkflowState['approval']))).toMatch(MAY);
      expect(page(approveMode({ approved: false } as unknown as WorkflowState['approval']))).toContain(NOTHING);
      expect(page(approveMode())).toContain(NOTHING);
    });
    test('observe mode, a denial or a plan that escalates: it could not have', () => {
      expect(page(state({ incident: receivedIncident({ trigger: TRIGGER, mode: 'observe' }), admission: admitted, plan: stopPlan, error: { Error: 'States.Timeout' } }))).toContain(NOTHING);
      expect(page(state({ admission: { admitted: false, reason: 'x', leases: [] }, plan: stopPlan, error: { Error: 'States.Timeout' } }))).toContain(NOTHING);
      expect(page(state({ admission: admitted, plan: { ...stopPlan, decision: 'escalate' }, error: { Error: 'States.Timeout' } }))).toContain(NOTHING);
    });
    test('an approval-gate error proves it stopped before Act, even in auto mode with a plan to act', () => {
      expect(page(state({ admission: admitted, plan: stopPlan, error: { Error: 'Medic.ApprovalExpired' } }))).toContain(NOTHING);
    });
  });

  test('the ledger unreadable before admission: nothing in this execution, and it says the ledger did not confirm it', () => {
    const s = state({ admission: undefined, error: { Error: 'Medic.GuardUnavailable', Cause: 'x' } });
    const message = composeEscalation(s, LEDGER, actionRecord(undefined, s, 'ECONNREFUSED'));
    expect(message.body).toContain('WHAT MEDIC DID: nothing in this execution: it stopped before it could act (the ledger could not be read (ECONNREFUSED), so this is not confirmed from the ledger)');
  });

  test('a failed rollback pages ROLLBACK FAILED first, with the exact values to restore by hand', () => {
    const restore: CallRecord = {
      service: 'autoscaling', operation: 'UpdateAutoScalingGroup', target: 'web-asg', outcome: 'refused', at: '2026-11-22T03:30:00.000Z',
      parameters: { AutoScalingGroupName: 'web-asg', HealthCheckType: 'EC2', HealthCheckGracePeriod: 0 }, error: 'Throttling: Rate exceeded',
    };
    const s = state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY, error: { Error: 'Medic.RollbackRetryable', Cause: 'rollback failed' } });
    const message = compose(s, [entry(3, 'acted', { result: ACTED }), entry(5, 'rollback-failed', { error: 'Throttling: Rate exceeded', calls: [restore], retryable: true })]);
    expect(message.headline).toBe('ROLLBACK FAILED');
    expect(message.subject).toBe('[medic] api-restart: ROLLBACK FAILED (prod/api)');
    const lines = message.body.split('\n');
    expect(lines.slice(2, 6)).toEqual([
      'ROLLBACK FAILED: medic\'s change is still in place (Throttling: Rate exceeded).',
      'Restore by hand:',
      '  autoscaling UpdateAutoScalingGroup {"AutoScalingGroupName":"web-asg","HealthCheckType":"EC2","HealthCheckGracePeriod":0}',
      '  aws autoscaling update-auto-scaling-group --auto-scaling-group-name "web-asg" --health-check-type "EC2" --health-check-grace-period "0"',
    ]);
  });

  test('a rollback during a change freeze says so', () => {
    const rollback = { status: 'rolled-back' as const, summary: 'restored', calls: [], notes: ['rolled back during a change freeze (change calendar freeze is CLOSED (change freeze)): undoing medic\'s own change is allowed'] };
    const rolled: CallRecord = { ...UPDATE, operation: 'UpdateAutoScalingGroup', target: 'web-asg', requestId: 'req-rb' };
    const message = compose(state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY, rollback }), [
      entry(3, 'acted', { result: ACTED }), entry(5, 'rolled-back', { ...rollback, calls: [rolled] }),
    ]);
    expect(message.body).toContain('  ROLLED BACK: UpdateAutoScalingGroup web-asg (request id req-rb)');
    expect(message.body).toContain('  NOTE: rolled back during a change freeze');
  });

  test('untrusted text is inert: an alarm name cannot forge a line or drive a terminal', () => {
    const hostile = alarmTrigger({ name: 'api\nWHAT MEDIC DID: nothing\u001b[2J\u202e', reason: 'x\r\u001b]0;owned\u0007' });
    const message = compose(state({ incident: receivedIncident({ trigger: hostile }), plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY }), [entry(4, 'acted', { result: ACTED })]);
    expect(message.body.split('\n').filter((l) => l.startsWith('WHAT MEDIC DID'))).toEqual(['WHAT MEDIC DID:']);
    expect(message.body).not.toMatch(/[\u001b\u0007\r\u202e]/);
    expect(message.body).toContain('api\\nWHAT MEDIC DID: nothing\\x1b[2J\\u202e');
  });
});

// ---- handler --------------------------------------------------------------------------------

describe('escalate handler (dynalite, simulated SNS and S3)', () => {
  const local = new LocalDynamo();
    const sns = mockClient(SNSClient);
  const s3 = mockClient(S3Client);
  const marks = new Set<string>();

  beforeAll(() => local.start());
  afterAll(async () => {
    sns.restore();
    s3.restore();
    dynamo().destroy();
    await local.stop();
  });
  beforeEach(async () => {
    await freshTables(local, 'esc');
    process.env.MEDIC_PAGE_MARKS_BUCKET = 'page-marks';
    sns.reset();
    s3.reset();
    marks.clear();
    let messages = 0;
    sns.on(PublishCommand).callsFake(() => ({ MessageId: `m-${++messages}` }));
    s3.on(PutObjectCommand).callsFake((input) => {
      if (marks.has(input.Key)) throw Object.assign(new Error('precondition'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      marks.add(input.Key);
      return {};
    });
    s3.on(DeleteObjectCommand).callsFake((input) => {
      marks.delete(input.Key);
      return {};
    });
  });

  const published = () => sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
  const ledgerOf = (id = INCIDENT_ID) => readIncident(process.env.MEDIC_LEDGER_TABLE!, id);
  const escalatedState = () => state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY });

  test('publishes, then records "escalated" with the message id (escalated means delivered)', async () => {
    const result = await handler(escalatedState());
    expect(result).toMatchObject({ published: true, recorded: true, headline: 'verification failed', messageId: 'm-1' });
    const [message] = published();
    expect(message.TopicArn).toBe(process.env.MEDIC_TOPIC_ARN);
    expect(message.Subject).toBe('[medic] api-restart: verification failed (prod/api)');
    const entries = await ledgerOf();
    expect(entries.map((e) => e.phase)).toEqual(['escalated']);
    expect(JSON.parse(entries[0].detail)).toMatchObject({ published: true, messageId: 'm-1' });
  });

  test('a publish that fails is recorded as not delivered, and the step fails', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('topic key disabled'), { name: 'KMSDisabledException' }));
    await expect(handler(escalatedState())).rejects.toThrow(/escalation failed: the notification could not be published: KMSDisabledException/);
    const [entry] = await ledgerOf();
    expect(JSON.parse(entry.detail)).toMatchObject({ published: false, publishError: expect.stringContaining('KMSDisabledException') });
    // The page mark was removed, so a retry can still page.
    expect(marks.size).toBe(0);
    sns.on(PublishCommand).resolves({ MessageId: 'm-retry' });
    await expect(handler(escalatedState())).resolves.toMatchObject({ published: true, messageId: 'm-retry' });
  });

  test('a retried Escalate after it had published does not page twice', async () => {
    await handler(escalatedState());
    const again = await handler(escalatedState());
    expect(again).toMatchObject({ published: false, alreadyPaged: true });
    expect(published()).toHaveLength(1);
    expect(JSON.parse((await ledgerOf())[1].detail)).toMatchObject({ alreadyPaged: expect.stringMatching(/already sent/) });
  });

  test('the ledger down at Validate: the page names what fired from the raw event, and a redelivery does not page again', async () => {
    const event = alarmEvent({ alarm: ALARM, timestamp: '2026-11-22T03:17:22.318+0000' });
    const down = (name: string) => state({ event, execution: executionInfo(name), incident: undefined, admission: undefined, error: { Error: 'ProvisionedThroughputExceededException', Cause: 'ledger down' } });
    const [ledger, limiter] = [process.env.MEDIC_LEDGER_TABLE, process.env.MEDIC_LIMITER_TABLE];
    process.env.MEDIC_LEDGER_TABLE = 'no-such-table';
    process.env.MEDIC_LIMITER_TABLE = 'no-such-table';
    await handler(down('delivery-1'));
    await handler(down('delivery-2'));
    expect(published()).toHaveLength(1);
    const [page] = published();
    expect(page.Subject).toBe('[medic] api-restart: a step failed (prod/api)');
    expect(page.Message).toContain(`WHAT FIRED: alarm ${ALARM} went to ALARM at 2026-11-22T03:17:22.318Z`);
    expect(page.Message).toContain(`TARGET: ecs-service prod/api (${SERVICE_ARN})`);
    expect(page.Message).toContain('WHAT MEDIC DID: nothing in this execution: it stopped before it could act');
    expect(page.Message).toMatch(/incident api-restart-20261122T031722Z-[0-9a-f]{12}/);

    // The ledger is back: a later delivery claims the incident, acts, and its own escalation still pages.
    process.env.MEDIC_LEDGER_TABLE = ledger;
    process.env.MEDIC_LIMITER_TABLE = limiter;
    const incidentId = /incident (api-restart-20261122T031722Z-[0-9a-f]{12})/.exec(page.Message!)![1];
    await handler(state({ event, execution: executionInfo('delivery-3'), incident: receivedIncident({ incidentId }), plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY }));
    expect(published()).toHaveLength(2);
    expect(published()[1].Subject).toBe('[medic] api-restart: verification failed (prod/api)');
  });

  test('S3 unavailable for the page mark: pages anyway (a duplicate page beats none)', async () => {
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('slow down'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }));
    await expect(handler(escalatedState())).resolves.toMatchObject({ published: true });
    expect(JSON.parse((await ledgerOf())[0].detail)).toMatchObject({ pageMark: expect.stringContaining('SlowDown') });
  });

  describe('storms page once', () => {
    const denied = (n: number, category = 'blast-radius') => state({
      execution: executionInfo(`run-${n}`),
      incident: receivedIncident({ incidentId: `api-restart-storm-${n}`, target: ecsTarget('prod', `svc-${n}`) }),
      admission: { admitted: false, reason: `blast-radius cap: 2 incident(s) of api-restart already in flight (denial ${n})`, leases: [], category },
    });

    test('the first denial pages and opens the digest; the next ones join it; one digest page lists them', async () => {
      const first = await handler(denied(1));
      expect(first).toMatchObject({ published: true, digest: { role: 'owner' } });
      for (const n of [2, 3, 4]) expect(await handler(denied(n))).toMatchObject({ published: false, digest: { role: 'member', owner: 'api-restart-storm-1' } });
      expect(published()).toHaveLength(1);
      expect(published()[0].Message).toContain('STORM DIGEST: further denials of api-restart until');
      expect((await ledgerOf('api-restart-storm-3')).map((e) => e.phase)).toEqual(['digested']);

      const digest = await handler({ sendDigest: true, state: { ...denied(1), escalation: first } as never });
      expect(digest).toMatchObject({ published: true, denials: 3 });
      expect(published()).toHaveLength(2);
      const page = published()[1];
      expect(page.Subject).toBe('[medic] api-restart: 3 more denial(s) in the storm digest');
      for (const n of [2, 3, 4]) expect(page.Message).toContain(`api-restart-storm-${n} prod/svc-${n}: blast-radius: blast-radius cap`);
      expect(JSON.parse((await ledgerOf('api-restart-storm-1')).at(-1)!.detail)).toMatchObject({ denials: 3, incidents: ['api-restart-storm-2', 'api-restart-storm-3', 'api-restart-storm-4'] });
      // The window is closed: the next denial pages and opens a new one.
      expect(await handler(denied(5))).toMatchObject({ published: true, digest: { role: 'owner' } });
    });

    test('a digest nobody joined sends nothing', async () => {
      await handler(denied(1));
      await expect(handler({ sendDigest: true, state: denied(1) })).resolves.toMatchObject({ published: false, denials: 0 });
      expect(published()).toHaveLength(1);
    });

    test('a guard that could not be read (DynamoDB down) never waits for a digest: it pages', async () => {
      await handler(denied(1, 'guard-unavailable'));
      await handler(denied(2, 'guard-unavailable'));
      expect(published()).toHaveLength(2);
    });
  });

  describe('no lease outlives a failed step', () => {
    const limiter = () => process.env.MEDIC_LIMITER_TABLE!;
    const holders = async (key: string) => Object.keys((await dynamo().send(new GetCommand({ TableName: limiter(), Key: { pk: `LEASE#${key}` }, ConsistentRead: true }))).Item?.holders ?? {});

    test('Escalate releases the leases a step took but never handed on (the state lists none)', async () => {
      const s = state({ admission: undefined, error: { Error: 'Sandbox.Timedout', Cause: 'Admit timed out after taking its leases' } });
      await acquireLease(limiter(), targetLeaseKey(SERVICE_ARN), INCIDENT_ID, 1, 7200);
      await acquireLease(limiter(), runbookLeaseKey('api-restart'), INCIDENT_ID, 2, 7200);
      await handler(s);
      expect(await holders(targetLeaseKey(SERVICE_ARN))).toEqual([]);
      expect(await holders(runbookLeaseKey('api-restart'))).toEqual([]);
    });

    test('Complete releases the leases even when its ledger write fails', async () => {
      const s = state({ plan: { ...ACT_PLAN, decision: 'noop' } });
      await acquireLease(limiter(), targetLeaseKey(SERVICE_ARN), INCIDENT_ID, 1, 7200);
      const ledger = process.env.MEDIC_LEDGER_TABLE;
      process.env.MEDIC_LEDGER_TABLE = 'no-such-ledger';
      try {
        await expect(complete(s)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      } finally {
        process.env.MEDIC_LEDGER_TABLE = ledger;
      }
      expect(await holders(targetLeaseKey(SERVICE_ARN))).toEqual([]);
    });
  });
});
