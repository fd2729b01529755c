import { GetCalendarStateCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as admit, runbookLeaseKey, targetLeaseKey } from '../../lambdas/admit/index';
import { dynamo } from '../../lambdas/shared/clients';
import { releaseIncidentLeases } from '../../lambdas/shared/leases';
import { readIncident } from '../../lambdas/shared/ledger';
import type { Mode, RunbookSpec, WorkflowState } from '../../lambdas/shared/types';
import { LocalDynamo } from '../../lib/local/dynalite';
import { freshTables } from '../support/tables';
import { ecsRunbookSpec, ecsTarget, receivedIncident, workflowState } from '../support/fixtures';

/**
 * Admit against a real DynamoDB API: one budget and one lease per resource across every runbook,
 * observe mode taking nothing, denial texts that count right, and nothing kept after a failure.
 */

const ssm = mockClient(SSMClient);
const local = new LocalDynamo();
let incidents = 0;
const TARGET = ecsTarget();

function incident(runbook: Partial<RunbookSpec> = {}, mode: Mode = 'auto'): WorkflowState {
  const spec = ecsRunbookSpec({ ...runbook, mode });
  return workflowState({
    runbook: spec,
    incident: receivedIncident({ incidentId: `${spec.name}-incident-${++incidents}`, runbook: spec.name, mode }),
    admission: undefined,
  });
}

async function leaseHolders(key: string): Promise<string[]> {
  const item = await dynamo().send(new GetCommand({ TableName: process.env.MEDIC_LIMITER_TABLE!, Key: { pk: `LEASE#${key}` }, ConsistentRead: true }));
  return Object.keys(item.Item?.holders ?? {});
}

beforeAll(() => local.start());
afterAll(async () => {
  ssm.restore();
  dynamo().destroy();
  await local.stop();
});
beforeEach(async () => {
  await freshTables(local, 'admit');
  ssm.reset();
  ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({ Parameters: input.Names.map((Name) => ({ Name, Value: 'off' })) }));
  ssm.on(GetCalendarStateCommand).resolves({ State: 'OPEN' });
});

describe('one budget and one lease per resource, across runbooks', () => {
  test('two runbooks on one ECS service share its attempt budget: the second cannot double the actions', async () => {
    for (let i = 0; i < 3; i++) {
      const state = incident({ name: 'api-restart' });
      expect((await admit(state)).admitted).toBe(true);
      // Each incident ends (its leases go) before the next.
      await releaseIncidentLeases({ ...state, admission: { admitted: true, leases: [targetLeaseKey(TARGET.arn), runbookLeaseKey('api-restart')] } }, process.env.MEDIC_LIMITER_TABLE!);
    }
    const other = await admit(incident({ name: 'api-restart-canary' }));
    expect(other).toMatchObject({ admitted: false, category: 'rate-limit' });
    expect(other.reason).toBe(`rate limit: 3 admission(s) for ${TARGET.arn} in the last 3600s, by any runbook (max 3); automatic remediation is not fixing this, a human needs to look`);
  });

  test('one incident at a time per resource, whichever runbook: the second is denied while the first is in flight', async () => {
    const first = incident({ name: 'api-restart' });
    expect((await admit(first)).admitted).toBe(true);
    const second = await admit(incident({ name: 'api-restart-canary' }));
    expect(second).toMatchObject({ admitted: false, category: 'target-busy', reason: `another incident is in flight on ${TARGET.arn}: ${first.incident!.incidentId}` });
    // The denied incident keeps nothing: its runbook lease was never taken, the target's holder is the first.
    expect(await leaseHolders(targetLeaseKey(TARGET.arn))).toEqual([first.incident!.incidentId]);
    expect(await leaseHolders(runbookLeaseKey('api-restart-canary'))).toEqual([]);
  });

  test('the blast-radius denial counts the incidents in flight, not the cap', async () => {
    const policy = { maxAttempts: 3, windowSeconds: 3600, maxConcurrent: 2, leaseSeconds: 7200 };
    const states = ['a', 'b'].map((service) => ({ ...incident({ policy }), incident: receivedIncident({ incidentId: `inc-${service}`, target: ecsTarget('prod', service) }) }));
    for (const s of states) expect((await admit(s)).admitted).toBe(true);
    const third = await admit({ ...incident({ policy }), incident: receivedIncident({ incidentId: 'inc-c', target: ecsTarget('prod', 'c') }) });
    expect(third.reason).toBe('blast-radius cap: 2 incident(s) of api-restart already in flight, the most allowed at once is 2 (inc-a, inc-b)');
    // The target lease it took on the way was given back.
    expect(await leaseHolders(targetLeaseKey(ecsTarget('prod', 'c').arn))).toEqual([]);
  });

  test('admission hands out fencing epochs for every lease it took, and the ledger records "admitted" with every reading', async () => {
    const state = incident();
    const admission = await admit(state);
    const [entry] = await readIncident(process.env.MEDIC_LEDGER_TABLE!, state.incident!.incidentId);
    expect(entry.phase).toBe('admitted');
    expect(JSON.parse(entry.detail)).toMatchObject({ reason: 'all guards passed', readings: { killSwitch: 'kill switches off', changeCalendar: 'no change calendar configured' } });
    expect(Object.keys(admission.epochs ?? {}).sort()).toEqual([runbookLeaseKey('api-restart'), targetLeaseKey(TARGET.arn)].sort());
  });
});

describe('observe mode takes nothing', () => {
  test('an observation takes no lease and uses no attempt; a real run is admitted after any number of them', async () => {
    for (let i = 0; i < 5; i++) {
      const observed = await admit(incident({ name: 'api-observe' }, 'observe'));
      expect(observed).toMatchObject({ admitted: true, leases: [] });
    }
    expect(await leaseHolders(targetLeaseKey(TARGET.arn))).toEqual([]);
    expect((await admit(incident())).admitted).toBe(true);
  });

  test('an observation is told what a real run would meet', async () => {
    const real = incident();
    await admit(real);
    const observed = incident({ name: 'api-observe' }, 'observe');
    expect(await admit(observed)).toMatchObject({ admitted: false, category: 'target-busy' });
    const [entry] = await readIncident(process.env.MEDIC_LEDGER_TABLE!, observed.incident!.incidentId);
    expect(JSON.parse(entry.detail)).toMatchObject({ observing: 'observe mode: nothing was taken or counted' });
  });
});

describe('mode approve', () => {
  const approval = { approvers: ['arn:aws:iam::111111111111:role/medic-approvers'], minApprovals: 1, timeoutSeconds: 1800 };

  test('with an approval gate it is admitted like auto: the leases are taken, since an approved plan acts', async () => {
    const state = incident({ name: 'api-approve', approval }, 'approve');
    expect(await admit(state)).toMatchObject({ admitted: true, reason: 'all guards passed', leases: [targetLeaseKey(TARGET.arn), runbookLeaseKey('api-approve')] });
    expect(await leaseHolders(targetLeaseKey(TARGET.arn))).toEqual([state.incident!.incidentId]);
  });

  test('without one it is denied: a human must act', async () => {
    const state = incident({ name: 'api-approve' }, 'approve');
    expect(await admit(state)).toMatchObject({ admitted: false, category: 'mode', reason: 'mode is "approve" but no approval gate is configured: a human must act', leases: [] });
    expect(await leaseHolders(targetLeaseKey(TARGET.arn))).toEqual([]);
  });
});

describe('nothing outlives a failed Admit', () => {
  test('the ledger write fails after the leases were taken: they are released and the step fails', async () => {
    const state = incident();
    const ledger = process.env.MEDIC_LEDGER_TABLE;
    process.env.MEDIC_LEDGER_TABLE = 'no-such-ledger';
    try {
      await expect(admit(state)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      process.env.MEDIC_LEDGER_TABLE = ledger;
    }
    expect(await leaseHolders(targetLeaseKey(TARGET.arn))).toEqual([]);
    expect(await leaseHolders(runbookLeaseKey('api-restart'))).toEqual([]);
    // Another incident is admitted at once, not after the lease expiry.
    expect((await admit(incident())).admitted).toBe(true);
  });

  test('a guard that cannot be read: denied (fail closed), nothing held', async () => {
    const state = { ...incident(), runbook: { ...incident().runbook, changeCalendar: 'freeze' } };
    ssm.on(GetCalendarStateCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    expect(await admit(state)).toMatchObject({ admitted: false, category: 'guard-unavailable' });
    expect(await leaseHolders(targetLeaseKey(TARGET.arn))).toEqual([]);
  });
});

describe('a denial gives back every lease it took', () => {
  test('the attempt budget denies after both leases were taken: both are released', async () => {
    const policy = { maxAttempts: 1, windowSeconds: 3600, maxConcurrent: 2, leaseSeconds: 7200 };
    const first = incident({ policy });
    expect((await admit(first)).admitted).toBe(true);
    await releaseIncidentLeases({ ...first, admission: { admitted: true, leases: [targetLeaseKey(TARGET.arn), runbookLeaseKey('api-restart')] } }, process.env.MEDIC_LIMITER_TABLE!);
    const second = await admit(incident({ policy }));
    expect(second).toMatchObject({ admitted: false, category: 'rate-limit', leases: [] });
    expect(await leaseHolders(targetLeaseKey(TARGET.arn))).toEqual([]);
    expect(await leaseHolders(runbookLeaseKey('api-restart'))).toEqual([]);
  });

  test('a guard fails after the leases were taken and releasing them fails too: still denied (never admitted), the release error recorded', async () => {
    const state = incident();
    let failing = false;
    const name = 'failLimiterAfterLeases';
    dynamo().middlewareStack.add((next, context) => async (args) => {
      const table = (args.input as { TableName?: string; RequestItems?: Record<string, unknown> }).TableName
        ?? Object.keys((args.input as { RequestItems?: Record<string, unknown> }).RequestItems ?? {})[0];
      if (context.commandName === 'BatchGetItemCommand') failing = true;
      if (failing && table === process.env.MEDIC_LIMITER_TABLE) throw Object.assign(new Error('injected outage'), { name: 'InternalServerError' });
      return next(args);
    }, { step: 'initialize', name });
    let admission;
    try {
      admission = await admit(state);
    } finally {
      dynamo().middlewareStack.remove(name);
    }
    expect(admission).toMatchObject({ admitted: false, category: 'guard-unavailable' });
    expect(admission.reason).toMatch(/^a guard could not be evaluated, failing closed: .*injected outage/);
    const [entry] = await readIncident(process.env.MEDIC_LEDGER_TABLE!, state.incident!.incidentId);
    expect(entry.phase).toBe('denied');
    expect(JSON.parse(entry.detail)).toMatchObject({ category: 'guard-unavailable', readings: { releaseError: expect.stringMatching(/injected outage/) } });
  });
});

describe('what Admit refuses to decide on', () => {
  test('an unknown mode is denied (category mode), nothing held', async () => {
    const state = incident({}, 'bogus' as Mode);
    expect(await admit(state)).toMatchObject({ admitted: false, category: 'mode', reason: 'unknown mode "bogus"', leases: [] });
    expect(await leaseHolders(targetLeaseKey(TARGET.arn))).toEqual([]);
  });

  test.each([
    ['an incident that is not received', (s: WorkflowState) => ({ ...s, incident: { ...s.incident!, status: 'rejected' } as WorkflowState['incident'] })],
    ['an incident without a target', (s: WorkflowState) => ({ ...s, incident: { ...s.incident!, target: undefined } })],
    ['no incident', (s: WorkflowState) => ({ ...s, incident: undefined })],
  ])('%s: InvalidState, nothing taken or recorded', async (_, alter) => {
    const state = alter(incident());
    await expect(admit(state)).rejects.toMatchObject({ name: 'Medic.InvalidState', message: 'Admit needs a received incident with a target' });
    expect(await leaseHolders(targetLeaseKey(TARGET.arn))).toEqual([]);
    expect(await leaseHolders(runbookLeaseKey('api-restart'))).toEqual([]);
    if (state.incident) expect(await readIncident(process.env.MEDIC_LEDGER_TABLE!, state.incident.incidentId)).toEqual([]);
  });
});
