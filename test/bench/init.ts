/**
 * Cold start: module init time of every handler bundle, the bundles the stack synthesizes
 * (lib/package/handler-bundles.ts `bundleHandler`, the same bytes `cdk synth` stages and the
 * package ships). For each handler, `runs` fresh `node` processes each time loading the bundle
 * (import() for an ES module bundle, require for a CommonJS one, as Lambda's Node.js runtime
 * does) between two performance.now() readings; the median is reported. Offline: fake AWS
 * credentials and region, nothing is called.
 *
 * `npx tsx test/bench/init.ts` prints a table for the shipped format. `--compare` (or
 * MEDIC_INIT_COMPARE=1) also measures the alternative formats below in the same run;
 * `--runs N` and `--handlers a,b` narrow it. Numbers are machine-relative: compare formats
 * measured in one run, not across machines.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HANDLER_SOURCES_DIR, PACKAGE_ROOT, bundleHandler, handlerNames } from '../../lib/package/handler-bundles';

export interface InitFigure {
  /** Median module init over the runs, milliseconds. */
  median_ms: number;
  /** Bundle size, bytes: every file of the handler's bundle (the entry and all its chunks). */
  bytes: number;
  /** What a cold start parses, bytes: the entry and the chunks it imports statically (not those behind a dynamic import()). */
  init_bytes: number;
}

/** Bundles one handler into `outDir` and returns the bundle file's path. */
type Bundler = (handler: string, outDir: string) => string;

/** The shipped bundle: exactly what `bundleHandler` writes (the one index.* file in `outDir`). */
const shipped: Bundler = (handler, outDir) => {
  bundleHandler(handler, outDir);
  const [file] = fs.readdirSync(outDir).filter((f) => /^index\.(c|m)?js$/.test(f));
  if (file === undefined) throw new Error(`bench: bundleHandler wrote no index.* for ${handler} in ${outDir}`);
  return path.join(outDir, file);
};

/** The environment a handler sees at load in Lambda, faked: nothing reaches AWS. */
const CHILD_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'eu-west-1',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDTESTONLY',
  AWS_SECRET_ACCESS_KEY: 'test-only-secret',
  AWS_SESSION_TOKEN: 'test-only-token',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_LAMBDA_FUNCTION_NAME: 'medic-init-bench',
  POWERTOOLS_SERVICE_NAME: 'medic',
  POWERTOOLS_METRICS_NAMESPACE: 'Medic',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  // The MEDIC_* settings the handlers read (none is read at load today; set so one that is would not fail).
  MEDIC_LEDGER_TABLE: 'medic-ledger',
  MEDIC_LEDGER_ANCHORS_BUCKET: 'medic-anchors',
  MEDIC_LEDGER_WRITER: 'medic-ledger-writer',
  MEDIC_EXPORT_BUCKET: 'medic-export',
  MEDIC_APPROVAL_FUNCTION: 'medic-approval',
};

/**
 * What each child runs: the loader is set up first (outside the timing), then the bundle alone
 * is timed. An ES module runner so import() and require (createRequire) are both at hand.
 */
const RUNNER = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
const file = process.argv[2];
const load = file.endsWith('.mjs') ? () => import(pathToFileURL(file).href) : async () => createRequire(file)(file);
const start = performance.now();
const mod = await load();
const ms = performance.now() - start;
if (typeof (mod.handler ?? mod.default?.handler) !== 'function') throw new Error('no handler export in ' + file);
process.stdout.write(JSON.stringify({ ms }));
`;

/** The entry's size plus that of every chunk it imports statically (`import"./chunk-…"`, `from"./chunk-…"`), transitively. */
function initBytes(file: string): number {
  const seen = new Set<string>();
  const visit = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/(?:\bfrom|\bimport)\s*["'](\.\/[^"']+)["']/g)) visit(path.join(path.dirname(f), m[1]));
  };
  visit(file);
  return [...seen].reduce((sum, f) => sum + fs.statSync(f).size, 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Measures module init of every handler's bundle (or `handlers`), `runs` fresh processes each
 * (default 15), and returns per handler the median and the bundle size. `bundler` measures an
 * alternative format instead of the shipped one.
 */
export async function measureInit(options: { runs?: number; handlers?: string[]; bundler?: Bundler } = {}): Promise<Record<string, InitFigure>> {
  return (await measureFormats({ measured: options.bundler ?? shipped }, options)).measured;
}

/**
 * Measures several formats in one run, interleaved: for each handler every format's bundle is
 * built, then run i of each format follows run i of the previous one, so a change in the
 * machine's load (others run tests here) is shared by all formats rather than charged to one.
 */
export async function measureFormats(formats: Record<string, Bundler>, options: { runs?: number; handlers?: string[] } = {}): Promise<Record<string, Record<string, InitFigure>>> {
  const runs = options.runs ?? 15;
  const handlers = options.handlers ?? handlerNames();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-init-'));
  try {
    // The SDK a bundle leaves external (`@aws-sdk/*`) comes, in Lambda, from the runtime's own
    // node_modules (/var/runtime/node_modules, unbundled CommonJS packages). Here the project's
    // node_modules plays that part: linked next to the bundles, so Node resolves `@aws-sdk/...`
    // from a require or an import exactly as from a folder holding it, loading the same
    // unbundled package files. The first load of each bundle is unmeasured (it warms the file
    // system cache), for external and inlined SDKs alike.
    fs.symlinkSync(path.join(PACKAGE_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const runner = path.join(dir, 'runner.mjs');
    fs.writeFileSync(runner, RUNNER);
    const once = (file: string) => {
      const out = execFileSync(process.execPath, [runner, file], { env: CHILD_ENV, cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return (JSON.parse(out) as { ms: number }).ms;
    };
    const results: Record<string, Record<string, InitFigure>> = Object.fromEntries(Object.keys(formats).map((f) => [f, {}]));
    for (const handler of handlers) {
      const files = Object.entries(formats).map(([name, bundle], i) => ({ name, file: bundle(handler, path.join(dir, `${i}`, handler)), times: [] as number[] }));
      for (const f of files) once(f.file);
      for (let run = 0; run < runs; run++) for (const f of files) f.times.push(once(f.file));
      for (const { name, file, times } of files) {
        const bundleDir = path.dirname(file);
        const bytes = fs.readdirSync(bundleDir).reduce((sum, f) => sum + fs.statSync(path.join(bundleDir, f)).size, 0);
        results[name][handler] = { median_ms: Math.round(median(times) * 10) / 10, bytes, init_bytes: initBytes(file) };
      }
    }
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- alternative formats, for comparison (--compare) ------------------------------------------

/**
 * Handler sources the alternatives are built from: this tree, or with `--sources DIR` another
 * one's `lambdas/` (e.g. `git archive HEAD lambdas | tar -x -C DIR`, to measure the code before
 * a change), resolving packages from this project's node_modules.
 */
let sourcesDir = HANDLER_SOURCES_DIR;

/** One esbuild configuration: the shared settings plus `options`. */
function variant(format: 'cjs' | 'esm', options: Record<string, unknown>): Bundler {
  return (handler, outDir) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    const outfile = path.join(outDir, format === 'esm' ? 'index.mjs' : 'index.js');
    // Code splitting writes index.mjs and chunk files into outDir; otherwise the one outfile.
    const output = options.splitting ? { outdir: outDir, entryNames: 'index', chunkNames: 'chunk-[hash]', outExtension: { '.js': '.mjs' } } : { outfile };
    esbuild.buildSync({
      entryPoints: [path.join(sourcesDir, handler, 'index.ts')],
      nodePaths: [path.join(PACKAGE_ROOT, 'node_modules')],
      ...output,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format,
      minify: true,
      logLevel: 'error',
      ...(format === 'esm' ? { banner: { js: "import { createRequire as __medicCreateRequire } from 'module'; const require = __medicCreateRequire(import.meta.url);" } } : {}),
      ...options,
    });
    return outfile;
  };
}

const MODULE_FIRST = { mainFields: ['module', 'main'] };
export const CANDIDATES: Record<string, Bundler> = {
  'cjs, SDK external (before)': variant('cjs', { external: ['@aws-sdk/*'] }),
  'cjs, SDK inlined': variant('cjs', { ...MODULE_FIRST, legalComments: 'none' }),
  'esm, SDK external': variant('esm', { external: ['@aws-sdk/*'], ...MODULE_FIRST, legalComments: 'none' }),
  'esm, SDK inlined, main first': variant('esm', { legalComments: 'none' }),
  'esm, SDK inlined, module first': variant('esm', { ...MODULE_FIRST, legalComments: 'none' }),
  'esm, SDK inlined, module first, split': variant('esm', { ...MODULE_FIRST, legalComments: 'none', splitting: true }),
};

function table(title: string, figures: Record<string, InitFigure>): string {
  const rows = Object.entries(figures).map(([h, f]) => `${h.padEnd(24)} ${String(f.bytes).padStart(9)} ${String(f.init_bytes).padStart(10)} ${f.median_ms.toFixed(1).padStart(9)}`);
  const medians = Object.values(figures).map((f) => f.median_ms);
  return [`== ${title}`, `${'handler'.padEnd(24)} ${'bytes'.padStart(9)} ${'init bytes'.padStart(10)} ${'median ms'.padStart(9)}`, ...rows,
    `${'(max)'.padEnd(24)} ${''.padStart(9)} ${''.padStart(10)} ${Math.max(...medians).toFixed(1).padStart(9)}`].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const runs = Number(arg('--runs') ?? 15);
  const handlers = arg('--handlers')?.split(',');
  const compare = args.includes('--compare') || process.env.MEDIC_INIT_COMPARE === '1';
  const only = arg('--candidates')?.split(',');
  const sources = arg('--sources');
  if (sources) sourcesDir = path.resolve(sources, 'lambdas');
  const title = `shipped (bundleHandler, ${path.relative(process.cwd(), HANDLER_SOURCES_DIR) || '.'})`;
  const formats: Record<string, Bundler> = { [title]: shipped };
  if (compare) {
    for (const [name, bundler] of Object.entries(CANDIDATES)) {
      if (!only || only.some((o) => name.includes(o))) formats[sources ? `${name}, sources ${sources}` : name] = bundler;
    }
  }
  process.stdout.write(`module init, median of ${runs} fresh processes each, node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}\n`);
  const results = await measureFormats(formats, { runs, handlers });
  for (const [name, figures] of Object.entries(results)) process.stdout.write(`\n${table(name, figures)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`); process.exitCode = 1; });
}
