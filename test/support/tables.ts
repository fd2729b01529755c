import type { LocalDynamo } from '../../lib/local/dynalite';
import { ledgerTableInput, limiterTableInput } from '../../lib/local/dynalite';

let counter = 0;

/** A new, empty ledger and limiter on `local`, named after `prefix`, and the handlers pointed at them. */
export async function freshTables(local: LocalDynamo, prefix: string): Promise<{ ledger: string; limiter: string }> {
  const n = ++counter;
  const tables = { ledger: `${prefix}-ledger-${n}`, limiter: `${prefix}-limiter-${n}` };
  await local.createTable(ledgerTableInput(tables.ledger));
  await local.createTable(limiterTableInput(tables.limiter));
  process.env.MEDIC_LEDGER_TABLE = tables.ledger;
  process.env.MEDIC_LIMITER_TABLE = tables.limiter;
  return tables;
}
