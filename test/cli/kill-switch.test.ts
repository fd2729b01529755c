import { FakeSsm } from './fake-aws';
import { runCli } from './run-cli';

/**
 * `medic kill-switch ...` run as a user runs it (child processes) against a fake SSM Parameter
 * Store on loopback, seeded with the parameters a deployed stack `MedicTest` has.
 */

const ssm = new FakeSsm();
const PREFIX = '/medic/MedicTest/kill-switch';
const GLOBAL = `${PREFIX}/global`;
const RUNBOOKS = ['api-restart', 'disk-prune', 'asg-elb-health-check', 'certificate-renewal', 'rds-failover-drill',
  'disk-prune-fleet', 'ecs-task-restart', 'runbook-8', 'runbook-9', 'runbook-10', 'runbook-11'];
const medic = (...args: string[]) => runCli(['kill-switch', ...args], { AWS_ENDPOINT_URL_SSM: ssm.endpoint });
const value = (name: string) => ssm.parameters.get(name)?.Value;
/** The status table's row for a switch: [switch, parameter, value, state]. */
const row = (stdout: string, label: string) => stdout.split('\n').find((line) => line.startsWith(`│ ${label} `))?.split('│').slice(1, 5).map((cell) => cell.trim());

beforeAll(async () => {
  await ssm.start();
});

beforeEach(() => {
  // As deployed: every switch `off` (more than one GetParametersByPath page of 10).
  ssm.parameters.clear();
  ssm.puts.length = 0;
  ssm.set(GLOBAL, 'off');
  for (const runbook of RUNBOOKS) ssm.set(`${PREFIX}/runbook/${runbook}`, 'off');
  ssm.set('/medic/OtherStack/kill-switch/global', 'off');
});

afterAll(async () => {
  await ssm.stop();
});

test('on, then off, write the stack\'s global switch and a runbook\'s own switch (String, overwrite)', async () => {
  const on = await medic('on', '--stack', 'MedicTest', '--reason', 'database migration');
  expect(on).toMatchObject({ code: 0, stderr: '' });
  expect(ssm.puts).toEqual([{ Name: GLOBAL, Value: 'on: database migration', Type: 'String', Overwrite: true }]);
  expect(on.stdout).toContain(`${GLOBAL} = "on: database migration" (version 2)`);
  expect(on.stdout).toContain('every runbook is stopped');

  const runbookOn = await medic('on', '--stack', 'MedicTest', '--runbook', 'disk-prune');
  expect(runbookOn.code).toBe(0);
  expect(ssm.puts[1]).toEqual({ Name: `${PREFIX}/runbook/disk-prune`, Value: 'on', Type: 'String', Overwrite: true });

  const runbookOff = await medic('off', '--stack', 'MedicTest', '--runbook', 'disk-prune');
  expect(runbookOff.code).toBe(0);
  expect(value(`${PREFIX}/runbook/disk-prune`)).toBe('off');
  expect(runbookOff.stdout).toContain('runbook disk-prune stays stopped: the global switch is "on: database migration" (ON)');

  const off = await medic('off', '--stack', 'MedicTest');
  expect(off.code).toBe(0);
  expect(value(GLOBAL)).toBe('off');
  expect(off.stdout).toContain('every runbook runs again');
  expect(value('/medic/OtherStack/kill-switch/global')).toBe('off');
});

test('status reads the global and every runbook switch; anything but "off", and a missing global switch, is ON', async () => {
  ssm.set(`${PREFIX}/runbook/api-restart`, 'on: flapping');
  ssm.set(`${PREFIX}/runbook/disk-prune`, 'false');
  // Only exactly "off" lets work proceed, as in the handlers: " OFF " stops its runbook, and status says why.
  ssm.set(`${PREFIX}/runbook/runbook-8`, ' OFF ');
  const allOff = await medic('status', '--stack', 'MedicTest');
  expect(allOff.code).toBe(0);
  expect(allOff.stderr).toContain(`${PREFIX}/runbook/runbook-8 is " OFF ", which is not exactly "off": it stops runbooks`);
  expect(row(allOff.stdout, 'global')).toEqual(['global', GLOBAL, '"off"', 'off']);
  expect(row(allOff.stdout, 'runbook api-restart')).toEqual(['runbook api-restart', `${PREFIX}/runbook/api-restart`, '"on: flapping"', 'ON']);
  expect(row(allOff.stdout, 'runbook disk-prune')).toEqual(['runbook disk-prune', `${PREFIX}/runbook/disk-prune`, '"false"', 'ON']);
  expect(row(allOff.stdout, 'runbook runbook-8')).toEqual(['runbook runbook-8', `${PREFIX}/runbook/runbook-8`, '" OFF "', 'ON (not exactly "off")']);
  expect(row(allOff.stdout, 'runbook runbook-11')?.[3]).toBe('off'); // from the second page
  expect(allOff.stdout.split('\n').filter((line) => line.startsWith('│ runbook '))).toHaveLength(RUNBOOKS.length);
  expect(allOff.stdout).toContain('stopped by their own switch: api-restart, disk-prune, runbook-8');

  ssm.parameters.delete(GLOBAL);
  const [missingGlobal, oneRunbook] = await Promise.all([
    medic('status', '--stack', 'MedicTest'),
    medic('status', '--prefix', `${PREFIX}/`, '--runbook', 'api-restart'),
  ]);
  expect(missingGlobal.code).toBe(0);
  expect(row(missingGlobal.stdout, 'global')).toEqual(['global', GLOBAL, '(missing)', 'ON']);
  expect(missingGlobal.stdout).toContain('global switch is ON: every runbook of this stack is stopped');
  expect(oneRunbook.stdout.split('\n').filter((line) => line.startsWith('│ runbook '))).toHaveLength(1);
  expect(row(oneRunbook.stdout, 'runbook api-restart')?.[3]).toBe('ON');
  expect(ssm.puts).toEqual([]);
});

test('status --json: every switch, its value (null: missing) and whether it is ON, as the handlers decide', async () => {
  ssm.set(`${PREFIX}/runbook/api-restart`, 'on: flapping');
  ssm.set(`${PREFIX}/runbook/runbook-8`, ' OFF ');
  const allOff = await medic('status', '--stack', 'MedicTest', '--json');
  expect(allOff.code).toBe(0);
  const status = JSON.parse(allOff.stdout) as Record<string, unknown> & { runbooks: Array<Record<string, unknown>> };
  expect(status).toMatchObject({
    prefix: PREFIX,
    global: { parameter: GLOBAL, value: 'off', on: false, looksOffButIsOn: false, lastModified: '2026-11-22T03:00:00.000Z' },
    everyRunbookStopped: false,
    stoppedRunbooks: ['api-restart', 'runbook-8'],
  });
  expect(status.runbooks.map((r) => r.runbook)).toEqual([...RUNBOOKS].sort());
  expect(status.runbooks.find((r) => r.runbook === 'api-restart'))
    .toEqual({ runbook: 'api-restart', parameter: `${PREFIX}/runbook/api-restart`, value: 'on: flapping', on: true, looksOffButIsOn: false, lastModified: '2026-11-22T03:00:00.000Z' });
  expect(status.runbooks.find((r) => r.runbook === 'runbook-8')).toMatchObject({ value: ' OFF ', on: true, looksOffButIsOn: true });
  expect(status.runbooks.find((r) => r.runbook === 'disk-prune')).toMatchObject({ value: 'off', on: false });

  ssm.parameters.delete(GLOBAL);
  const [missingGlobal, oneRunbook] = await Promise.all([
    medic('status', '--stack', 'MedicTest', '--json'),
    medic('status', '--stack', 'MedicTest', '--runbook', 'no-such-runbook', '--json'),
  ]);
  expect(JSON.parse(missingGlobal.stdout)).toMatchObject({ global: { parameter: GLOBAL, value: null, on: true, looksOffButIsOn: false, lastModified: null }, everyRunbookStopped: true });
  expect(oneRunbook.stderr).toContain('runbook "no-such-runbook" has no switch');
  expect(JSON.parse(oneRunbook.stdout)).toMatchObject({
    runbooks: [{ runbook: 'no-such-runbook', parameter: `${PREFIX}/runbook/no-such-runbook`, value: null, on: true, lastModified: null }],
    stoppedRunbooks: ['no-such-runbook'],
  });
  expect(ssm.puts).toEqual([]);
});

test('a switch value is untrusted text: status and off show it inert, escapes visible, no forged line', async () => {
  // Anyone allowed to write the parameter chooses its value; it must not drive the reader's terminal.
  const hostile = 'on: \u001b[2J\u001b[31mmaintenance\nall switches off: runbooks run as configured\u202e';
  const shown = 'on: \\x1b[2J\\x1b[31mmaintenance\\nall switches off: runbooks run as configured\\u202e';
  ssm.set(GLOBAL, hostile);
  ssm.set(`${PREFIX}/runbook/api-restart`, 'on\r\u009b2Koff');
  const [status, off, json] = await Promise.all([
    medic('status', '--stack', 'MedicTest'),
    medic('off', '--stack', 'MedicTest', '--runbook', 'disk-prune'),
    medic('status', '--stack', 'MedicTest', '--json'),
  ]);
  // JSON: parses to the exact value, with nothing raw a terminal would act on.
  expect(json).toMatchObject({ code: 0, stderr: '' });
  expect(json.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
  expect((JSON.parse(json.stdout) as { global: { value: string } }).global.value).toBe(hostile);
  for (const run of [status, off]) {
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
    // The forged text is never a line of its own (table borders and padding aside).
    expect(run.stdout.split('\n').map((line) => line.replace(/^[│\s]+/, '')).filter((line) => line.startsWith('all switches off'))).toEqual([]);
  }
  expect(row(status.stdout, 'global')).toEqual(['global', GLOBAL, `"${shown}"`, 'ON']);
  expect(row(status.stdout, 'runbook api-restart')).toEqual(['runbook api-restart', `${PREFIX}/runbook/api-restart`, '"on\\r\\x9b2Koff"', 'ON']);
  expect(status.stdout).toContain('global switch is ON: every runbook of this stack is stopped');
  expect(off.stdout).toContain(`runbook disk-prune stays stopped: the global switch is "${shown}" (ON)`);
});

test('--prefix names the switches of a stack that sets killSwitchPrefix', async () => {
  ssm.set('/ops/medic/switches/global', 'off');
  ssm.set('/ops/medic/switches/runbook/api-restart', 'off');
  const run = await medic('on', '--prefix', '/ops/medic/switches', '--runbook', 'api-restart');
  expect(run.code).toBe(0);
  expect(ssm.puts).toEqual([{ Name: '/ops/medic/switches/runbook/api-restart', Value: 'on', Type: 'String', Overwrite: true }]);
});

test('a mistyped stack or runbook writes nothing (exit 2), and status says so; so do usage errors', async () => {
  const runs = await Promise.all([
    medic('on', '--stack', 'MedicTset'),
    medic('on', '--stack', 'MedicTest', '--runbook', 'api-restrat'),
    medic('on'),
    medic('pause', '--stack', 'MedicTest'),
    // status too: "every switch missing, so ON" would say nothing true of a stack that is not there.
    medic('status', '--stack', 'MedicTset'),
  ]);
  const messages = [
    'medic: no kill switches under /medic/MedicTset/kill-switch in eu-west-1: deploy the stack first or check --stack/--region (or --prefix, if the stack sets killSwitchPrefix)\n',
    'medic: no kill switch for runbook "api-restrat" (/medic/MedicTest/kill-switch/runbook/api-restrat); runbooks with a switch: api-restart, asg-elb-health-check,',
    'error: which stack? give --stack <stack name> (or --prefix <parameter prefix>)',
    "error: unknown command 'pause'",
    'medic: no kill switches under /medic/MedicTset/kill-switch in eu-west-1: deploy the stack first',
  ];
  runs.forEach((run, i) => {
    expect({ i, code: run.code }).toEqual({ i, code: 2 });
    expect(run.stderr).toContain(messages[i]);
  });
  expect(ssm.puts).toEqual([]);
});
