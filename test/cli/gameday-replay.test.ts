import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'medic-cli.js');

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-replay-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `medic ...` as a user runs it, with its own local ledger folder. */
function medic(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, MEDIC_LOCAL_DB_DIR: path.join(tmp, 'db'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    timeout: 240_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('medic gameday --from-incident', () => {
  let config: string;
  beforeAll(() => {
    // The configuration the "deployed" stack ran with: the scenario's own.
    config = path.join(tmp, 'medic.config.json');
    fs.writeFileSync(config, JSON.stringify(parse(fs.readFileSync(path.join(ROOT, 'scenarios', 'ecs-throttled-update.yaml'), 'utf8')).config));
    expect(medic('gameday', path.join(ROOT, 'scenarios', 'ecs-throttled-update.yaml')).status).toBe(0);
  }, 240_000);

  test('--local --out writes a scenario that replays the incident, and it passes', () => {
    const list = medic('ledger', 'list', '--local', '--json');
    expect(list.status).toBe(0);
    const [incident] = list.stdout.trim().split('\n').map((line) => JSON.parse(line));
    const out = path.join(tmp, 'replay.yaml');

    const replay = medic('gameday', '--from-incident', incident.incidentId, '--local', '--config', config, '--out', out);
    expect(replay.stderr).toBe(`wrote ${out}: 0 value(s) not recorded in the ledger are commented "default"; review them, then run: medic gameday ${out}\n`);
    expect(replay.status).toBe(0);
    expect(replay.stdout).toBe('');
    const scenario = parse(fs.readFileSync(out, 'utf8'));
    expect(scenario.name).toBe(`replay-${incident.incidentId}`);
    expect(scenario.faults).toEqual([{ operation: 'ecs:UpdateService', error: 'ThrottlingException', times: 2 }]);

    const run = medic('gameday', out);
    expect(run.stdout).toContain('All 1 scenario(s) met their expectations.');
    expect(run.status).toBe(0);

    // Without --out, the YAML goes to standard output.
    const printed = medic('gameday', '--from-incident', incident.incidentId, '--local', '--config', config);
    expect(printed.status).toBe(0);
    expect(parse(printed.stdout).name).toBe(scenario.name);
  }, 240_000);

  test('an unknown incident id is one line on stderr and exit 1', () => {
    const run = medic('gameday', '--from-incident', 'no-such-incident', '--local', '--config', config);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^medic: no incident no-such-incident in the game day ledger in \S+ \(`medic ledger list` names the incidents\)\n$/);
  });

  test('usage: replay options need --from-incident, and --from-incident a ledger', () => {
    expect(medic('gameday', '--out', 'x.yaml')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^error: --out is for --from-incident\n/) });
    expect(medic('gameday', '--from-incident', 'x')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^error: --from-incident needs a ledger: --local/) });
  });
});
