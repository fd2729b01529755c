import { Option, type Command } from 'commander';
import type { Phase } from '../../lambdas/shared/ledger';
import type { AwsOptions } from './aws';
import { runs } from './command-kit';
import { EXIT } from './index';
import { OUTCOMES, PHASES, type LedgerOutcome } from './incident-summary';
import { parseInstant } from './time-range';

/** Where the ledger is read from: the options every `medic ledger` command takes (and the global --profile, --region). */
export interface LedgerSourceOptions extends AwsOptions {
  readonly local?: boolean;
  readonly table?: string;
  readonly stack?: string;
  /** The ledger's HMAC key (KMS key ARN), for --table; --stack reads it from the stack. */
  readonly macKey?: string;
  /** The ledger's anchors bucket, for --table; --stack reads it from the stack. */
  readonly anchorsBucket?: string;
}

export interface RangeOptions extends LedgerSourceOptions {
  readonly since?: Date;
  readonly until?: Date;
}

export interface ListOptions extends RangeOptions {
  readonly runbook?: string;
  readonly target?: string;
  readonly phase?: Phase;
  readonly outcome?: LedgerOutcome;
  readonly json?: boolean;
}

export interface ShowOptions extends LedgerSourceOptions {
  readonly json?: boolean;
}

export interface VerifyOptions extends RangeOptions {
  readonly incident?: string;
  readonly json?: boolean;
}

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;

export interface ExportOptions extends RangeOptions {
  readonly runbook?: string;
  readonly format?: typeof EXPORT_FORMATS[number];
  readonly out?: string;
}

/** The usage error of a ledger command given no source. */
export const NO_SOURCE = 'no ledger source: give --local (the last game day), --table <name> or --stack <stack name>';

// The actions load the AWS SDK and dynalite only when a ledger command runs, so help and usage errors answer at once.
// A plain require: bin/medic-cli.js registers tsx for require() only, and import() of a .ts file would bypass it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const actions = (): typeof import('./ledger-actions') => require('./ledger-actions');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const reconcileAction = (): typeof import('./ledger-reconcile') => require('./ledger-reconcile');

/** `medic ledger list|show|verify|export`: read and verify the audit ledger of a deployed stack or of the last game day. */
export function registerLedger(cli: Command): void {
  const ledger = cli.command('ledger').description('read and verify the audit ledger (a deployed stack\'s, or the last game day\'s with --local)');
  // Checked before an action loads the SDK, so a missing source is reported at once.
  ledger.hook('preAction', (_ledger, action) => {
    const source = action.opts<LedgerSourceOptions>();
    if (!source.local && !source.table && !source.stack) action.error(`error: ${NO_SOURCE}`, { exitCode: EXIT.error, code: 'medic.usage' });
  });

  withRangeOptions(withSourceOptions(ledger.command('list').description('one row per incident with an entry in the range, newest first')))
    .option('--runbook <name>', 'only this runbook\'s incidents')
    .option('--target <arn>', 'only incidents about this resource (byTarget index)')
    .addOption(new Option('--phase <phase>', 'only incidents with an entry in this phase').choices(PHASES))
    .addOption(new Option('--outcome <outcome>', 'only incidents that ended this way (docs/operating.md: "The medic command line")').choices(OUTCOMES))
    .option('--json', 'print one JSON object per incident and line instead of a table')
    .action(runs(async (command) => actions().listIncidents(command.optsWithGlobals<ListOptions>())));

  withSourceOptions(ledger.command('show').description('an incident\'s entries as a timeline, and whether its hash chain verifies'))
    .argument('<incidentId>', 'the incident id (escalations and `ledger list` name it)')
    .option('--json', 'print the incident, its chain check and its entries as one JSON object (docs/operating.md)')
    .action(runs(async (command, incidentId) => actions().showIncident(incidentId, command.optsWithGlobals<ShowOptions>())));

  withRangeOptions(withSourceOptions(ledger.command('verify').description('verify the hash chain of one incident or of every incident in a range, and that every trail past its deadline is complete; exit 1 if broken or incomplete')))
    .addOption(new Option('--incident <id>', 'verify this incident only').conflicts(['since', 'until']))
    .option('--json', 'print the result as one JSON object (docs/operating.md); the exit code is the same')
    .action(runs(async (command) => actions().verify(command.optsWithGlobals<VerifyOptions>())));

  withRangeOptions(withSourceOptions(ledger.command('reconcile')
    .description('close incomplete trails (no ending entry past the deadline) from the Step Functions execution history, release leftover leases, page for changes the ledger missed; '
      + '--stack runs the stack\'s reconciler, --local the last game day\'s; exit 1 if one stays incomplete (range default: 72h)')))
    .option('--json', 'print the reconciler\'s report as JSON')
    .action(runs(async (command) => reconcileAction().reconcile(command.optsWithGlobals<RangeOptions & { json?: boolean }>())));

  withRangeOptions(withSourceOptions(ledger.command('export').description('the raw entries in the range as JSON lines or CSV, grouped by incident, in sequence order (docs/audit.md)')))
    .option('--runbook <name>', 'only this runbook\'s entries')
    .addOption(new Option('--format <format>', 'jsonl: one JSON object per line; csv: RFC 4180 with a header row, formula-like cells prefixed with \'').choices(EXPORT_FORMATS).default('jsonl'))
    .option('--out <file>', 'write to this file (replaced whole, only once complete) instead of standard output')
    .action(runs(async (command) => actions().exportEntries(command.optsWithGlobals<ExportOptions>())));
}

function withSourceOptions(command: Command): Command {
  return command
    .addOption(new Option('--local', 'read the last game day\'s ledger (kept in .medic/gameday-db, or in $MEDIC_LOCAL_DB_DIR)').conflicts(['table', 'stack']))
    .addOption(new Option('--table <name>', 'read the ledger table of a deployed stack').conflicts(['stack']))
    .option('--stack <name>', 'read the table named by the stack\'s LedgerTableName output')
    .option('--mac-key <arn>', 'the ledger\'s HMAC key (the stack\'s LedgerMacKeyArn output) to verify entries read with --table; `local`: the offline key of game days and tests')
    .option('--anchors-bucket <name>', 'the ledger\'s anchors bucket (the stack\'s LedgerAnchorsBucketName output) to check chains read with --table against');
}

function withRangeOptions(command: Command): Command {
  // A wrapper, because commander passes the previous value as the second argument.
  const instant = (value: string) => parseInstant(value);
  return command
    .option('--since <when>', 'start: ISO date/time or a duration ago (30m, 24h, 7d) (default: 24h; with --local, the last game day\'s simulated days)', instant)
    .option('--until <when>', 'end: ISO date/time or a duration ago (default: now)', instant);
}
