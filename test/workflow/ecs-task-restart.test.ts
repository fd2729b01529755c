import { QueryCommand, PutCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { verifyChain, type LedgerEntry } from '../../lambdas/shared/ledger';
import { phases } from '../support/ledger-reader';
import { compactTime } from '../../lambdas/validate/alarm-event';
import { alarmEvent, alarmTimestamp } from '../support/synth';
import { WorkflowHarness } from './harness';

const h = new WorkflowHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());
beforeEach(async () => {
  await h.freshWorld();
  h.aws.addService('prod', 'api', 4);
});

const detailOf = (entries: LedgerEntry[], phase: string): Record<string, any> => {
  const entry = entries.find((e) => e.phase === phase);
  if (!entry) throw new Error(`no ${phase} entry in ${phases(entries).join(',')}`);
  return JSON.parse(entry.detail);
};

describe('ECS task restart workflow (synthesized definition, real handlers, dynalite)', () => {
  test('happy path: restarts once, verifies, completes with a valid hash chain', async () => {
    const run = await h.workflow('api-restart').run(h.fire('prod-api-5xx'));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('resolved');
    expect(h.aws.mutations()).toEqual([{ operation: 'UpdateService', input: { cluster: 'prod', service: 'api', forceNewDeployment: true } }]);
    const entries = await h.incident('api-restart-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'verified', 'completed']);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
    expect(detailOf(entries, 'acted').result.calls[0]).toMatchObject({ service: 'ecs', operation: 'UpdateService' });
    expect(h.aws.published()).toHaveLength(0);
  });

  test('verification never succeeds: escalated, not completed', async () => {
    h.aws.actionEffect = 'never-steady';
    const run = await h.workflow('api-restart').run(h.fire('prod-api-5xx'));
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('Medic.Escalated');
    const entries = await h.incident('api-restart-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'checked', 'checked', 'verification-failed', 'escalated']);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
    const [message] = h.aws.published();
    expect(message.Subject).toContain('verification failed');
    // The new task never starts: it stays PENDING while the old tasks keep running (the model's `never` outcome).
    expect(message.Message).toContain('service not steady: 2 deployments; rollout IN_PROGRESS; 4/4 tasks running, 1 pending');
    expect(message.Message).toContain('not reversible');
  });

  test('inconclusive verification (CloudWatch errors) is not success', async () => {
    const event = h.fire('prod-api-5xx');
    // The plan's re-read of the alarm works; every read after the action fails.
    const since = h.aws.alarms.since('prod-api-5xx');
    h.aws.cloudWatch.reset();
    h.aws.cloudWatch.on(DescribeAlarmsCommand).resolvesOnce({ MetricAlarms: [{ AlarmName: 'prod-api-5xx', StateValue: 'ALARM', StateTransitionedTimestamp: since }] })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'InternalServiceFault' }));
    const run = await h.workflow('api-restart').run(event);
    expect(run.status).toBe('FAILED');
    const entries = await h.incident('api-restart-');
    expect(phases(entries)).not.toContain('verified');
    expect(phases(entries)).not.toContain('completed');
    expect(detailOf(entries, 'verification-failed').reason).toMatch(/inconclusive after 4 check/);
    expect(h.aws.published()).toHaveLength(1);
  });

  test('4th alarm inside the window is denied and escalated, with no ECS call', async () => {
    const wf = h.workflow('api-restart');
    const base = Date.now() - 5 * 60_000;
    // Four distinct transitions of the alarm, a minute apart, each recovered by the restart before the next.
    for (const minute of [0, 1, 2]) {
      expect((await wf.run(h.fire('prod-api-5xx', { at: new Date(base + minute * 60_000) }))).status).toBe('SUCCEEDED');
    }
    expect(h.aws.mutations()).toHaveLength(3);
    const fourthAt = new Date(base + 3 * 60_000);
    const fourth = await wf.run(h.fire('prod-api-5xx', { at: fourthAt }));
    expect(fourth.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(3);
    const entries = await h.incident(`api-restart-${compactTime(fourthAt.toISOString())}`);
    expect(phases(entries)).toEqual(['received', 'denied', 'escalated']);
    expect(detailOf(entries, 'denied').reason).toMatch(/rate limit: 3 admission\(s\) for arn:aws:ecs:eu-west-1:111111111111:service\/prod\/api in the last 3600s, by any runbook \(max 3\)/);
    expect(h.aws.published().at(-1)?.Message).toContain('a human needs to look');
  });

  test('the same event delivered 5 times concurrently acts exactly once', async () => {
    const wf = h.workflow('api-restart');
    const event = h.fire('prod-api-5xx');
    const runs = await Promise.all([1, 2, 3, 4, 5].map((i) => wf.run(event, `delivery-${i}`)));
    expect(h.aws.ecs.commandCalls((await import('@aws-sdk/client-ecs')).UpdateServiceCommand)).toHaveLength(1);
    expect(runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    const ledger = await h.ledger();
    const owners = [...ledger.keys()].filter((id) => !id.includes('.duplicate.'));
    const duplicates = [...ledger.keys()].filter((id) => id.includes('.duplicate.'));
    expect(owners).toHaveLength(1);
    expect(duplicates).toHaveLength(4);
    for (const id of duplicates) expect(phases(ledger.get(id))).toEqual(['duplicate']);
    expect(phases(ledger.get(owners[0]))).toContain('completed');
  });

  test('kill switch on: denied at admission, no ECS call', async () => {
    h.aws.parameters.set('/medic/MedicTest/kill-switch/global', 'on');
    const run = await h.workflow('api-restart').run(h.fire('prod-api-5xx'));
    expect(run.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(0);
    const entries = await h.incident('api-restart-');
    expect(phases(entries)).toEqual(['received', 'denied', 'escalated']);
    expect(detailOf(entries, 'denied').reason).toContain('kill-switch/global is "on"');
  });

  test('a missing runbook kill switch counts as on', async () => {
    h.aws.parameters.delete('/medic/MedicTest/kill-switch/runbook/api-restart');
    const run = await h.workflow('api-restart').run(h.fire('prod-api-5xx'));
    expect(run.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(0);
    expect(detailOf(await h.incident('api-restart-'), 'denied').reason).toContain('missing');
  });

  test('kill switch flipped between Admit and Act: no ECS call, escalated', async () => {
    // Read 1 is Admit's; read 2 is the re-check right before UpdateService.
    h.aws.onKillSwitchRead = (call) => {
      if (call === 2) h.aws.parameters.set('/medic/MedicTest/kill-switch/runbook/api-restart', 'on');
    };
    const run = await h.workflow('api-restart').run(h.fire('prod-api-5xx'));
    expect(run.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(0);
    const entries = await h.incident('api-restart-');
    // The batch was claimed (acting), then the guard right before UpdateService stopped the call.
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'denied', 'escalated']);
    expect(detailOf(entries, 'denied').stage).toBe('act');
    expect(detailOf(entries, 'denied').calls).toEqual([expect.objectContaining({ operation: 'UpdateService', outcome: 'not-made' })]);
    expect(h.aws.published()[0].Message).toContain('WHAT MEDIC DID: nothing: the ledger shows no mutating call was made');
    expect(h.aws.published()[0].Subject).toContain('kill switch');
  });

  test('observe mode: plan recorded as "would act", no mutation', async () => {
    h.aws.setAlarm('prod-api-latency', 'ALARM');
    const run = await h.workflow('api-observe').run(h.fire('prod-api-latency'));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('observed');
    expect(h.aws.mutations()).toHaveLength(0);
    const entries = await h.incident('api-observe-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'completed']);
    expect(detailOf(entries, 'planned').wouldAct).toContain('forceNewDeployment on prod/api');
  });

  test('approve mode: the request is recorded and paged; nobody answers before the timeout, so nothing is done', async () => {
    const waited: Array<number | undefined> = [];
    const workflow = h.workflowWith('api-approve', {
      // Nobody answers the token: Step Functions ends the wait at the task's timeout.
      waitForToken: async (_token, timeoutSeconds) => {
        waited.push(timeoutSeconds);
        throw Object.assign(new Error('no answer'), { name: 'States.Timeout' });
      },
    });
    const run = await workflow.run(h.fire('prod-api-errors'));
    expect(run.status).toBe('FAILED');
    expect(waited).toEqual([20 * 60]);
    expect(h.aws.mutations()).toHaveLength(0);
    const entries = await h.incident('api-approve-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'approval-requested', 'approval-expired', 'escalated']);
    expect(detailOf(entries, 'approval-requested')).toMatchObject({ minApprovals: 2, approvers: [expect.stringContaining('role/on-call'), expect.stringContaining('role/api-owners')] });
    expect(h.aws.published().map((p) => p.Subject)).toEqual([expect.stringContaining('APPROVAL NEEDED'), expect.stringContaining('APPROVAL EXPIRED')]);
  });

  test('deployment already in progress: deferred, no ECS call', async () => {
    const service = h.aws.services.get('prod/api')!;
    service.deployments = [
      { id: 'ecs-svc/2', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' },
      { id: 'ecs-svc/1', status: 'ACTIVE', rolloutState: 'COMPLETED' },
    ];
    const run = await h.workflow('api-restart').run(h.fire('prod-api-5xx'));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('deferred');
    expect(h.aws.mutations()).toHaveLength(0);
    expect(phases(await h.incident('api-restart-'))).toEqual(['received', 'admitted', 'planned', 'deferred']);
  });

  test('stopTasks strategy: stops batches within the cap and verifies between them', async () => {
    h.aws.addService('prod', 'worker', 8);
    h.aws.setAlarm('prod-worker-stuck', 'ALARM');
    const run = await h.workflow('worker-batches').run(h.fire('prod-worker-stuck', { dimensions: { ClusterName: 'prod', ServiceName: 'worker' } }));
    expect(run.status).toBe('SUCCEEDED');
    const stops = h.aws.mutations();
    expect(stops).toHaveLength(8);
    expect(stops.every((m) => m.operation === 'StopTask')).toBe(true);
    const entries = await h.incident('worker-batches-');
    // 8 tasks at 25% = batches of 2: four act/verify rounds.
    expect(phases(entries).filter((p) => p === 'acted')).toHaveLength(4);
    expect(phases(entries).filter((p) => p === 'verified')).toHaveLength(4);
    expect(phases(entries).at(-1)).toBe('completed');
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
  });

  test('DynamoDB unreachable: no action; the page names what fired from the raw event, once for two deliveries', async () => {
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'ECONNREFUSED' });
    const documentClient = mockClient(DynamoDBDocumentClient);
    const rawClient = mockClient(DynamoDBClient);
    documentClient.on(GetCommand).rejects(unreachable).on(PutCommand).rejects(unreachable).on(QueryCommand).rejects(unreachable);
    rawClient.onAnyCommand().rejects(unreachable);
    try {
      const event = h.fire('prod-api-5xx');
      const runs = [await h.workflow('api-restart').run(event, 'delivery-1'), await h.workflow('api-restart').run(event, 'delivery-2')];
      for (const run of runs) {
        expect(run.status).toBe('FAILED');
        expect(run.tasks).toEqual(['Validate event', 'Escalate']);
      }
      expect(h.aws.mutations()).toHaveLength(0);
      // EventBridge delivered the same event twice: one page.
      expect(h.aws.published()).toHaveLength(1);
      const [message] = h.aws.published();
      expect(message.Subject).toBe('[medic] api-restart: a step failed (prod/api)');
      expect(message.Message).toMatch(/WHAT FIRED: alarm prod-api-5xx went to ALARM at \d{4}-/);
      expect(message.Message).toContain('TARGET: ecs-service prod/api (arn:aws:ecs:eu-west-1:111111111111:service/prod/api)');
      expect(message.Message).toContain('ECONNREFUSED');
      expect(message.Message).toContain('WHAT MEDIC DID: nothing in this execution: it stopped before it could act');
    } finally {
      documentClient.restore();
      rawClient.restore();
    }
  });
});

describe('faults around Act (Step Functions retries, redeliveries, stale and forged events)', () => {
  const lambdaServiceException = () => Object.assign(new Error('Lambda is unable to complete the request'), { name: 'Lambda.ServiceException' });

  test('the response of Act lost to Lambda.ServiceException after it acted: the retry does not act again', async () => {
    let first = true;
    const wf = h.workflowWith('api-restart', {
      taskInvocation: async (state, invoke) => {
        const result = await invoke();
        if (state === 'Act' && first) {
          first = false;
          throw lambdaServiceException();
        }
        return result;
      },
    });
    const run = await wf.run(h.fire('prod-api-5xx'));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.filter((t) => t === 'Act')).toHaveLength(2);
    expect(h.aws.mutations()).toHaveLength(1);
    expect(phases(await h.incident('api-restart-'))).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'verified', 'completed']);
  });

  test('Act run twice at the same time (a retry while the first still runs): exactly one mutating call', async () => {
    const wf = h.workflowWith('api-restart', {
      taskInvocation: async (state, invoke) => (state === 'Act' ? (await Promise.all([invoke(), invoke()]))[1] : invoke()),
    });
    const run = await wf.run(h.fire('prod-api-5xx'));
    expect(run.status).toBe('SUCCEEDED');
    expect(h.aws.mutations()).toHaveLength(1);
    expect(phases(await h.incident('api-restart-')).filter((p) => p === 'acted')).toHaveLength(1);
  });

  test('an alarm event older than maxEventAge (15 minutes): refused, nothing done, the page says why', async () => {
    const run = await h.workflow('api-restart').run(h.fire('prod-api-5xx', { at: new Date(Date.now() - 20 * 60_000) }));
    expect(run.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(0);
    const entries = await h.incident('api-restart-rejected-');
    expect(detailOf(entries, 'rejected').reason).toMatch(/^stale event: it reports a change at .*, 20 minute\(s\) before medic read it, older than the runbook's maxEventAge of 15 minute\(s\)/);
    expect(h.aws.published()[0].Message).toContain('WHAT FIRED: alarm prod-api-5xx went to ALARM');
  });

  test('an alarm event dated in the future: refused', async () => {
    const run = await h.workflow('api-restart').run(h.fire('prod-api-5xx', { at: new Date(Date.now() + 10 * 60_000) }));
    expect(run.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(0);
    expect(detailOf(await h.incident('api-restart-rejected-'), 'rejected').reason).toMatch(/^event dated in the future/);
  });

  test('the alarm recovered before medic acted: recorded as recovered before action, nothing mutated, nobody paged', async () => {
    const event = h.fire('prod-api-5xx', { at: new Date(Date.now() - 60_000) });
    h.aws.setAlarm('prod-api-5xx', 'OK');
    const run = await h.workflow('api-restart').run(event);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome).toMatchObject({ outcome: 'no-action-needed', summary: expect.stringMatching(/^recovered before action: alarm prod-api-5xx is back to OK since/) });
    expect(h.aws.mutations()).toHaveLength(0);
    expect(h.aws.published()).toHaveLength(0);
  });

  test('a hand-started execution with an alarm-shaped body and a made-up time does not dodge dedupe: it never acts', async () => {
    const real = h.fire('prod-api-5xx', { at: new Date(Date.now() - 120_000) });
    expect((await h.workflow('api-restart').run(real)).status).toBe('SUCCEEDED');
    h.aws.setAlarm('prod-api-5xx', 'ALARM', new Date(Date.now() - 60_000));
    const forged = alarmEvent({ alarm: 'prod-api-5xx', timestamp: alarmTimestamp(new Date(Date.now() - 5_000)) });
    const run = await h.workflow('api-restart').run(forged, 'started-by-hand');
    expect(run.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(1);
    const page = h.aws.published().at(-1)!.Message!;
    expect(page).toMatch(/the event does not describe this alarm's transition, so medic does not act on it/);
    expect(page).toContain('WHAT MEDIC DID: nothing: the ledger shows no mutating call was made');
  });

  test('a stopTasks batch that fails part-way: the page lists what succeeded (request ids), what is unknown and what was not made', async () => {
    h.aws.addService('prod', 'worker', 8);
    let stops = 0;
    h.aws.ecs.on(StopTaskCommand).callsFake(() => {
      if (++stops === 2) throw Object.assign(new Error('We encountered an internal error'), { name: 'ServerException', $fault: 'server', $metadata: { httpStatusCode: 500, requestId: 'req-500' } });
      return { task: {}, ...h.aws.requestId() };
    });
    const run = await h.workflow('worker-batches').run(h.fire('prod-worker-stuck', { dimensions: { ClusterName: 'prod', ServiceName: 'worker' } }));
    expect(run.status).toBe('FAILED');
    expect(stops).toBe(2);
    const page = h.aws.published()[0];
    expect(page.Subject).toBe('[medic] worker-batches: action outcome unknown (prod/worker)');
    expect(page.Message).toMatch(/ {2}SUCCEEDED: StopTask worker-t0 \(request id req-\d+\)/);
    expect(page.Message).toContain('  OUTCOME UNKNOWN (may have taken effect): StopTask worker-t1: ServerException: We encountered an internal error');
    expect(page.Message).toContain('  NOT MADE: StopTask worker-t2; StopTask worker-t3; StopTask worker-t4; StopTask worker-t5; StopTask worker-t6; StopTask worker-t7');
    expect(page.Message).not.toMatch(/WHAT MEDIC DID: nothing/);
  });

  test('observe mode is quiet: a denied observation is recorded, not paged, and observations use no attempts', async () => {
    h.aws.parameters.set('/medic/MedicTest/kill-switch/runbook/api-observe', 'on');
    const denied = await h.workflow('api-observe').run(h.fire('prod-api-latency'));
    expect(denied.status).toBe('SUCCEEDED');
    expect(denied.output?.outcome).toMatchObject({ outcome: 'observed', summary: expect.stringMatching(/a real run would not be admitted \(kill switch/) });
    expect(h.aws.published()).toHaveLength(0);
    h.aws.parameters.set('/medic/MedicTest/kill-switch/runbook/api-observe', 'off');
    // Five observations of prod/api, then the real runbook is still admitted (max 3 per hour per resource).
    for (let i = 0; i < 5; i++) {
      expect((await h.workflow('api-observe').run(h.fire('prod-api-latency', { at: new Date(Date.now() - 60_000 + i * 1000) }))).output?.outcome.outcome).toBe('observed');
    }
    expect((await h.workflow('api-restart').run(h.fire('prod-api-5xx'))).output?.outcome.outcome).toBe('resolved');
    expect(h.aws.published()).toHaveLength(0);
  });
});

describe('bad input is rejected with a readable reason and no action', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['not an alarm event', { ...alarmEvent({ alarm: 'prod-api-5xx' }), source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' }, /not a CloudWatch alarm state change/],
    ['alarm not attached to this runbook', alarmEvent({ alarm: 'someone-elses-alarm' }), /not attached to runbook api-restart/],
    ['state OK', alarmEvent({ alarm: 'prod-api-5xx', state: 'OK' }), /new state is OK/],
    ['state INSUFFICIENT_DATA', alarmEvent({ alarm: 'prod-api-5xx', state: 'INSUFFICIENT_DATA' }), /new state is INSUFFICIENT_DATA/],
    ['missing dimensions', alarmEvent({ alarm: 'prod-api-5xx', dimensions: { LoadBalancer: 'app/prod/123' } }), /no ClusterName, ServiceName dimension/],
    ['malformed ARN', { ...alarmEvent({ alarm: 'prod-api-5xx' }), resources: ['arn:aws:cloudwatch:eu-west-1:1111:alarm'] }, /is not a CloudWatch alarm ARN/],
    ['target in another account', alarmEvent({ alarm: 'prod-api-5xx', account: '222222222222' }), /account 222222222222/],
    ['target in another region', alarmEvent({ alarm: 'prod-api-5xx', region: 'us-east-1' }), /region us-east-1/],
    ['service outside the allow-list', alarmEvent({ alarm: 'prod-api-5xx', dimensions: { ClusterName: 'prod', ServiceName: 'payments' } }), /not in runbook api-restart's allow-list/],
    ['oversized detail', { ...alarmEvent({ alarm: 'prod-api-5xx' }), detail: { ...(alarmEvent({ alarm: 'prod-api-5xx' }).detail as object), padding: 'x'.repeat(70_000) } }, /over the 65536-byte limit/],
    ['non-JSON detail', { ...alarmEvent({ alarm: 'prod-api-5xx' }), detail: '<alarm>not json</alarm>' }, /detail is not a JSON object/],
  ];

  test.each(cases)('%s', async (_name, event, reason) => {
    const run = await h.workflow('api-restart').run(event);
    expect(run.status).toBe('FAILED');
    expect(run.tasks).toEqual(['Validate event', 'Escalate']);
    expect(h.aws.mutations()).toHaveLength(0);
    const entries = await h.incident('api-restart-rejected-');
    expect(phases(entries)).toEqual(['rejected', 'escalated']);
    expect(detailOf(entries, 'rejected').reason).toMatch(reason);
    expect(h.aws.published()[0].Message).toMatch(reason);
  });
});
