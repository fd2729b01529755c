import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/*
 * A newcomer's setup, offline: `npm pack` medic (its prepack builds dist/ and the handler
 * bundles), install the tarball into a fresh app laid out as `cdk init app --language typescript`
 * leaves it (its tsconfig, its cdk.json feature flags, a stack without env), compile with plain
 * `tsc`, synthesize with cdk-nag, and rehearse the app's own stack with the installed `medic gameday`.
 * The install is what npm does for a tarball, done from this clone's node_modules (no registry):
 * the package is extracted, and its dependencies and peers are linked in beside it.
 */

const REPO = path.resolve(__dirname, '..', '..');
const FIXTURE = path.join(__dirname, 'app');
const PACKAGE_NAME = '@medic-runbooks/medic';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-consumer-'));
const app = path.join(work, 'shop');
const installed = path.join(app, 'node_modules', ...PACKAGE_NAME.split('/'));

interface PackResult { filename: string; size: number; unpackedSize: number; entryCount: number; files: Array<{ path: string }> }
let pack: PackResult;

function link(name: string): void {
  const target = path.join(REPO, 'node_modules', name);
  if (!fs.existsSync(target)) throw new Error(`${name} is not installed in the clone`);
  const at = path.join(app, 'node_modules', name);
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(target, at, 'dir');
}

function run(command: string, args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd: app, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  pack = (JSON.parse(packed) as PackResult[])[0];
  fs.cpSync(FIXTURE, app, { recursive: true });
  // What `cdk init` writes: the app command and aws-cdk-lib's recommended feature flags.
  const flags = JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'aws-cdk-lib', 'recommended-feature-flags.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(app, 'cdk.json'), JSON.stringify({ app: 'node build/bin/shop.js', context: flags }, null, 2));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'shop', version: '0.1.0', private: true }, null, 2));
  fs.mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(work, pack.filename), '-C', installed, '--strip-components=1']);
  const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
  // The app's own dependencies (what `cdk init` installs, and cdk-nag), medic's dependencies and peers (the game-day ones included).
  for (const name of new Set(['typescript', '@types/node', 'aws-cdk', 'tsx', 'cdk-nag', ...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)])) link(name);
}, 600_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe('medic in a newcomer\'s CDK app (packed, installed, cdk init defaults)', () => {
  test('the package holds compiled JavaScript, declarations and a bundle per handler; no sources, tests or esbuild', () => {
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'LICENSE', 'README.md', 'bin/medic-cli.js', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'ssm-documents/medic-disk-prune.yaml']));
    const handlers = fs.readdirSync(path.join(REPO, 'lambdas')).filter((d) => d !== 'shared');
    for (const handler of handlers) expect(files).toContain(`dist/handlers/${handler}/index.mjs`);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('lambdas/') || f.startsWith('lib/'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(fs.existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
    process.stdout.write(`medic package: ${pack.filename}, ${pack.entryCount} files, ${(pack.size / 1024).toFixed(0)} KB packed, ${(pack.unpackedSize / 1024).toFixed(0)} KB unpacked\n`);
  });

  test('plain tsc compiles the app against the package\'s declarations (NodeNext resolution, its exports map)', () => {
    const tsc = run(process.execPath, [path.join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    expect(fs.existsSync(path.join(app, 'build', 'lib', 'shop-stack.js'))).toBe(true);
  });

  test('cdk synth: the env-agnostic stack with cdk init\'s feature flags synthesizes, cdk-nag finds nothing, the handlers are the shipped bundles', () => {
    const synth = run(process.execPath, [path.join(app, 'node_modules', 'aws-cdk', 'bin', 'cdk'), 'synth', '--quiet', '--no-notices', '--no-version-reporting']);
    expect(synth.stderr).not.toMatch(/AwsSolutions-|Error/);
    expect(synth.status).toBe(0);
    const report = path.join(app, 'cdk.out', 'validation-report.json');
    const reports = fs.existsSync(report) ? (JSON.parse(fs.readFileSync(report, 'utf8')) as { pluginReports: Array<{ pluginName: string; violations: unknown[] }> }).pluginReports : [];
    expect(reports.flatMap((r) => r.violations.map((v) => ({ plugin: r.pluginName, violation: v })))).toEqual([]);
    const template = JSON.parse(fs.readFileSync(path.join(app, 'cdk.out', 'Shop.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: any }> };
    const resources = Object.values(template.Resources);
    // The runbook's allow-list and IAM name the app's own service (tokens), not literals.
    const rules = resources.filter((r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.EventPattern ?? {}).includes('aws.cloudwatch'));
    expect(rules).toHaveLength(1);
    expect(JSON.stringify(rules[0].Properties.EventPattern.resources)).toMatch(/Fn::GetAtt/);
    // Each function deploys its own handler's bundle, byte for byte the one the package ships.
    const assets = JSON.parse(fs.readFileSync(path.join(app, 'cdk.out', 'Shop.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
    const functions = Object.values(template.Resources as Record<string, { Type: string; Properties: any; Metadata?: Record<string, string> }>)
      .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['medic:entry']);
    expect(functions.length).toBeGreaterThanOrEqual(8);
    const keyOf = new Map<string, string>();
    for (const fn of functions) {
      const handler = fn.Metadata!['medic:entry'].replace(/\/index\.ts$/, '');
      // The whole folder: index.mjs and the chunks it loads on demand.
      const staged = path.join(app, 'cdk.out', assets.files[String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')].source.path);
      const filesIn = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))]));
      expect(Object.keys(filesIn(staged))).toContain('index.mjs');
      expect(filesIn(staged)).toEqual(filesIn(path.join(installed, 'dist', 'handlers', handler)));
      keyOf.set(handler, fn.Properties.Code.S3Key);
    }
    expect(new Set(keyOf.values()).size).toBe(keyOf.size);
  });

  test('the installed CLI answers --help, and `medic gameday` rehearses the app\'s own stack, its in-stack alarm included', () => {
    const cli = path.join(installed, 'bin', 'medic-cli.js');
    const help = run(process.execPath, [cli, '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/gameday/);
    const json = path.join(work, 'gameday.json');
    const gameday = run(process.execPath, [cli, 'gameday', 'gameday/api-restart.yaml', '--json', json], { MEDIC_LOCAL_DB_DIR: path.join(work, 'gameday-db') });
    expect(gameday.stderr).toBe('');
    expect(gameday.status).toBe(0);
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as { passed: boolean; scenarios: Array<{ incidents: Array<{ runbook: string; outcome: string; target: string }>; calls: Array<{ operation: string }> }> };
    expect(report.passed).toBe(true);
    expect(report.scenarios[0].incidents.map((i) => [i.runbook, i.outcome])).toEqual([['api-restart', 'resolved']]);
    expect(report.scenarios[0].calls.filter((c) => c.operation === 'UpdateService')).toHaveLength(1);
  });
});
