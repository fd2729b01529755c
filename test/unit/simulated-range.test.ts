import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ledgerRange } from '../../lib/cli/ledger-source';
import { loadSimulatedRange, saveSimulatedRange } from '../../lib/local/simulated-range';

/* `medic ledger ... --local` reads the last game day's simulated days unless --since/--until say otherwise. */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-range-'));
const saved = process.env.MEDIC_LOCAL_DB_DIR;
beforeAll(() => { process.env.MEDIC_LOCAL_DB_DIR = dir; });
afterAll(() => {
  if (saved === undefined) delete process.env.MEDIC_LOCAL_DB_DIR;
  else process.env.MEDIC_LOCAL_DB_DIR = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});

const day = { from: new Date('2026-11-22T03:17:00Z'), to: new Date('2026-11-23T03:19:02Z') };
const fallback = { from: new Date('2026-11-28T00:00:00Z'), to: new Date('2026-11-29T00:00:00Z') };

test('with --local and no --since/--until: the simulated range the last game day saved', () => {
  saveSimulatedRange(dir, day);
  expect(loadSimulatedRange(dir)).toEqual(day);
  expect(ledgerRange({ local: true }, () => fallback)).toEqual(day);
});

test('--since or --until given, or no --local: the usual range', () => {
  saveSimulatedRange(dir, day);
  expect(ledgerRange({ local: true, since: new Date('2026-11-01T00:00:00Z') }, () => fallback)).toBe(fallback);
  expect(ledgerRange({ local: true, until: new Date('2026-11-30T00:00:00Z') }, () => fallback)).toBe(fallback);
  expect(ledgerRange({ table: 'medic-ledger' }, () => fallback)).toBe(fallback);
});

test('no game day ran here, or its range file is unreadable or inverted: the usual range', () => {
  fs.rmSync(path.join(dir, 'simulated-range.json'), { force: true });
  expect(ledgerRange({ local: true }, () => fallback)).toBe(fallback);
  for (const text of ['not json', '{"from":"yesterday","to":"today"}', JSON.stringify({ from: day.to, to: day.from })]) {
    fs.writeFileSync(path.join(dir, 'simulated-range.json'), text);
    expect(loadSimulatedRange(dir)).toBeUndefined();
    expect(ledgerRange({ local: true }, () => fallback)).toBe(fallback);
  }
});
