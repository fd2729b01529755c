import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { inert } from '../../lambdas/shared/inert-text';
import { PACKAGE_ROOT } from '../package/handler-bundles';
import { registerApprovals } from './approvals';
import { registerGameday } from './gameday';
import { registerKillSwitch } from './kill-switch';
import { registerLedger } from './ledger';

/** Exit codes every command shares: 0 success, 1 the check failed (broken chain, expectations not met), 2 usage or runtime error. */
export const EXIT = { ok: 0, failed: 1, error: 2 } as const;

/** The version of the medic package this CLI belongs to: its own package.json (from sources, or the compiled copy in dist/). */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The `medic` command line: game day rehearsals, the ledger, the kill switch, approvals. `--profile` and
 * `--region` are global (given before or after the command): the AWS commands make every client
 * with them (aws.ts); the offline ones (`gameday`, `--local`) ignore them.
 */
export function program(): Command {
  const cli = new Command('medic')
    .description('medic: rehearse runbooks offline, read and verify the audit ledger, flip the kill switch, approve or reject plans')
    .version(packageVersion(), '-V, --version', 'print the version of medic')
    .option('--profile <name>', 'AWS named profile for the AWS commands: its credentials, and its region unless --region or AWS_REGION give one (default: the AWS SDK\'s, e.g. AWS_PROFILE)')
    .option('--region <region>', 'AWS region for the AWS commands (default: AWS_REGION, else the profile\'s)')
    // Subcommands inherit this setting: their help lists --profile and --region too.
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError()
    .exitOverride();
  registerGameday(cli);
  registerLedger(cli);
  registerKillSwitch(cli);
  registerApprovals(cli);
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
