import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig, parseConfig } from '../../lib/config';

const EXAMPLE_FILE = path.join(__dirname, '..', '..', 'bin', 'medic.config.example.json');
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

/** The message parseConfig throws for `text`, failing the test if it does not throw. */
function errorOf(text: string, source?: string): string {
  try {
    parseConfig(text, source);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('parseConfig accepted the configuration');
}

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

  test('an unknown top-level key is an error naming it', () => {
    const message = errorOf(mutated((c) => { c.stackNmae = 'Typo'; }));
    expect(message).toMatch(/^config\.stackNmae: unknown setting/);
  });

  test('a misspelt runbook setting is an error naming its path, not a silent default', () => {
    const message = errorOf(mutated((c) => {
      const rb = c.runbooks.ecsTaskRestart[1];
      rb.maxStopPercnt = rb.maxStopPercent;
      delete rb.maxStopPercent;
    }));
    expect(message).toMatch(/^config\.runbooks\.ecsTaskRestart\[1\]\.maxStopPercnt: unknown setting/);
  });

  test('an unknown key nested in a runbook policy is an error naming its path', () => {
    const message = errorOf(mutated((c) => { c.runbooks.ecsTaskRestart[0].policy.maxAttempt = 5; }));
    expect(message).toMatch(/^config\.runbooks\.ecsTaskRestart\[0\]\.policy\.maxAttempt: unknown setting/);
  });

  test('a runbook without alarmArns is an error naming the missing setting', () => {
    const message = errorOf(mutated((c) => { delete c.runbooks.ecsTaskRestart[0].alarmArns; }));
    expect(message).toMatch(/^config\.runbooks\.ecsTaskRestart\[0\]\.alarmArns: is required/);
  });

  test.each([
    ['too short', '1234'],
    ['not digits', '11111111111a'],
    ['a number, not a string', 111111111111],
  ])('an account id that is %s is an error naming env.account', (_why, account) => {
    const message = errorOf(mutated((c) => { c.env.account = account; }));
    expect(message).toMatch(/^config\.env\.account: must be a 12-digit account id/);
  });

  test('an invalid mode is an error naming the runbook mode and the allowed values', () => {
    const message = errorOf(mutated((c) => { c.runbooks.ecsTaskRestart[1].mode = 'yolo'; }));
    expect(message).toMatch(/^config\.runbooks\.ecsTaskRestart\[1\]\.mode: must be one of/);
    expect(message).toContain('observe');
    expect(message).toContain('auto');
  });

  test('two runbooks with the same name are an error naming the name', () => {
    const message = errorOf(mutated((c) => { c.runbooks.ecsTaskRestart[1].name = 'api-restart'; }));
    expect(message).toMatch(/^config\.runbooks: /);
    expect(message).toContain('"api-restart"');
  });

  test('invalid JSON is an error naming the source file', () => {
    const message = errorOf(exampleText.replace('"stackName": "Medic",', '"stackName": "Medic"'), 'my-medic.json');
    expect(message).toMatch(/^my-medic\.json: not valid JSON/);
  });

  test('errors carry the source name given, so a user knows which file to fix', () => {
    const message = errorOf(mutated((c) => { c.runbooks.ecsTaskRestart[0].services[0].serviceName = ''; }), 'prod.json');
    expect(message).toMatch(/^prod\.json\.runbooks\.ecsTaskRestart\[0\]\.services\[0\]\.serviceName: must be a non-empty string/);
  });

  test('loadConfig names a file that does not exist', () => {
    expect(() => loadConfig('/nonexistent/medic.json')).toThrow('/nonexistent/medic.json');
  });
});
