import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The package root: where package.json is. Sources run from `lib/package/` in a clone; the
 * published package runs the compiled copy in `dist/lib/package/`.
 */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

/** Handler sources, one folder per handler (`lambdas/<handler>/index.ts`), in a clone. */
export const HANDLER_SOURCES_DIR = path.join(PACKAGE_ROOT, 'lambdas');

/** The handler bundles the package build writes and the published package ships: `dist/handlers/<handler>/index.js`. */
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

/**
 * Bundles one handler into `outDir/index.js` with esbuild: Node.js 22, CommonJS, minified, the
 * AWS SDK v3 left to the Lambda runtime. The same settings at package build time and in a
 * clone's `cdk synth`, so what is tested is what ships. esbuild is a development dependency:
 * it is loaded only here.
 */
export function bundleHandler(handler: string, outDir: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [path.join(HANDLER_SOURCES_DIR, handler, 'index.ts')],
    outfile: path.join(outDir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    external: ['@aws-sdk/*'],
    logLevel: 'warning',
  });
}
