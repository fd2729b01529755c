import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'medic-cli.js');
const scenario = (name: string) => path.join(ROOT, 'scenarios', `${name}.yaml`);

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-gameday-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `medic gameday ...` as a user runs it, with its own local ledger folder. */
function gameday(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, 'gameday', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, MEDIC_LOCAL_DB_DIR: path.join(tmp, 'db'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    timeout: 240_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A bundled scenario with some of its text replaced, written to the temporary folder. */
function variant(name: string, edits: Array<[string, string]>): string {
  let text = fs.readFileSync(scenario(name), 'utf8');
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`${name} has no "${from}"`);
    text = text.replace(from, to);
  }
  const file = path.join(tmp, `${name}-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

describe('medic gameday', () => {
  // Every bundled scenario (what `medic gameday` runs without arguments) is run in process, once,
  // by test/gameday/bundled-scenarios.test.ts; here the command line itself.
  test('prints each incident\'s timeline and a summary, and writes the JSON report with the ledger entries and mutating calls', () => {
    const report = path.join(tmp, 'report.json');
    const run = gameday(scenario('ecs-restart-heals'), scenario('ecs-duplicate-delivery'), '--json', report);
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n').map((l) => l.trim());
    expect(lines).toContain('03:17:00 DETECT api-5xx ALARM (ecs-service prod/api)');
    expect(lines).toContain('03:17:00 ACT ecs:UpdateService cluster=prod forceNewDeployment=true service=api');
    expect(lines).toContain('03:19:00 RESOLVED in 2m00s (simulated)');
    expect(run.stdout).toMatch(/DUPLICATE delivery of api-restart-\S+ \(already handled\)/);
    expect(run.stdout).toMatch(/│ ecs-restart-heals\s+│ 1\s+│ 1\s+│ 0\s+│ 0\s+│ 0\s+│ 2m00s\s+│ PASS/);

    const json = JSON.parse(fs.readFileSync(report, 'utf8'));
    expect(json.passed).toBe(true);
    expect(json.scenarios.map((s: { name: string }) => s.name)).toEqual(['ecs-restart-heals', 'ecs-duplicate-delivery']);
    const [heals, duplicate] = json.scenarios;
    expect(heals.incidents).toHaveLength(1);
    expect(heals.incidents[0]).toMatchObject({ runbook: 'api-restart', outcome: 'resolved', secondsToResolve: 120 });
    expect(heals.incidents[0].entries.map((e: { phase: string }) => e.phase))
      .toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'checked', 'verified', 'completed']);
    expect(heals.calls).toEqual([{ at: '2026-11-22T03:17:00.000Z', service: 'ecs', operation: 'UpdateService', parameters: { cluster: 'prod', service: 'api', forceNewDeployment: true }, runbook: 'api-restart',
      guards: { changeCalendar: 'OPEN', globalKillSwitch: 'off', runbookKillSwitch: 'off' } }]);
    // Each expectation's result, met or not, besides the failures.
    expect(heals.expectations).toEqual([
      { expectation: '1 resolved incident(s) of api-restart', passed: true, detail: 'got 1' },
      { expectation: '1 ecs:UpdateService call(s)', passed: true, detail: 'made 1' },
    ]);
    expect(heals.failures).toEqual([]);
    // The second scenario runs on the next simulated day, so the two never share incident ids.
    expect(duplicate.calls[0].at).toBe('2026-11-23T03:17:00.000Z');
    expect(duplicate.incidents.map((i: { outcome: string }) => i.outcome).sort()).toEqual(['duplicate', 'resolved']);

    // The last line says how to list this game day's ledger; `--local` reads its simulated days by default (not the last 24 hours).
    expect(run.stdout.trimEnd().split('\n').pop()).toBe('The ledger of this game day (its simulated days): npx medic ledger list --local');
    const list = spawnSync(process.execPath, [CLI, 'ledger', 'list', '--local'], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, MEDIC_LOCAL_DB_DIR: path.join(tmp, 'db'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    expect(list.status).toBe(0);
    expect(list.stdout).toContain('3 incident(s) with entries between 2026-11-22T03:17:00Z and 2026-11-23T03:19:02Z');
  });

  test('a scenario whose expectations are not met exits 1 and says which', () => {
    const wrong = variant('ecs-restart-heals', [['outcome: resolved', 'outcome: escalated'], ["'ecs:UpdateService': 1", "'ecs:UpdateService': 2"]]);
    const run = gameday(wrong);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('EXPECTATION NOT MET: expected 1 escalated incident(s) of api-restart, got 0 (its outcomes: resolved)');
    expect(run.stdout).toContain('EXPECTATION NOT MET: expected 2 ecs:UpdateService call(s), the runbooks made 1');
    expect(run.stdout).toContain('1 of 1 scenario(s) did not meet their expectations.');
  });

  test('a scenario that cannot be read exits 2 and names the problem', () => {
    const unknownKey = variant('ecs-restart-heals', [['timeline:', 'timelime: []\ntimeline:']]);
    const run = gameday(unknownKey);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/ecs-restart-heals-\w+\.yaml: timelime: unknown key; did you mean "timeline"\? \(known: name, description, start, config, app, services, world, timeline, faults, expect, limit\)\n$/);
    const missing = gameday(path.join(tmp, 'no-such.yaml'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no-such\.yaml does not exist/);
  });
});
