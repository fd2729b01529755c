import { canonicalJson } from '../../lambdas/shared/canonical-json';
import type { LedgerEntry, Phase } from '../../lambdas/shared/ledger';
import { outcomeOf, summarizeDetail } from '../../lib/cli/incident-summary';
import { parseInstant } from '../../lib/cli/time-range';

/** The pure parts of the ledger commands, in process (the commands themselves are tested as child processes). */

const entries = (...steps: Array<[Phase, unknown?]>): LedgerEntry[] => steps.map(([phase, detail], i) => ({
  pk: 'INCIDENT#i', sk: `${i + 1}#${phase}`, incidentId: 'i', seq: i + 1, phase, at: `2026-11-22T03:0${i}:00.000Z`, day: '2026-11-22',
  runbook: 'r', actor: 'a', detail: canonicalJson(detail ?? {}), prevHash: '', hash: '',
}));

describe('outcomeOf: the first rule that applies', () => {
  test.each([
    ['a refusal wins over the escalation that reports it', entries(['received'], ['denied'], ['escalated']), 'denied'],
    ['a duplicate delivery', entries(['duplicate', { owner: 'x' }]), 'duplicate'],
    ['a rejected event', entries(['rejected'], ['escalated']), 'rejected'],
    ['what Complete recorded', entries(['received'], ['admitted'], ['planned'], ['completed', { outcome: 'no-action-needed', summary: 's' }]), 'no-action-needed'],
    ['Complete recorded, then releasing leases failed and escalated', entries(['received'], ['completed', { outcome: 'resolved' }], ['escalated']), 'resolved'],
    ['deferred', entries(['received'], ['deferred', { outcome: 'deferred' }]), 'deferred'],
    ['failed after admission', entries(['received'], ['admitted'], ['acting'], ['act-failed'], ['escalated']), 'escalated'],
    ['still running', entries(['received'], ['admitted'], ['acting']), 'open'],
    ['a sweep\'s own record', entries(['swept'], ['swept']), 'swept'],
    ['a completed detail stored truncated (over 64 KB) keeps its outcome',
      entries(['completed', { truncated: true, originalBytes: 70000, preview: '{"outcome":"observed","report":{' }]), 'observed'],
  ])('%s', (_case, incident, outcome) => {
    expect(outcomeOf(incident)).toBe(outcome);
  });
});

describe('summarizeDetail: one line', () => {
  test.each([
    [{ outcome: 'resolved', summary: 'stopped 2 tasks' }, 'resolved: stopped 2 tasks'],
    [{ decision: 'defer', reason: 'deploying', summary: 'nothing' }, 'defer: nothing'],
    [{ headline: 'action failed', diagnosis: 'AccessDenied' }, 'action failed: AccessDenied'],
    [{ error: { Error: 'Medic.ActFailed', Cause: '{"errorType":"Medic.ActFailed","errorMessage":"ECS said no"}' } }, 'Medic.ActFailed: ECS said no'],
    [{ owner: 'arn:exec' }, 'already handled by arn:exec'],
    [{ reason: 'line one\nline two' }, 'line one line two'],
    [{ odd: 1 }, '{"odd":1}'],
  ])('%j', (detail, line) => {
    expect(summarizeDetail(canonicalJson(detail))).toBe(line);
  });

  test('long text is clipped', () => {
    expect(summarizeDetail(canonicalJson({ reason: 'x'.repeat(500) }), 20)).toBe(`${'x'.repeat(17)}...`);
  });
});

describe('parseInstant', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  test.each([
    ['30m', '2026-11-22T11:30:00.000Z'], ['24h', '2026-11-21T12:00:00.000Z'], ['7d', '2026-11-15T12:00:00.000Z'], ['2w', '2026-11-08T12:00:00.000Z'],
    ['2026-11-20', '2026-11-20T00:00:00.000Z'], ['2026-11-20T03:04:05Z', '2026-11-20T03:04:05.000Z'], ['2026-11-20T03:04:05+02:00', '2026-11-20T01:04:05.000Z'],
  ])('%s', (value, iso) => {
    expect(parseInstant(value, now).toISOString()).toBe(iso);
  });

  test.each(['yesterday', '24', 'h', '2026-13-45', 'March 3'])('rejects %s', (value) => {
    expect(() => parseInstant(value, now)).toThrow('expected an ISO date');
  });
});
