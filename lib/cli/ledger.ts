import type { Command } from 'commander';

/** `medic ledger list|show|verify|export` (to be built). */
export function registerLedger(cli: Command): void {
  cli.command('ledger').description('read and verify the audit ledger (not built yet)');
}
