/**
 * The package build (`npm run package`, run by `npm pack` and `npm publish` through `prepack`):
 * compiles bin/, lib/ and lambdas/ to JavaScript with declarations in dist/, then bundles every
 * handler into dist/handlers/<handler>/ (index.mjs and its chunks). An installed package needs neither TypeScript
 * sources nor esbuild: its constructs deploy these bundles, its CLI runs the compiled code.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HANDLER_BUNDLES_DIR, PACKAGE_ROOT, bundleHandler, handlerNames } from './handler-bundles';

const dist = path.join(PACKAGE_ROOT, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(PACKAGE_ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
const handlers = handlerNames();
for (const handler of handlers) bundleHandler(handler, path.join(HANDLER_BUNDLES_DIR, handler));
process.stderr.write(`medic package build: dist/ compiled, ${handlers.length} handler bundles in ${path.relative(PACKAGE_ROOT, HANDLER_BUNDLES_DIR)}/\n`);
