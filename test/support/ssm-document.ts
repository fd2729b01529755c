import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

export const DISK_PRUNE_DOCUMENT = path.join(__dirname, '..', '..', 'ssm-documents', 'medic-disk-prune.yaml');

export interface CommandDocument {
  schemaVersion: string;
  description?: string;
  parameters: Record<string, { type: string; default?: string; allowedPattern?: string; description?: string }>;
  mainSteps: Array<{ action: string; name: string; precondition?: unknown; inputs: { runCommand: string[]; timeoutSeconds?: string } }>;
}

export function loadDocument(file = DISK_PRUNE_DOCUMENT): CommandDocument {
  return parse(readFileSync(file, 'utf8')) as CommandDocument;
}

/**
 * The shell script as SSM Run Command would run it: `{{ name }}` replaced by the parameter values
 * (defaults unless given). A value that fails its allowedPattern is an error, as SSM refuses it.
 */
export function renderScript(values: Record<string, string> = {}, doc = loadDocument()): string {
  const resolved: Record<string, string> = {};
  for (const [name, spec] of Object.entries(doc.parameters)) {
    const value = values[name] ?? spec.default ?? '';
    if (spec.allowedPattern && !new RegExp(spec.allowedPattern).test(value)) throw new Error(`parameter ${name}: "${value}" does not match ${spec.allowedPattern}`);
    resolved[name] = value;
  }
  return doc.mainSteps[0].inputs.runCommand.join('\n').replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
    if (!(name in resolved)) throw new Error(`the script uses undeclared parameter ${name}`);
    return resolved[name];
  });
}
