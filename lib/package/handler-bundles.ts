import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The package root: where package.json is. Sources run from `lib/package/` in a clone; the
 * published package runs the compiled copy in `dist/lib/package/`.
 */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

/** Handler sources, one folder per handler (`lambdas/<handler>/index.ts`), in a clone. */
export const HANDLER_SOURCES_DIR = path.join(PACKAGE_ROOT, 'lambdas');

/** The handler bundles the package build writes and the published package ships: `dist/handlers/<handler>/index.mjs` and its chunks. */
export const HANDLER_BUNDLES_DIR = path.join(PACKAGE_ROOT, 'dist', 'handlers');

/** True when this code runs from TypeScript sources (a clone: tests, `cdk synth` through tsx), not from the compiled package. */
export const RUNNING_FROM_SOURCES = __filename.endsWith('.ts');

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'ssm-documents'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`medic: cannot find the package root above ${from}`);
  }
}

/** Every handler: each folder of `lambdas/` but the shared code. */
export function handlerNames(): string[] {
  return fs.readdirSync(HANDLER_SOURCES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'shared' && fs.existsSync(path.join(HANDLER_SOURCES_DIR, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/** The file Lambda loads for handler `index.handler`: an ES module (Lambda's Node.js runtime resolves `index` to `index.mjs`). */
export const HANDLER_BUNDLE_FILE = 'index.mjs';

/**
 * Bundles one handler into `outDir` with esbuild: `index.mjs` and the chunks it loads. Node.js 22,
 * an ES module, minified, with the AWS SDK v3 inlined and tree-shaken (its ES module builds are
 * preferred, `mainFields` module first) rather than left to the Lambda runtime: a bundle parses
 * only the code it uses, and loads 1.5 to 3.6 times faster than one requiring the runtime's SDK
 * packages (docs/architecture.md, "Cold start"; measured by test/bench/init.ts). Code splitting
 * puts whatever is only reached through a dynamic `import()` (a rarely used client, the SDK's
 * credential providers other than the environment's) into chunks loaded on first use, so a cold
 * start neither parses nor runs them.
 * The same settings at package build time and in a clone's `cdk synth`, so what is tested is what
 * ships. esbuild is a development dependency: it is loaded only here.
 */
export function bundleHandler(handler: string, outDir: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [path.join(HANDLER_SOURCES_DIR, handler, 'index.ts')],
    outdir: outDir,
    entryNames: 'index',
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify: true,
    legalComments: 'none',
    sourcemap: false,
    // A CommonJS dependency bundled into an ES module calls `require` (for a Node.js built-in): none
    // does today, this keeps a new one from failing at run time ("Dynamic require ... is not supported").
    banner: { js: "import { createRequire as __medicCreateRequire } from 'node:module'; const require = __medicCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}
