import { Command, CommanderError } from 'commander';
import { registerGameday } from './gameday';
import { registerKillSwitch } from './kill-switch';
import { registerLedger } from './ledger';

/** Exit codes every command shares: 0 success, 1 the check failed (broken chain, expectations not met), 2 usage or runtime error. */
export const EXIT = { ok: 0, failed: 1, error: 2 } as const;

/** The `medic` command line: game day rehearsals, the ledger, the kill switch. */
export function program(): Command {
  const cli = new Command('medic')
    .description('medic: rehearse runbooks offline, read and verify the audit ledger, flip the kill switch')
    .showHelpAfterError()
    .exitOverride();
  registerGameday(cli);
  registerLedger(cli);
  registerKillSwitch(cli);
  return cli;
}

/** Runs the CLI on `argv` (as process.argv) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const cli = program();
  let code: number = EXIT.ok;
  // Commands report their own outcome through this; commander's own errors (usage) are code 2.
  cli.hook('postAction', (_parent, action) => {
    const reported = (action as Command & { exitCode?: number }).exitCode;
    if (typeof reported === 'number') code = reported;
  });
  try {
    await cli.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    throw error;
  }
  return code;
}
