import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { medicConfigSchema } from './config';

/**
 * docs/medic.config.schema.json: the JSON Schema of the configuration file, generated from the
 * zod schema (lib/config.ts) for editors (`"$schema": "../docs/medic.config.schema.json"` in
 * bin/medic.config.example.json). It describes shapes only: what only the whole file can tell
 * (names used twice, alarms outside the stack's env) and the constructs' own range checks run at
 * synth time. test/unit/config-schema.test.ts fails when the committed file is stale; regenerate
 * with `npx tsx lib/config-schema-file.ts`.
 */
export const CONFIG_SCHEMA_FILE = path.join(__dirname, '..', 'docs', 'medic.config.schema.json');

/** The file's text, as committed. */
export function configJsonSchemaText(): string {
  const schema = z.toJSONSchema(medicConfigSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'throw' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (require.main === module) {
  fs.writeFileSync(CONFIG_SCHEMA_FILE, configJsonSchemaText());
  process.stdout.write(`wrote ${path.relative(process.cwd(), CONFIG_SCHEMA_FILE)}\n`);
}
