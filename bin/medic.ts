#!/usr/bin/env node
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../lib/config';
import { MedicStack } from '../lib/medic-stack';

// The configuration file comes from `-c medic:config=path/to/file.json` (default in cdk.json).
const app = new App();
const configFile = String(app.node.tryGetContext('medic:config') ?? 'bin/medic.config.example.json');
const config = loadConfig(path.resolve(configFile));
new MedicStack(app, config.stackName, { config, env: config.env });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
