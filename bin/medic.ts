#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadConfig, type MedicConfig } from '../lib/config';
import { MedicStack } from '../lib/medic-stack';

// The configuration file comes from `-c medic:config=path/to/file.json` (default in cdk.json).
const app = new App();
const configFile = String(app.node.tryGetContext('medic:config') ?? 'bin/medic.config.example.json');
let config: MedicConfig;
try {
  config = loadConfig(configFile);
} catch (error) {
  // A configuration error is one line naming the file and the setting (lib/config.ts): no stack trace.
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`medic: ${error.message}\n`);
  process.exit(1);
}
new MedicStack(app, config.stackName, { config, env: config.env });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
