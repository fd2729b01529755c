import type { Command } from 'commander';
import type { AwsOptions } from './aws';
import { runs } from './command-kit';
import { EXIT } from './index';

/** The options every `medic kill-switch` command takes (and the global --profile, --region). */
export interface SwitchOptions extends AwsOptions {
  readonly stack?: string;
  readonly prefix?: string;
  readonly runbook?: string;
  readonly reason?: string;
  readonly json?: boolean;
}

export const NO_STACK = 'which stack? give --stack <stack name> (or --prefix <parameter prefix>)';

// The actions load the SSM client only when a kill-switch command runs, so help and usage errors answer at once.
// A plain require: bin/medic-cli.js registers tsx for require() only, and import() of a .ts file would bypass it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const actions = (): typeof import('./kill-switch-actions') => require('./kill-switch-actions');

/** `medic kill-switch on|off|status`: flip or read the kill-switch SSM parameters of a deployed stack. */
export function registerKillSwitch(cli: Command): void {
  const killSwitch = cli.command('kill-switch').description('stop or resume the runbooks of a deployed stack, or show its kill switches (SSM parameters)');
  // Checked before an action loads the SDK, so the usage error is immediate.
  killSwitch.hook('preAction', (_killSwitch, action) => {
    const { stack, prefix } = action.opts<SwitchOptions>();
    if (!stack && !prefix) action.error(`error: ${NO_STACK}`, { exitCode: EXIT.error, code: 'medic.usage' });
  });
  withSwitchOptions(killSwitch.command('on').description('stop every runbook of the stack (or one, with --runbook): new incidents are denied, running ones stop before their next mutating call'))
    .option('--reason <text>', 'why, for whoever reads the switch: the value written is "on: <reason>"')
    .action(runs(async (command) => actions().flip('on', command.optsWithGlobals<SwitchOptions>())));
  withSwitchOptions(killSwitch.command('off').description('let the stack\'s runbooks (or one, with --runbook) work again'))
    .action(runs(async (command) => actions().flip('off', command.optsWithGlobals<SwitchOptions>())));
  withSwitchOptions(killSwitch.command('status').description('the global switch and every runbook switch; anything but "off" (or missing) is ON'))
    .option('--json', 'print the switches as one JSON object (docs/operating.md)')
    .action(runs(async (command) => actions().status(command.optsWithGlobals<SwitchOptions>())));
}

function withSwitchOptions(command: Command): Command {
  return command
    .option('--stack <name>', 'the medic stack: its switches are /medic/<stack>/kill-switch/...')
    .option('--prefix <path>', 'the switches\' parameter prefix, if the stack sets killSwitchPrefix (default: /medic/<stack>/kill-switch)')
    .option('--runbook <name>', 'one runbook\'s switch instead of the global one');
}
