import 'aws-sdk-client-mock-jest';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/escalate/index';
import { composeEscalation } from '../../lambdas/escalate/message';
import type { LedgerEntry } from '../../lambdas/shared/ledger';
import type { ActResult, Incident, Plan, VerifyState, WorkflowState } from '../../lambdas/shared/types';
import {
  ALARM, INCIDENT_ID, alarmTrigger, ecsRunbookSpec, ecsTarget, executionInfo, receivedIncident, workflowState,
} from '../support/fixtures';
import { ACCOUNT, REGION } from '../support/synth';

const dynamo = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);

const LEDGER = 'medic-ledger';
const EXECUTION_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:execution:medic-api-restart:${INCIDENT_ID}`;
const SERVICE_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/api`;

// ---- builders -------------------------------------------------------------------------------

const TRIGGER = alarmTrigger({ reason: 'Threshold Crossed: 12 > 5' });

function state(overrides: Partial<WorkflowState> = {}): WorkflowState {
  return workflowState({ execution: executionInfo(INCIDENT_ID), incident: receivedIncident({ trigger: TRIGGER }), ...overrides });
}

const ACT_PLAN: Plan = { decision: 'act', reason: 'service is stable and its alarm fired', summary: 'UpdateService forceNewDeployment on prod/api', details: {} };
const ACTED: ActResult = {
  summary: 'forced a new deployment of prod/api (ecs-svc/2)', calls: [], batch: 0, moreBatches: false, details: { deploymentId: 'ecs-svc/2' },
};
const FAILED_VERIFY: VerifyState = {
  status: 'failed', batch: 0, checks: 4, consecutiveSuccesses: 0, lastVerdict: 'pending', lastReadings: {},
  reason: 'not verified after 4 check(s): service not steady: 3/4 tasks running, 1 pending',
};

const compose = (s: WorkflowState) => composeEscalation(s, LEDGER);

// ---- composeEscalation ----------------------------------------------------------------------

describe('composeEscalation', () => {
  test('names the alarm, the target, what medic saw and did', () => {
    const message = compose(state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY }));
    expect(message.body).toContain(`alarm ${ALARM} went to ALARM at 2026-11-22T03:17:22.318Z: Threshold Crossed: 12 > 5`);
    expect(message.body).toContain(`TARGET: ecs-service prod/api (${SERVICE_ARN})`);
    expect(message.body).toContain(`WHAT MEDIC SAW: ${ACT_PLAN.reason}; plan: ${ACT_PLAN.summary}`);
    expect(message.body).toContain(`WHAT MEDIC DID: ${ACTED.summary}`);
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

// ---- handler --------------------------------------------------------------------------------

describe('escalate handler', () => {
  beforeEach(() => {
    dynamo.reset();
    sns.reset();
    dynamo.on(QueryCommand).resolves({ Items: [] });
    dynamo.on(PutCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });
  afterAll(() => {
    dynamo.restore();
    sns.restore();
  });

  const published = () => sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
  const escalatedState = () => state({ plan: ACT_PLAN, act: ACTED, verify: FAILED_VERIFY });

  test('records "escalated" and publishes the message to the topic', async () => {
    const result = await handler(escalatedState());
    expect(result).toMatchObject({ published: true, recorded: true, headline: 'verification failed' });
    const [item] = dynamo.commandCalls(PutCommand).map((call) => call.args[0].input.Item as LedgerEntry);
    expect(item.phase).toBe('escalated');
    expect(item.pk).toBe(`INCIDENT#${INCIDENT_ID}`);
    const [message] = published();
    expect(message.TopicArn).toBe(process.env.MEDIC_TOPIC_ARN);
    expect(message.Subject).toBe('[medic] api-restart: verification failed (prod/api)');
    expect(message.Message).toContain(`INCIDENT#${INCIDENT_ID}`);
    expect(message.Message).not.toContain('ALSO:');
  });

  test('publishes even when the ledger write fails, and says so', async () => {
    dynamo.on(PutCommand).rejects(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));
    const result = await handler(escalatedState());
    expect(result).toMatchObject({ published: true, recorded: false });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const [message] = published();
    expect(message.Message).toContain('ALSO: the ledger entry could not be written: ProvisionedThroughputExceededException');
    expect(message.Message).toContain('WHAT FAILED:');
  });

  test('publishes even when the ledger cannot be read', async () => {
    dynamo.on(QueryCommand).rejects(new Error('connect ETIMEDOUT'));
    const result = await handler(escalatedState());
    expect(result.published).toBe(true);
    expect(published()[0].Message).toContain('the ledger entry could not be written');
  });

  test('throws when the notification cannot be published', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('topic key disabled'), { name: 'KMSDisabledException' }));
    await expect(handler(escalatedState())).rejects.toThrow(/escalation failed: the notification could not be published: KMSDisabledException/);
    // The ledger still got its entry before the publish failed.
    expect(dynamo).toHaveReceivedCommand(PutCommand);
  });

  test('without an incident it still publishes, and says nothing could be recorded', async () => {
    const result = await handler(state({ incident: undefined, admission: undefined, error: { Error: 'Medic.InvalidState', Cause: 'the workflow state has no runbook' } }));
    expect(result).toMatchObject({ published: true, recorded: false, headline: 'a step failed' });
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
    const [message] = published();
    expect(message.Subject).toContain('(no target)');
    expect(message.Message).toContain('INCIDENT#(no incident)');
    expect(message.Message).toContain('ALSO: no incident to record against');
  });
});
