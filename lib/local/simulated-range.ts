import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The simulated time a game day ran over, kept next to its local ledger: the scenarios run on
 * simulated days, so `medic ledger ... --local` defaults to this range instead of the last 24
 * hours of real time (which would show none of them).
 */
export interface SimulatedRange {
  readonly from: Date;
  readonly to: Date;
}

const FILE = 'simulated-range.json';

export function saveSimulatedRange(dir: string, range: SimulatedRange): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, FILE), `${JSON.stringify({ from: range.from.toISOString(), to: range.to.toISOString() })}\n`);
}

/** The range the last game day in `dir` recorded, or undefined (none ran there, or the file is unreadable). */
export function loadSimulatedRange(dir: string): SimulatedRange | undefined {
  try {
    const { from, to } = JSON.parse(fs.readFileSync(path.join(dir, FILE), 'utf8')) as { from: string; to: string };
    const range = { from: new Date(from), to: new Date(to) };
    return Number.isNaN(range.from.getTime()) || Number.isNaN(range.to.getTime()) || range.from > range.to ? undefined : range;
  } catch {
    return undefined;
  }
}
