import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dynamo } from '../../lambdas/shared/clients';
import { appendEntry, type Phase } from '../../lambdas/shared/ledger';
import { executionDeadline } from '../../lambdas/shared/ledger-completeness';
import { acquireLease } from '../../lambdas/shared/limiter';
import { LOCAL_LEDGER_TABLE, LOCAL_LIMITER_TABLE, openLocalTables, saveLocalExecutions } from '../../lib/local/local-ledger';
import { runCli } from './run-cli';

/**
 * Complete trails from the command line (child processes, as a user runs them): `ledger verify`
 * reports a trail without an ending entry past its deadline and exits 1, `ledger list` shows it
 * `incomplete`, and `ledger reconcile --local` closes it from the execution history the last game
 * day saved (pages printed), after which it shows `reconciled`.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-reconcile-db-'));
const TARGET = 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api';
const INCIDENT = 'api-restart-20261122T031800Z-lost';
const EXECUTION = `arn:aws:states:eu-west-1:111111111111:execution:ApiRestartWorkflow:${INCIDENT}`;
const start = Date.now() - 3 * 3_600_000;

beforeAll(async () => {
  // The handlers' client (appendEntry, leases) goes to the persisted local tables, as in a game day.
  const local = await openLocalTables({ dir, setEndpointEnv: true });
  try {
    const steps: Array<[Phase, Record<string, unknown>]> = [
      ['received', { trigger: { kind: 'alarm', name: 'api-5xx' }, deadline: executionDeadline(new Date(start).toISOString(), 7200) }],
      ['admitted', { reason: 'all guards passed' }],
      ['acting', { batch: 0 }],
    ];
    for (let i = 0; i < steps.length; i++) {
      await appendEntry({
        table: LOCAL_LEDGER_TABLE, incidentId: INCIDENT, phase: steps[i][0], runbook: 'api-restart', targetArn: TARGET, mode: 'auto', actor: 'medic-test',
        execution: EXECUTION, detail: steps[i][1], now: new Date(start + i * 1000),
      });
    }
    await acquireLease(LOCAL_LIMITER_TABLE, `target#${TARGET}`, INCIDENT, 1, 8 * 3600);
  } finally {
    dynamo().destroy();
    await local.stop();
  }
  const at = (s: number) => new Date(start + s * 1000).toISOString();
  const cause = JSON.stringify({ errorType: 'Medic.ActUnrecorded', errorMessage: 'the batch was done (UpdateService prod/api: succeeded (request gameday-7)) but the ledger entry "acted" could not be written: DynamoDB is unavailable' });
  saveLocalExecutions([{
    executionArn: EXECUTION, stateMachineArn: 'arn:aws:states:eu-west-1:111111111111:stateMachine:ApiRestartWorkflow', name: INCIDENT, status: 'FAILED',
    startDate: at(0), stopDate: at(5),
    events: [
      { id: 1, timestamp: at(0), type: 'ExecutionStarted' },
      { id: 2, timestamp: at(1), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Act' } },
      { id: 3, timestamp: at(2), type: 'LambdaFunctionFailed', lambdaFunctionFailedEventDetails: { error: 'Medic.ActUnrecorded', cause } },
      { id: 4, timestamp: at(3), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Escalate' } },
      { id: 5, timestamp: at(4), type: 'LambdaFunctionSucceeded', lambdaFunctionSucceededEventDetails: { output: '{"published":true}' } },
      { id: 6, timestamp: at(5), type: 'ExecutionFailed', executionFailedEventDetails: { error: 'Medic.Escalated', cause: 'a human was notified' } },
    ],
  }], { dir, fresh: true });
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const medic = (...args: string[]) => runCli(['ledger', ...args], { MEDIC_LOCAL_DB_DIR: dir });
const outcomes = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line) as { incidentId: string; outcome: string });

test('verify reports the incomplete trail (exit 1), list shows it incomplete; reconcile closes it; then both agree it is reconciled', async () => {
  const verify = await medic('verify', '--local', '--since', '1d');
  expect(verify.code).toBe(1);
  expect(verify.stdout).toContain(`INCOMPLETE: incident ${INCIDENT} ends at "acting", with no ending entry, past its deadline ${new Date(start + 7_200_000).toISOString()}`);
  expect(verify.stdout).toContain('1 incomplete trail(s): `medic ledger reconcile` closes them from the execution history');
  const json = JSON.parse((await medic('verify', '--local', '--since', '1d', '--json')).stdout) as Record<string, unknown>;
  expect(json).toMatchObject({ ok: false, chain: { ok: true, incidents: 1 } });
  expect(json.incomplete).toEqual([{ incidentId: INCIDENT, lastPhase: 'acting', deadline: new Date(start + 7_200_000).toISOString(), deadlineFrom: 'received' }]);
  const byIncident = await medic('verify', '--local', '--incident', INCIDENT);
  expect(byIncident.code).toBe(1);
  expect(byIncident.stdout).toContain(`INCOMPLETE: incident ${INCIDENT}`);
  expect(outcomes((await medic('list', '--local', '--since', '1d', '--json')).stdout)).toEqual([expect.objectContaining({ incidentId: INCIDENT, outcome: 'incomplete' })]);

  const reconcile = await medic('reconcile', '--local', '--since', '1d');
  expect(reconcile.stderr).toBe('');
  expect(reconcile.code).toBe(0);
  expect(reconcile.stdout).toContain('PAGE (local: printed here, not sent): [medic] api-restart: the ledger missed 1 change(s) (api)');
  expect(reconcile.stdout).toContain('UpdateService prod/api: succeeded (request gameday-7), shown by the error of step "Act"');
  expect(reconcile.stdout).toContain(`incident ${INCIDENT}: reconciled; execution FAILED; leases released: target#${TARGET}; MISSED BY THE LEDGER: UpdateService prod/api: succeeded (paged)`);
  expect(reconcile.stdout).toContain('1 incomplete incident(s) among 1');

  const after = await medic('verify', '--local', '--since', '1d');
  expect(after.stdout).not.toContain('INCOMPLETE');
  expect(outcomes((await medic('list', '--local', '--since', '1d', '--json')).stdout)).toEqual([expect.objectContaining({ incidentId: INCIDENT, outcome: 'reconciled', lastPhase: 'reconciled' })]);
  const again = await medic('reconcile', '--local', '--since', '1d');
  expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining('0 incomplete incident(s) among 1') });
});

test('reconcile needs the stack (its reconciler) or --local: --table is a usage error', async () => {
  const run = await runCli(['ledger', 'reconcile', '--table', 'medic-ledger']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('reconcile runs the stack\'s reconciler (--stack <name>)');
});
