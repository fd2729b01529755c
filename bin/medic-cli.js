#!/usr/bin/env node
// `npx medic ...`: runs the TypeScript CLI (lib/cli) through tsx, so a clone needs no build step.
require('tsx/cjs/api').register();
// The SDK's notice about Node 20 would precede every command's output; the project supports Node >= 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('../lib/cli/index.ts')
  .main(process.argv)
  .then((code) => { process.exitCode = code; })
  .catch((error) => {
    process.stderr.write(`medic: ${error instanceof Error ? (process.env.MEDIC_DEBUG ? error.stack : error.message) : String(error)}\n`);
    process.exitCode = 2;
  });
