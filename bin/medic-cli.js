#!/usr/bin/env node
// `npx medic ...`: runs the TypeScript CLI (lib/cli) through tsx, so a clone needs no build step.
require('tsx/cjs/api').register();
require('../lib/cli/index.ts')
  .main(process.argv)
  .then((code) => { process.exitCode = code; })
  .catch((error) => {
    process.stderr.write(`medic: ${error instanceof Error ? (process.env.MEDIC_DEBUG ? error.stack : error.message) : String(error)}\n`);
    process.exitCode = 2;
  });
