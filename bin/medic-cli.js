#!/usr/bin/env node
// `medic ...`: in a clone, runs the TypeScript CLI (lib/cli) through tsx, so a clone needs no build
// step; the published package has no TypeScript sources and runs its compiled copy in dist/.
const fs = require('node:fs');
const path = require('node:path');

const sources = path.join(__dirname, '..', 'lib', 'cli', 'index.ts');
let cli;
if (fs.existsSync(sources)) {
  require('tsx/cjs/api').register();
  cli = sources;
} else {
  cli = path.join(__dirname, '..', 'dist', 'lib', 'cli', 'index.js');
}
// The SDK's notice about Node 20 would precede every command's output; the project supports Node >= 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require(cli)
  .main(process.argv)
  .then((code) => { process.exitCode = code; })
  .catch((error) => {
    process.stderr.write(`medic: ${error instanceof Error ? (process.env.MEDIC_DEBUG ? error.stack : error.message) : String(error)}\n`);
    process.exitCode = 2;
  });
