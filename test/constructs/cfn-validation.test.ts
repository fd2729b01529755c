import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { MedicStack } from '../../lib/medic-stack';
import { testConfig } from '../support/synth';

/*
 * CDK validates every synthesized template against CloudFormation's resource schemas and lint
 * rules (the built-in "CloudFormation Validate" plugin) and, unless the strict flag is set, only
 * warns. The other template tests skip it (test/support/env.ts) because it costs seconds a synth;
 * here it runs on the reference stack, strict, so any finding fails the test.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Synthesizes what `build` adds, with the built-in validation on and its findings as errors. */
function synthValidated(build: (app: App) => void): void {
  const saved = process.env.CDK_VALIDATION;
  process.env.CDK_VALIDATION = 'true';
  try {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-cfn-validate-'));
    dirs.push(outdir);
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:validateAgainstDefaultRules': true } });
    build(app);
    app.synth();
  } finally {
    process.env.CDK_VALIDATION = saved;
  }
}

test('the strict validation fails a synth on a schema violation (so a clean synth below means something)', () => {
  expect(() => synthValidated((app) => {
    const stack = new Stack(app, 'Invalid', { env: testConfig.env });
    new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { VisibilityTimeout: 'not a number' } });
  })).toThrow(/VisibilityTimeout/);
});

test('the reference stack passes CloudFormation validation without a finding', () => {
  expect(() => synthValidated((app) => {
    new MedicStack(app, testConfig.stackName, { config: testConfig, env: testConfig.env });
  })).not.toThrow();
});
