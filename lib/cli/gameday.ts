import type { Command } from 'commander';

/** `medic gameday [scenario ...]` (to be built). */
export function registerGameday(cli: Command): void {
  cli.command('gameday').description('rehearse runbooks offline against a simulated world (not built yet)').argument('[scenario...]')
    .action(function (this: Command & { exitCode?: number }) {
      process.stderr.write('medic gameday is not built yet\n');
      this.exitCode = 2;
    });
}
