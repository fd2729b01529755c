import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../lambdas/shared/clients';
import { handler as validate, MAX_CLOCK_SKEW_SECONDS, staleness } from '../../lambdas/validate/index';
import { LocalDynamo, ledgerTableInput, limiterTableInput } from '../../lib/local/dynalite';
import { ALARM, ecsRunbookSpec, executionInfo } from '../support/fixtures';
import { alarmEvent, alarmTimestamp } from '../support/synth';

/** Validate's freshness rules and its dedupe claim, against a real DynamoDB API. */

const local = new LocalDynamo();
const runbook = ecsRunbookSpec();
const MINUTE = 60_000;

beforeAll(async () => {
  await local.start();
  await local.createTable(ledgerTableInput('validate-ledger'));
  await local.createTable(limiterTableInput('validate-limiter'));
  Object.assign(process.env, { MEDIC_LEDGER_TABLE: 'validate-ledger', MEDIC_LIMITER_TABLE: 'validate-limiter' });
});
afterAll(async () => {
  dynamo().destroy();
  await local.stop();
});

describe('staleness', () => {
  const now = Date.UTC(2026, 10, 29, 12, 0, 0);
  const at = (offsetMs: number) => new Date(now + offsetMs).toISOString();

  test('within maxEventAge (default 15 minutes) and not in the future: fresh', () => {
    expect(staleness(at(-14 * MINUTE), runbook, now)).toBeUndefined();
    expect(staleness(at(MAX_CLOCK_SKEW_SECONDS * 1000), runbook, now)).toBeUndefined();
  });

  test('older than maxEventAge: stale, with the ages in the reason', () => {
    expect(staleness(at(-15 * MINUTE - 1000), runbook, now)).toMatch(/^stale event: .* 15 minute\(s\) before medic read it, older than the runbook's maxEventAge of 15 minute\(s\)/);
  });

  test('the runbook\'s own maxEventAge applies', () => {
    const strict = ecsRunbookSpec({ policy: { ...runbook.policy, maxEventAgeSeconds: 120 } });
    expect(staleness(at(-3 * MINUTE), strict, now)).toMatch(/maxEventAge of 2 minute\(s\)/);
  });

  test('dated beyond the clock skew in the future: refused', () => {
    expect(staleness(at(MAX_CLOCK_SKEW_SECONDS * 1000 + 1000), runbook, now)).toMatch(/^event dated in the future/);
  });
});

describe('the dedupe claim', () => {
  test('outlives every redelivery and redrive window (14 days)', async () => {
    const incident = await validate({ event: alarmEvent({ alarm: ALARM, timestamp: alarmTimestamp(new Date()) }), runbook, execution: executionInfo('claim-ttl') });
    expect(incident.status).toBe('received');
    const claim = await dynamo().send(new GetCommand({ TableName: 'validate-limiter', Key: { pk: `CLAIM#${incident.incidentId}` }, ConsistentRead: true }));
    expect(Number(claim.Item?.expiresAt)).toBeGreaterThan(Date.now() / 1000 + 14 * 86400);
  });

  test('a stale event is refused before it claims anything: its own rejected incident names what fired', async () => {
    const old = new Date(Date.now() - 30 * MINUTE);
    const incident = await validate({ event: alarmEvent({ alarm: ALARM, timestamp: alarmTimestamp(old) }), runbook, execution: executionInfo('stale') });
    expect(incident).toMatchObject({ status: 'rejected', incidentId: 'api-restart-rejected-stale', trigger: { name: ALARM }, target: { id: 'prod/api' } });
    expect(incident.reason).toMatch(/^stale event/);
  });
});
