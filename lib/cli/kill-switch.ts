import type { Command } from 'commander';

/** `medic kill-switch on|off|status` (to be built). */
export function registerKillSwitch(cli: Command): void {
  cli.command('kill-switch').description('flip or read the kill switches of a deployed stack (not built yet)');
}
