import Table from 'cli-table3';
import type { Command } from 'commander';
import { inert, isInert } from '../../lambdas/shared/inert-text';
import { EXIT } from './index';
import { UsageError } from './usage-error';

/** The Command an action runs on; index.ts reads `exitCode` in its postAction hook. */
type ActionCommand = Command & { exitCode?: number };

/**
 * Wraps a command's body as a commander action: the body gets the command and the positional
 * arguments and resolves to an exit code. A UsageError becomes a commander error (message, the
 * command's help, exit 2); anything else propagates to bin/medic-cli.js (`medic: <message>`, exit 2).
 */
export function runs(body: (command: Command, ...args: string[]) => Promise<number>) {
  return async function action(this: ActionCommand, ...actionArgs: unknown[]): Promise<void> {
    // commander passes the positional arguments, then the options object, then the command.
    const positional = actionArgs.slice(0, -2) as string[];
    try {
      this.exitCode = await body(this, ...positional);
    } catch (error) {
      if (error instanceof UsageError) this.error(`error: ${error.message}`, { exitCode: EXIT.error, code: 'medic.usage' });
      throw error;
    }
  };
}

/**
 * A plain, compact table (no colours, so it reads the same in a terminal, a pipe or a log).
 * Cells are shown as given: untrusted text (anything read from the ledger or SSM) must arrive
 * made inert by the caller (lambdas/shared/inert-text.ts), cut to length after escaping. A cell
 * that still holds a control, escape or bidi character is escaped here, as a last line of defence.
 */
export function renderTable(head: string[], rows: Array<Array<string | number>>): string {
  const cell = (value: string | number) => (typeof value === 'string' && !isInert(value) ? inert(value) : value);
  const table = new Table({ head: head.map((h) => inert(h)), style: { head: [], border: [], compact: true } });
  table.push(...rows.map((row) => row.map(cell)));
  return table.toString();
}

/**
 * For commands that stream data (`ledger export`, `ledger list`): a reader that stops early
 * (`| head`) closes the pipe, which ends the output; it is neither a crash nor a failed check.
 */
export function endQuietlyWhenPipeCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(EXIT.ok);
  });
}
