import { Command, CommanderError } from 'commander';
import { inert } from '../../lambdas/shared/inert-text';
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

/**
 * Runs the CLI on `argv` (as process.argv) and resolves to the exit code. An error it rejects with
 * (bin/medic-cli.js prints `medic: <message>`) has an inert message: error messages quote what
 * they are about (an SDK message, a ledger reason, a switch value), which may be untrusted text.
 */
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
    throw inertError(error);
  }
  return code;
}

/** The error with its message (and, for MEDIC_DEBUG, its stack) made inert, its name kept. */
function inertError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(inert(error));
  const safe = new Error(inert(error.message));
  safe.name = error.name;
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)).map((line) => inert(line));
  safe.stack = [`${inert(error.name)}: ${safe.message}`, ...frames].join('\n');
  return safe;
}
