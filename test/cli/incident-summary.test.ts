import { canonicalJson } from '../../lambdas/shared/canonical-json';
import type { LedgerEntry, Phase } from '../../lambdas/shared/ledger';
import { renderTable } from '../../lib/cli/command-kit';
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
    // Minutes after the entries: nothing is past a deadline yet.
    expect(outcomeOf(incident, new Date('2026-11-22T03:30:00Z'))).toBe(outcome);
  });

  test('a trail without an ending entry is open until its deadline (or 24 h after its newest entry), then incomplete', () => {
    const running = entries(['received', { deadline: '2026-11-22T05:00:00.000Z' }], ['admitted'], ['acting']);
    expect(outcomeOf(running, new Date('2026-11-22T04:59:00Z'))).toBe('open');
    expect(outcomeOf(running, new Date('2026-11-22T06:00:00Z'))).toBe('incomplete');
    const legacy = entries(['received'], ['acting']);
    expect(outcomeOf(legacy, new Date('2026-11-23T03:00:00Z'))).toBe('open');
    expect(outcomeOf(legacy, new Date('2026-11-23T04:00:00Z'))).toBe('incomplete');
    expect(outcomeOf([...running, ...entries(['reconciled']).map((e) => ({ ...e, seq: 4 }))], new Date('2026-11-22T06:00:00Z'))).toBe('reconciled');
  });
});

describe('summarizeDetail: one line', () => {
  test.each([
    [{ outcome: 'resolved', summary: 'stopped 2 tasks' }, 'resolved: stopped 2 tasks'],
    [{ decision: 'defer', reason: 'deploying', summary: 'nothing' }, 'defer: nothing'],
    [{ headline: 'action failed', diagnosis: 'AccessDenied' }, 'action failed: AccessDenied'],
    [{ error: { Error: 'Medic.ActFailed', Cause: '{"errorType":"Medic.ActFailed","errorMessage":"ECS said no"}' } }, 'Medic.ActFailed: ECS said no'],
    [{ owner: 'arn:exec' }, 'already handled by arn:exec'],
    [{ reason: 'line one\nline two' }, 'line one\\nline two'],
    [{ odd: 1 }, '{"odd":1}'],
  ])('%j', (detail, line) => {
    expect(summarizeDetail(canonicalJson(detail))).toBe(line);
  });

  test('long text is clipped, with a marker saying how much', () => {
    expect(summarizeDetail(canonicalJson({ reason: 'x'.repeat(500) }), 40)).toBe(`${'x'.repeat(18)}…(482 more characters)`);
  });

  test('untrusted text is inert: escapes and bidi controls are shown, a newline does not break the line', () => {
    const hostile = canonicalJson({ trigger: { kind: 'alarm', name: 'api-5xx\u001b[2J\u001b[31m\nWHAT MEDIC DID: nothing\u202e', reason: 'Threshold\rCrossed' } });
    expect(summarizeDetail(hostile)).toBe('alarm api-5xx\\x1b[2J\\x1b[31m\\nWHAT MEDIC DID: nothing\\u202e: Threshold\\rCrossed');
    // Shown as JSON: escaped once, and what JSON.stringify leaves raw (bidi, U+2028, DEL, C1) is escaped too.
    expect(summarizeDetail(canonicalJson({ odd: 'a\u202eb\u2028c\u009bd "q"' }))).toBe('{"odd":"a\\u202eb\\u2028c\\u009bd \\"q\\""}');
    // A cut never splits an escape.
    expect(summarizeDetail(canonicalJson({ reason: '\u001b'.repeat(100) }), 40)).toBe(`${'\\x1b'.repeat(4)}…(96 more characters)`);
  });
});

describe('renderTable', () => {
  test('a cell that still holds a control or bidi character is escaped, as a last line of defence; inert cells are left as they are', () => {
    const table = renderTable(['h\u001b[1m'], [['x\u001b[2J\ny\u202e'], ['already \\x1b inert'], [42]]);
    expect(table).toContain('h\\x1b[1m');
    expect(table).toContain('x\\x1b[2J\\ny\\u202e');
    expect(table).toContain('already \\x1b inert');
    expect(table).not.toMatch(/[\u001b\u202e]/);
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
