import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCalendarStateCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as admit, runbookLeaseKey, targetLeaseKey } from '../../lambdas/admit/index';
import { handler as escalate } from '../../lambdas/escalate/index';
import { handler as finish } from '../../lambdas/finish/index';
import { dynamo } from '../../lambdas/shared/clients';
import { acquireLease, admitWithinRate } from '../../lambdas/shared/limiter';
import { countFor, recordTimeToRemediate, type DenialReason } from '../../lambdas/shared/observability';
import type { ActResult, Incident, Mode, Plan, RunbookSpec, VerifyState, WorkflowState } from '../../lambdas/shared/types';
import { handler as validate } from '../../lambdas/validate/index';
import { LocalDynamo, ledgerTableInput, limiterTableInput } from '../../lib/local/dynalite';
import { alarmTrigger, ecsRunbookSpec, ecsTarget, executionInfo, receivedIncident, workflowState } from '../support/fixtures';
import { alarmEvent } from '../support/synth';

/*
 * What the handlers publish, read the way CloudWatch reads it: the EMF lines on stdout.
 * Powertools 2.35 (node_modules/@aws-lambda-powertools/metrics/lib/cjs/Metrics.js): singleMetric()
 * builds a new Metrics whose addMetric() calls publishStoredMetrics() at once, which writes
 * JSON.stringify(serializeMetrics()) with console.log on a node:console Console bound to
 * process.stdout (the global console only under POWERTOOLS_DEV). Each new Metrics reads
 * POWERTOOLS_METRICS_DISABLED when it is built; test/support/env.ts sets it to true, so it is
 * turned off here for the duration of this file.
 */

const local = new LocalDynamo();
const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);
const LEDGER = 'observability-ledger';
const LIMITER = 'observability-limiter';
const savedEnv = { ...process.env };

interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

let emitted: Emf[] = [];
let stdoutWrite: jest.SpyInstance;

beforeAll(async () => {
  await local.start();
  await local.createTable(ledgerTableInput(LEDGER));
  await local.createTable(limiterTableInput(LIMITER));
  Object.assign(process.env, { MEDIC_LEDGER_TABLE: LEDGER, MEDIC_LIMITER_TABLE: LIMITER, POWERTOOLS_METRICS_DISABLED: 'false' });
  const write = process.stdout.write.bind(process.stdout);
  stdoutWrite = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    if (!text.includes('"_aws"')) return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    for (const line of text.split('\n').filter((l) => l.trim())) emitted.push(JSON.parse(line) as Emf);
    return true;
  }) as typeof process.stdout.write);
});

afterAll(async () => {
  stdoutWrite.mockRestore();
  process.env = savedEnv;
  ssm.restore();
  sns.restore();
  dynamo().destroy();
  await local.stop();
});

let switches: Record<string, string>;
beforeEach(() => {
  emitted = [];
  switches = {};
  ssm.reset();
  sns.reset();
  ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
    Parameters: input.Names.map((Name) => ({ Name, Value: switches[Name] ?? 'off' })),
  }));
  ssm.on(GetCalendarStateCommand).resolves({ State: 'OPEN' });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

/** The EMF document of one metric, as CloudWatch reads it: exactly these dimensions, nothing else. */
function emf(name: string, unit: string, value: number, dimensions: Record<string, string>): Emf {
  return {
    _aws: {
      Timestamp: expect.any(Number),
      CloudWatchMetrics: [{ Namespace: 'Medic', Dimensions: [Object.keys(dimensions)], Metrics: [{ Name: name, Unit: unit }] }],
    },
    ...dimensions,
    [name]: value,
  };
}

// ---- builders -------------------------------------------------------------------------------

let counter = 0;
/** A state just before Admit, for a runbook and a target nobody else uses (limiter keys do not collide across tests). */
function fresh(runbook: Partial<RunbookSpec> = {}, incident: Partial<Incident> = {}): WorkflowState {
  const n = ++counter;
  const name = `metrics-${n}`;
  const spec = ecsRunbookSpec({ name, ...runbook });
  return workflowState({
    runbook: spec,
    execution: executionInfo(`run-${n}`, `medic-${name}`),
    incident: receivedIncident({ incidentId: `${name}-20261122T031722Z-0123456789ab`, runbook: name, target: ecsTarget('prod', `svc-${n}`), ...incident }),
    admission: undefined,
  });
}

const ACT_PLAN: Plan = { decision: 'act', reason: 'service is stable', summary: 'UpdateService forceNewDeployment on prod/api', details: {} };
const ACTED: ActResult = { summary: 'forced a new deployment', calls: [], batch: 0, moreBatches: false, details: {} };
const VERIFIED: VerifyState = {
  status: 'succeeded', batch: 0, checks: 2, consecutiveSuccesses: 2, lastVerdict: 'success', lastReadings: {}, reason: 'service steady, alarm OK',
};

// ---- admission ------------------------------------------------------------------------------

describe('Admit', () => {
  test('an admission counts IncidentsAdmitted for the runbook', async () => {
    const state = fresh();
    await expect(admit(state)).resolves.toMatchObject({ admitted: true });
    expect(emitted).toEqual([emf('IncidentsAdmitted', 'Count', 1, { runbook: state.runbook.name })]);
  });

  const denials: Array<[DenialReason, (state: WorkflowState) => Promise<WorkflowState>]> = [
    ['kill-switch', async (s) => {
      switches[s.runbook.killSwitch.global] = 'on';
      return s;
    }],
    ['change-freeze', async (s) => {
      ssm.on(GetCalendarStateCommand).resolves({ State: 'CLOSED' });
      return { ...s, runbook: { ...s.runbook, changeCalendar: 'release-freeze' } };
    }],
    ['mode', async (s) => ({ ...s, incident: { ...s.incident!, mode: 'approve' } })],
    ['target-busy', async (s) => {
      await acquireLease(LIMITER, targetLeaseKey(s.incident!.target!.arn), 'another-incident', 1, 3600);
      return s;
    }],
    ['blast-radius', async (s) => {
      await acquireLease(LIMITER, runbookLeaseKey(s.runbook.name), 'another-incident', 1, 3600);
      return { ...s, runbook: { ...s.runbook, policy: { ...s.runbook.policy, maxConcurrent: 1 } } };
    }],
    ['rate-limit', async (s) => {
      // The budget is the resource's, whichever runbook used it.
      await admitWithinRate(LIMITER, s.incident!.target!.arn, 'an-earlier-incident', 1, 3600);
      return { ...s, runbook: { ...s.runbook, policy: { ...s.runbook.policy, maxAttempts: 1 } } };
    }],
    ['guard-unavailable', async (s) => {
      ssm.on(GetParametersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      return s;
    }],
  ];

  test.each(denials)('a denial by %s counts Denials with that reason, and nothing else', async (reason, arrange) => {
    const state = await arrange(fresh());
    const admission = await admit(state);
    expect(admission.admitted).toBe(false);
    expect(emitted).toEqual([emf('Denials', 'Count', 1, { runbook: state.runbook.name, reason })]);
  });
});

// ---- completion -----------------------------------------------------------------------------

describe('Complete', () => {
  test('a resolved incident counts Incidents{outcome=resolved} and its time from the trigger to now', async () => {
    const triggeredAt = Date.now() - 90_000;
    const base = fresh({}, { trigger: alarmTrigger({ at: new Date(triggeredAt).toISOString() }) });
    const before = Date.now();
    await expect(finish({ ...base, admission: { admitted: true, leases: [] }, plan: ACT_PLAN, act: ACTED, verify: VERIFIED })).resolves.toMatchObject({ outcome: 'resolved' });
    const after = Date.now();
    const runbook = base.runbook.name;
    expect(emitted).toEqual([
      emf('Incidents', 'Count', 1, { runbook, outcome: 'resolved' }),
      emf('TimeToRemediate', 'Milliseconds', expect.any(Number), { runbook }),
    ]);
    const elapsed = emitted[1].TimeToRemediate as number;
    expect(elapsed).toBeGreaterThanOrEqual(before - triggeredAt);
    expect(elapsed).toBeLessThanOrEqual(after - triggeredAt);
  });

  const closedWithoutAction: Array<[string, { mode: Mode; plan: Plan }]> = [
    ['observed', { mode: 'observe', plan: ACT_PLAN }],
    ['deferred', { mode: 'auto', plan: { ...ACT_PLAN, decision: 'defer' } }],
    ['no-action-needed', { mode: 'auto', plan: { ...ACT_PLAN, decision: 'noop' } }],
  ];
  test.each(closedWithoutAction)('%s: counted by outcome, with no time to remediate', async (outcome, { mode, plan }) => {
    const base = fresh();
    const state: WorkflowState = { ...base, plan, incident: { ...base.incident!, mode } };
    await expect(finish(state)).resolves.toMatchObject({ outcome });
    expect(emitted).toEqual([emf('Incidents', 'Count', 1, { runbook: base.runbook.name, outcome })]);
  });
});

// ---- validation -----------------------------------------------------------------------------

describe('Validate', () => {
  const spec = () => ecsRunbookSpec({ name: `metrics-${++counter}` });

  test('a rejected event counts Incidents{outcome=rejected}', async () => {
    const runbook = spec();
    const incident = await validate({ event: alarmEvent({ alarm: 'prod-api-5xx', state: 'OK' }), runbook, execution: executionInfo('rejected-run') });
    expect(incident.status).toBe('rejected');
    expect(emitted).toEqual([emf('Incidents', 'Count', 1, { runbook: runbook.name, outcome: 'rejected' })]);
  });

  test('a received event counts IncidentsReceived; its redelivery Incidents{outcome=duplicate}', async () => {
    const runbook = spec();
    const event = alarmEvent({ alarm: 'prod-api-5xx' });
    expect((await validate({ event, runbook, execution: executionInfo('first') })).status).toBe('received');
    expect((await validate({ event, runbook, execution: executionInfo('second') })).status).toBe('duplicate');
    expect(emitted).toEqual([
      emf('IncidentsReceived', 'Count', 1, { runbook: runbook.name }),
      emf('Incidents', 'Count', 1, { runbook: runbook.name, outcome: 'duplicate' }),
    ]);
  });
});

// ---- escalation -----------------------------------------------------------------------------

describe('Escalate', () => {
  test('a published escalation counts Escalations and Incidents{outcome=escalated}', async () => {
    const state = { ...fresh(), plan: ACT_PLAN, act: ACTED, verify: { ...VERIFIED, status: 'failed' as const, reason: 'not verified' } };
    await escalate(state);
    const runbook = state.runbook.name;
    expect(emitted).toEqual([emf('Escalations', 'Count', 1, { runbook }), emf('Incidents', 'Count', 1, { runbook, outcome: 'escalated' })]);
  });

  test('a rejected event\'s escalation counts Escalations only: its outcome was counted by Validate', async () => {
    const base = fresh();
    const rejected: Incident = { incidentId: `${base.runbook.name}-rejected-run`, status: 'rejected', runbook: base.runbook.name, mode: 'auto', reason: 'not ALARM' };
    await escalate({ ...base, incident: rejected });
    expect(emitted).toEqual([emf('Escalations', 'Count', 1, { runbook: base.runbook.name })]);
  });

  test('an escalation nobody received counts nothing, so the failed execution shows as failed without escalation', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException' }));
    await expect(escalate(fresh())).rejects.toThrow(/escalation failed/);
    expect(emitted).toEqual([]);
  });
});

// ---- helpers --------------------------------------------------------------------------------

describe('helpers', () => {
  test('countFor publishes one Count with the runbook as the only dimension', () => {
    countFor('api-restart', 'VerificationsFailed');
    expect(emitted).toEqual([emf('VerificationsFailed', 'Count', 1, { runbook: 'api-restart' })]);
  });

  test('time to remediate is skipped, not published, for a trigger time that is missing, unreadable or in the future', () => {
    const now = Date.parse('2026-11-22T04:00:00Z');
    expect(recordTimeToRemediate('api-restart', undefined, now)).toBeUndefined();
    expect(recordTimeToRemediate('api-restart', 'yesterday-ish', now)).toBeUndefined();
    expect(recordTimeToRemediate('api-restart', '2026-11-22T04:00:05Z', now)).toBeUndefined();
    expect(emitted).toEqual([]);
    expect(recordTimeToRemediate('api-restart', '2026-11-22T03:17:22.318Z', now)).toBe(2_557_682);
    expect(emitted).toEqual([emf('TimeToRemediate', 'Milliseconds', 2_557_682, { runbook: 'api-restart' })]);
  });
});
