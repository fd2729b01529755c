import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalDynamo, ledgerTableInput, limiterTableInput } from './dynalite';
import type { LocalExecutionRecord } from './template-workflow';
import { clearLocalAnchors } from './local-anchors';

export { localDbDir } from './local-db-dir';
import { localDbDir } from './local-db-dir';

export const LOCAL_LEDGER_TABLE = 'medic-gameday-ledger';
export const LOCAL_LIMITER_TABLE = 'medic-gameday-limiter';

/**
 * Opens the persisted local tables on a loopback dynalite. `fresh` drops and recreates them
 * (a game day starts from an empty ledger and limiter); otherwise missing tables are created
 * and existing ones kept. A fresh start also drops the persisted ledger anchors (lib/local/local-anchors.ts).
 */
export async function openLocalTables(options: { fresh?: boolean; dir?: string; setEndpointEnv?: boolean } = {}): Promise<LocalDynamo> {
  const dynamo = new LocalDynamo({ path: options.dir ?? localDbDir(), setEndpointEnv: options.setEndpointEnv });
  await dynamo.start();
  if (options.fresh) {
    await dynamo.deleteTables([LOCAL_LEDGER_TABLE, LOCAL_LIMITER_TABLE]);
    clearLocalAnchors(options.dir ?? localDbDir());
  }
  await dynamo.createTable(ledgerTableInput(LOCAL_LEDGER_TABLE), true);
  await dynamo.createTable(limiterTableInput(LOCAL_LIMITER_TABLE), true);
  return dynamo;
}

/**
 * The Step Functions executions of the last game day (their DescribeExecution answer and history
 * events, lib/local/template-workflow.ts), kept next to its tables so that
 * `medic ledger reconcile --local` can read the histories the reconciler needs.
 */
export const LOCAL_EXECUTIONS_FILE = 'step-functions-executions.json';

export function loadLocalExecutions(dir: string = localDbDir()): LocalExecutionRecord[] {
  const file = path.join(dir, LOCAL_EXECUTIONS_FILE);
  if (!fs.existsSync(file)) return [];
  return JSON.parse(fs.readFileSync(file, 'utf8')) as LocalExecutionRecord[];
}

/** Adds `records` to the saved executions (`fresh`: replaces them). */
export function saveLocalExecutions(records: LocalExecutionRecord[], options: { dir?: string; fresh?: boolean } = {}): void {
  const dir = options.dir ?? localDbDir();
  fs.mkdirSync(dir, { recursive: true });
  const kept = options.fresh ? [] : loadLocalExecutions(dir).filter((r) => !records.some((n) => n.executionArn === r.executionArn));
  fs.writeFileSync(path.join(dir, LOCAL_EXECUTIONS_FILE), JSON.stringify([...kept, ...records]));
}
