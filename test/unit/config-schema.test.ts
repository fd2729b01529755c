import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parse as parseYaml } from 'yaml';
import { CONFIG_SCHEMA_FILE, configJsonSchemaText } from '../../lib/config-schema-file';

// docs/medic.config.schema.json is generated from the zod schema in lib/config.ts (for editors);
// these tests keep the committed file in step with it and check it against real configurations.

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLE_FILE = path.join(ROOT, 'bin', 'medic.config.example.json');
const committed = fs.readFileSync(CONFIG_SCHEMA_FILE, 'utf8');
const schema = JSON.parse(committed) as { properties: Record<string, unknown> };
const example = JSON.parse(fs.readFileSync(EXAMPLE_FILE, 'utf8')) as Record<string, any>;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
const errorsOf = (config: unknown) => (validate(config) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`));

test('the committed docs/medic.config.schema.json is generated from lib/config.ts (regenerate: npx tsx lib/config-schema-file.ts)', () => {
  expect(committed).toBe(configJsonSchemaText());
});

test('the example configuration points at the schema, and its top-level keys are all in it', () => {
  expect(path.resolve(path.dirname(EXAMPLE_FILE), example.$schema)).toBe(CONFIG_SCHEMA_FILE);
  expect(Object.keys(example).filter((key) => !(key in schema.properties))).toEqual([]);
});

test('the example configuration validates against the JSON Schema', () => {
  expect(errorsOf(example)).toEqual([]);
});

test('every bundled scenario\'s configuration validates against the JSON Schema too', () => {
  const dir = path.join(ROOT, 'scenarios');
  const configs = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))
    .map((f) => [f, (parseYaml(fs.readFileSync(path.join(dir, f), 'utf8')) as { config?: unknown }).config] as const)
    .filter(([, config]) => config !== undefined);
  expect(configs.length).toBeGreaterThan(10);
  for (const [file, config] of configs) expect([file, errorsOf(config)]).toEqual([file, []]);
});

test('the JSON Schema is strict as the parser is: an unknown key, a wrong type and a malformed alarm ARN are refused', () => {
  expect(errorsOf({ ...example, stackNmae: 'x' })).toEqual([' must NOT have additional properties']);
  expect(errorsOf({ ...example, escalationEmails: 'oncall@example.com' })).toEqual(['/escalationEmails must be array']);
  const withArn = structuredClone(example);
  withArn.runbooks.ecsTaskRestart[0].alarmArns = ['x'];
  expect(errorsOf(withArn)).toEqual([expect.stringMatching(/^\/runbooks\/ecsTaskRestart\/0\/alarmArns\/0 must match pattern/)]);
});
