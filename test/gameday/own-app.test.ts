import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadScenario } from '../../lib/gameday/scenario';
import { seen } from './fixtures/own-services';
import { gameDayRunner } from './support';

const gameDay = gameDayRunner('own-app');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-own-app-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a scenario runs a stack built by your own CDK code, with its own kill-switch names and your own services module', async () => {
  const report = await gameDay.runScenario(loadScenario(path.join(__dirname, 'fixtures', 'own-app.yaml')));
  expect(report.failures).toEqual([]);
  const denied = report.incidents.find((i) => i.outcome === 'denied')!;
  // The platform's own prefix, not the reference app's: the switch flipped by the timeline is the one the handlers read.
  expect(denied.timeline).toContain('03:18:00 DENY kill switch /own/kill-switch/runbook/checkout-restart is "on" (only exactly "off" lets medic act)');
  expect(seen.map((c) => `${c.service}:${c.operation}`)).toEqual(['ecs:UpdateService']);
});

test('a scenario must name either a config or an app', () => {
  const file = path.join(dir, 'both.yaml');
  fs.writeFileSync(file, fs.readFileSync(path.join(__dirname, 'fixtures', 'own-app.yaml'), 'utf8').replace('app: ./own-app.ts', 'timeline_: 1'));
  expect(() => loadScenario(file)).toThrow(/: timeline_: unknown key/);
  fs.writeFileSync(file, fs.readFileSync(path.join(__dirname, 'fixtures', 'own-app.yaml'), 'utf8').replace('app: ./own-app.ts\n', ''));
  expect(() => loadScenario(file)).toThrow(/give either config \(the reference app\) or app \(a module building your stack\)/);
});
