import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../lib/config';
import { withClosestKey } from '../../lib/config-issues';

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLE_FILE = path.join(ROOT, 'bin', 'medic.config.example.json');
const exampleText = fs.readFileSync(EXAMPLE_FILE, 'utf8');

type Json = Record<string, any>;

/** A fresh, mutable copy of the example configuration. */
const example = (): Json => JSON.parse(exampleText) as Json;
/** The example configuration after `mutate`, as the JSON text parseConfig reads. */
const mutated = (mutate: (config: Json) => void): string => {
  const config = example();
  mutate(config);
  return JSON.stringify(config);
};

/** The error parseConfig throws for `text`, failing the test if it does not throw. */
function configError(text: string, source?: string): ConfigError {
  try {
    parseConfig(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('parseConfig accepted the configuration');
}
const errorOf = (text: string, source?: string): string => configError(text, source).message;

describe('parseConfig', () => {
  test('the example configuration parses, through parseConfig and loadConfig alike', () => {
    const parsed = parseConfig(exampleText);
    expect(parsed.stackName).toBe('Medic');
    expect(parsed.env).toEqual({ account: '111111111111', region: 'eu-west-1' });
    expect(parsed.escalationEmails).toEqual(['oncall@example.com']);
    expect(parsed.runbooks.ecsTaskRestart?.map((r) => r.name)).toEqual(['api-restart', 'worker-restart']);
    expect(parsed.runbooks.ecsTaskRestart?.[1]).toMatchObject({ strategy: 'stopTasks', maxStopPercent: 25 });
    expect(loadConfig(EXAMPLE_FILE)).toEqual(parsed);
  });

  test('the parsed configuration is the file, unchanged: no defaults filled in, nothing dropped', () => {
    expect(parseConfig(exampleText)).toEqual(example());
  });

  test('$schema (for editors) is accepted; the example points at the generated schema', () => {
    expect(example().$schema).toBe('../docs/medic.config.schema.json');
    expect(() => parseConfig(mutated((c) => { c.$schema = 'https://example.com/other.json'; }))).not.toThrow();
    expect(() => parseConfig(mutated((c) => { delete c.$schema; }))).not.toThrow();
  });

  test('an unknown top-level key is an error naming it', () => {
    const message = errorOf(mutated((c) => { c.stackNmae = 'Typo'; }));
    expect(message).toMatch(/^config: stackNmae: unknown setting; did you mean "stackName"\? \(known: .*stackName/);
  });

  test('a misspelt runbook setting is an error naming its path, not a silent default', () => {
    const message = errorOf(mutated((c) => {
      const rb = c.runbooks.ecsTaskRestart[1];
      rb.maxStopPercnt = rb.maxStopPercent;
      delete rb.maxStopPercent;
    }));
    expect(message).toMatch(/^config: runbooks\.ecsTaskRestart\[1\]\.maxStopPercnt: unknown setting; did you mean "maxStopPercent"\? \(known: .*maxStopPercent/);
  });

  test('an unknown key nested in a runbook policy is an error naming its path', () => {
    const message = errorOf(mutated((c) => { c.runbooks.ecsTaskRestart[0].policy.maxAttempt = 5; }));
    expect(message).toMatch(/^config: runbooks\.ecsTaskRestart\[0\]\.policy\.maxAttempt: unknown setting/);
  });

  test('a runbook without alarmArns is an error naming the missing setting', () => {
    const message = errorOf(mutated((c) => { delete c.runbooks.ecsTaskRestart[0].alarmArns; }));
    expect(message).toBe('config: runbooks.ecsTaskRestart[0].alarmArns: is required');
  });

  test.each([
    ['too short', '1234', '"1234"'],
    ['not digits', '11111111111a', '"11111111111a"'],
    ['a number, not a string', 111111111111, '111111111111'],
  ])('an account id that is %s is an error naming env.account and the value', (_why, account, shown) => {
    const message = errorOf(mutated((c) => { c.env.account = account; }));
    expect(message).toBe(`config: env.account: must be a 12-digit account id, got ${shown}`);
  });

  test('an invalid mode is an error naming the runbook mode and the allowed values', () => {
    const message = errorOf(mutated((c) => { c.runbooks.ecsTaskRestart[1].mode = 'yolo'; }));
    expect(message).toBe('config: runbooks.ecsTaskRestart[1].mode: must be one of observe, approve, auto, got "yolo"');
  });

  test('two runbooks with the same name are an error naming the name and both entries', () => {
    const message = errorOf(mutated((c) => { c.runbooks.ecsTaskRestart[1].name = 'api-restart'; }));
    expect(message).toMatch(/^config: runbooks\.ecsTaskRestart\[1\]\.name: /);
    expect(message).toContain('"api-restart"');
    expect(message).toContain('runbooks.ecsTaskRestart[0]');
  });

  test('the failover drill\'s default name counts: a second unnamed drill is a name used twice', () => {
    const message = errorOf(mutated((c) => { c.runbooks.rdsFailoverDrill.push({ dbInstances: ['other-db'] }); }));
    expect(message).toMatch(/^config: runbooks\.rdsFailoverDrill\[1\]\.name: runbook name "rds-failover-drill" is used twice/);
  });

  test('invalid JSON is an error naming the source file', () => {
    const message = errorOf(exampleText.replace('"stackName": "Medic",', '"stackName": "Medic"'), 'my-medic.json');
    expect(message).toMatch(/^my-medic\.json: not valid JSON/);
  });

  test('errors carry the source name given, so a user knows which file to fix', () => {
    const message = errorOf(mutated((c) => { c.runbooks.ecsTaskRestart[0].services[0].serviceName = ''; }), 'prod.json');
    expect(message).toBe('prod.json: runbooks.ecsTaskRestart[0].services[0].serviceName: must be a non-empty string, got ""');
  });

  test('loadConfig names a file that does not exist', () => {
    expect(() => loadConfig('/nonexistent/medic.json')).toThrow(new ConfigError('configuration file /nonexistent/medic.json does not exist'));
  });

  test('several problems are reported together, on one line, each with its path; the error lists them all', () => {
    const error = configError(mutated((c) => {
      c.escalationEmails = 'oncall@example.com';
      c.runbooks.ecsTaskRestart[0].strategy = 'reboot';
      c.runbooks.diskPrune[0].prune.maxDeleteMB = 2048;
      c.runbooks.certificateRenewal[0].acmEvents = 'false';
      c.runbooks.diskPruneFleet[0].maxErrors = 1;
    }), 'medic.config.json');
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/^medic\.config\.json: escalationEmails: must be a list, got "oncall@example\.com"; /);
    expect(error.message).toMatch(/; and 2 more$/);
    expect(error.problems).toEqual([
      'escalationEmails: must be a list, got "oncall@example.com"',
      'runbooks.ecsTaskRestart[0].strategy: must be one of forceNewDeployment, stopTasks, got "reboot"',
      'runbooks.diskPrune[0].prune.maxDeleteMB: must be a non-empty string, got 2048',
      'runbooks.diskPruneFleet[0].maxErrors: must be a non-empty string, got 1',
      'runbooks.certificateRenewal[0].acmEvents: must be true or false, got "false"',
    ]);
  });
});

describe('alarm ARNs', () => {
  test('a string that is not an alarm ARN is an error naming the setting and the value', () => {
    const message = errorOf(mutated((c) => { c.runbooks.asgElbHealthCheck[0].alarmArns[0] = 'x'; }), 'medic.config.json');
    expect(message).toBe('medic.config.json: runbooks.asgElbHealthCheck[0].alarmArns[0]: must be a CloudWatch alarm ARN (arn:aws:cloudwatch:<region>:<account>:alarm:<name>), got "x"');
  });

  test.each([
    ['another account', 'arn:aws:cloudwatch:eu-west-1:222222222222:alarm:prod-api-5xx', 'account 222222222222'],
    ['another region', 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:prod-api-5xx', 'region us-east-1'],
    ['another account and region', 'arn:aws:cloudwatch:us-east-1:222222222222:alarm:prod-api-5xx', 'account 222222222222 and region us-east-1'],
  ])('an alarm in %s than the stack\'s env is a synth error saying medic has no cross-account setting', (_why, arn, where) => {
    const message = errorOf(mutated((c) => { c.runbooks.ecsTaskRestart[1].alarmArns.push(arn); }));
    expect(message).toMatch(/^config: runbooks\.ecsTaskRestart\[1\]\.alarmArns\[1\]: /);
    expect(message).toContain(`the alarm is in ${where}, not the stack's env (account 111111111111, region eu-west-1)`);
    expect(message).toContain('no cross-account or cross-region setting');
  });

  test('a drill\'s guard alarm is held to the same env', () => {
    const message = errorOf(mutated((c) => { c.runbooks.rdsFailoverDrill[0].guardAlarmArns[0] = 'arn:aws:cloudwatch:eu-west-1:222222222222:alarm:g'; }));
    expect(message).toMatch(/^config: runbooks\.rdsFailoverDrill\[0\]\.guardAlarmArns\[0\]: the alarm is in account 222222222222/);
  });

  test('alarms in the stack\'s account and region, of any partition, pass', () => {
    const config = parseConfig(mutated((c) => {
      c.env = { account: '123456789012', region: 'cn-north-1' };
      c.runbooks = { ecsTaskRestart: [{ name: 'cn', alarmArns: ['arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:a:b c'], services: [{ clusterName: 'c', serviceName: 's' }] }] };
    }));
    expect(config.runbooks.ecsTaskRestart?.[0].alarmArns).toEqual(['arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:a:b c']);
  });
});

describe('the reference app (bin/medic.ts) on a bad configuration', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-config-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('prints one line naming the file and the setting, no stack trace, and exits 1 before synthesizing', () => {
    const file = path.join(dir, 'medic.config.json');
    fs.writeFileSync(file, mutated((c) => { c.runbooks.ecsTaskRestart[0].alarmArns[0] = 'x'; }));
    const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'bin', 'medic.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ 'medic:config': file }), CDK_OUTDIR: path.join(dir, 'out') },
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`medic: ${file}: runbooks.ecsTaskRestart[0].alarmArns[0]: must be a CloudWatch alarm ARN (arn:aws:cloudwatch:<region>:<account>:alarm:<name>), got "x"\n`);
    expect(fs.existsSync(path.join(dir, 'out', 'manifest.json'))).toBe(false);
  });
});

describe('an unknown key names the known key it was most likely meant to be', () => {
  const message = 'unknown setting (known: mode, policy, timeoutMinutes, services)';
  test.each([
    ['polcy', 'unknown setting; did you mean "policy"? (known: mode, policy, timeoutMinutes, services)'],
    ['timeoutMinutse', 'unknown setting; did you mean "timeoutMinutes"? (known: mode, policy, timeoutMinutes, services)'],
    ['SERVICES', 'unknown setting; did you mean "services"? (known: mode, policy, timeoutMinutes, services)'],
    ['strategy', message],
    ['x', message],
  ])('%s', (key, expected) => {
    expect(withClosestKey(key, message)).toBe(expected);
  });

  test('two equally close keys: no guess', () => {
    expect(withClosestKey('ab', 'unknown key (known: aa, bb)')).toBe('unknown key (known: aa, bb)');
  });
});
