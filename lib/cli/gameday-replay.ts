import * as fs from 'node:fs';
import * as path from 'node:path';
import { inert } from '../../lambdas/shared/inert-text';
import { verifyChain, type LedgerEntry } from '../../lambdas/shared/ledger';
import { loadConfig } from '../config';
import { replayIncident } from '../gameday/replay';
import { EXIT } from './index';
import type { LedgerSourceOptions } from './ledger';
import { LedgerReader } from './ledger-reader';
import { describeSourceError, openLedgerSource } from './ledger-source';

/** `medic gameday --from-incident <id>`'s options: where the ledger is (as `medic ledger show`), the configuration, the output. */
export interface ReplayOptions extends LedgerSourceOptions {
  readonly fromIncident: string;
  readonly out?: string;
  readonly config?: string;
}

/** The configuration `cdk synth` uses here: cdk.json's `medic:config` context, else the example (as bin/medic.ts). */
export function defaultConfigFile(dir = process.cwd()): string {
  try {
    const context = (JSON.parse(fs.readFileSync(path.join(dir, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> }).context;
    if (typeof context?.['medic:config'] === 'string') return context['medic:config'];
  } catch {
    // No cdk.json (or not JSON) here: the same default as bin/medic.ts.
  }
  return 'bin/medic.config.example.json';
}

const fail = (message: string): number => {
  process.stderr.write(`medic: ${inert(message)}\n`);
  return EXIT.failed;
};

/**
 * Writes a scenario that replays one ledger incident (lib/gameday/replay.ts): to `--out` (written
 * whole, then renamed into place) or standard output. An incident the ledger does not have, or
 * whose hash chain does not verify, is one line on stderr and exit 1: a regression test must come
 * from an intact trail.
 */
export async function replayFromIncident(options: ReplayOptions): Promise<number> {
  const configFile = options.config ?? defaultConfigFile();
  loadConfig(configFile); // checked as `cdk synth` checks it: a ConfigError names the file and the setting
  // The file's own JSON, not the schema's output: the scenario's `config` reads back as the file has it.
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;

  const source = await openLedgerSource(options);
  let entries: LedgerEntry[];
  try {
    entries = await new LedgerReader(source).incident(options.fromIncident);
  } catch (error) {
    throw await describeSourceError(error, source, options);
  } finally {
    await source.close();
  }
  if (entries.length === 0) return fail(`no incident ${options.fromIncident} in ${source.description} (\`medic ledger list\` names the incidents)`);
  const broken = verifyChain(options.fromIncident, entries);
  if (broken) return fail(`the ledger trail of incident ${options.fromIncident} does not verify (sequence ${broken.seq}: ${broken.reason}): not replaying it`);

  const replay = replayIncident(entries, config);
  if (!options.out) {
    process.stdout.write(replay.yaml);
    return EXIT.ok;
  }
  const temporary = `${options.out}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, replay.yaml);
  fs.renameSync(temporary, options.out);
  const defaults = replay.notes.filter((n) => n.text.startsWith('default')).length;
  process.stderr.write(`wrote ${inert(options.out)}: ${defaults} value(s) not recorded in the ledger are commented "default"; review them, then run: medic gameday ${inert(options.out)}\n`);
  return EXIT.ok;
}
