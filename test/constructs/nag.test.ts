import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { nagFindings, synthWithNag, type NagReport as Report } from '../support/nag-report';
import type { IConstruct } from 'constructs';
import { loadConfig, type MedicConfig } from '../../lib/config';
import { MedicStack } from '../../lib/medic-stack';
import { testConfig } from '../support/synth';

/*
 * How cdk-nag 3.x reports, as read in node_modules (cdk-nag 3.0.2 lib/nag-pack.js, aws-cdk-lib
 * 2.276 core/lib/private/synthesis-validation.js): the pack is an IPolicyValidationPlugin that
 * aws-cdk-lib runs at the end of app.synth() with the construct tree. Findings acknowledged with
 * Validations.of(scope).acknowledge() on the resource or an ancestor are dropped by cdk-nag itself;
 * the rest go into `validation-report.json` in the cloud assembly (pluginReports[].violations[]
 * with ruleName, severity and violatingConstructs[].constructPath), and, under jest
 * (NODE_ENV=test, "inmemory" app mode), app.synth() throws a ValidationError whose message is the
 * report. With no finding, synth succeeds and pluginReports is empty.
 */

const EXAMPLE_CONFIG = path.join(__dirname, '..', '..', 'bin', 'medic.config.example.json');
const outdirs: string[] = [];


interface Synthesized {
  app: App;
  stack: Stack;
  error?: Error;
  report: Report;
}

/**
 * The reference app as bin/medic.ts builds it (bin/medic.ts synthesizes on import, so it is
 * mirrored here), without bundling; `extra` adds constructs before synthesis. `newProjectFlags`
 * sets the feature flags a fresh `cdk init app` writes into cdk.json (aws-cdk-lib's
 * CURRENTLY_RECOMMENDED_FLAGS, the same 89 flags as the CLI's init-templates/.recommended-feature-flags.json).
 */
function synthReferenceApp(extra?: (stack: Stack) => void, options: { envAgnostic?: boolean; newProjectFlags?: boolean; config?: MedicConfig } = {}): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-nag-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...(options.newProjectFlags ? CURRENTLY_RECOMMENDED_FLAGS : {}), 'aws:cdk:bundling-stacks': [] } });
  const config = options.config ?? loadConfig(EXAMPLE_CONFIG);
  const stack = new MedicStack(app, config.stackName, { config, env: options.envAgnostic ? undefined : config.env });
  extra?.(stack);
  const { error, report } = synthWithNag(app, outdir);
  return { app, stack, error, report };
}

const findings = nagFindings;

const clean = synthReferenceApp();
const withBadQueue = synthReferenceApp((stack) => {
  new sqs.Queue(stack, 'NonCompliantQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED, enforceSSL: false });
});

afterAll(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('cdk-nag AwsSolutionsChecks on the reference app (bin/medic.config.example.json)', () => {
  test('synthesis passes validation', () => {
    expect(clean.error?.message).toBeUndefined();
  });

  test('the validation report has no unacknowledged finding, of any severity', () => {
    expect(findings(clean.report)).toEqual([]);
  });
});

describe('an environment-agnostic stack (no env: what `cdk init` gives)', () => {
  // Acknowledgement ids used to embed the region/account tokens, which cannot key a map.
  const envless = synthReferenceApp(undefined, { envAgnostic: true });

  test('synthesizes, and the report has no unacknowledged finding', () => {
    expect(envless.error?.message).toBeUndefined();
    expect(findings(envless.report)).toEqual([]);
  });
});

describe('with the feature flags of a new `cdk init app` (acknowledgements must not depend on them)', () => {
  // @aws-cdk/core:enablePartitionLiterals alone turns `arn:<AWS::Partition>:` into `arn:aws:` in
  // the findings of a stack whose region is known; @aws-cdk/aws-iam:minimizePolicies merges statements.
  test('the reference app (env from the config): no unacknowledged finding', () => {
    const flagged = synthReferenceApp(undefined, { newProjectFlags: true });
    expect(flagged.error?.message).toBeUndefined();
    expect(findings(flagged.report)).toEqual([]);
  });

  test('the reference app with no env: no unacknowledged finding', () => {
    const flagged = synthReferenceApp(undefined, { envAgnostic: true, newProjectFlags: true });
    expect(flagged.error?.message).toBeUndefined();
    expect(findings(flagged.report)).toEqual([]);
  });

  // The tests' configuration has every runbook in auto mode with every wildcard grant (StopTask,
  // tagged instances, Auto Scaling groups): each acknowledgement id is exercised with `arn:aws:`.
  test.each([false, true])('every runbook in auto mode (test/support/synth.ts testConfig), new-project flags %s: no unacknowledged finding', (newProjectFlags) => {
    const synthesized = synthReferenceApp(undefined, { config: testConfig, newProjectFlags });
    expect(synthesized.error?.message).toBeUndefined();
    expect(findings(synthesized.report)).toEqual([]);
  });
});

describe('the check really runs', () => {
  test('a non-compliant queue added to the same stack fails synthesis, naming the rules', () => {
    expect(withBadQueue.error).toBeDefined();
    expect(withBadQueue.error!.message).toContain('AwsSolutions-SQS2');
    expect(withBadQueue.error!.message).toContain('AwsSolutions-SQS4');
  });

  test('the report lists its findings as errors, on that queue only', () => {
    const found = findings(withBadQueue.report);
    const queuePath = `${withBadQueue.stack.stackName}/NonCompliantQueue/Resource`;
    expect(found).toEqual(expect.arrayContaining([
      { rule: 'AwsSolutions-SQS2', severity: 'error', path: queuePath },
      { rule: 'AwsSolutions-SQS3', severity: 'error', path: queuePath },
      { rule: 'AwsSolutions-SQS4', severity: 'error', path: queuePath },
    ]));
    expect(found.filter((f) => f.path !== queuePath)).toEqual([]);
  });
});

describe('acknowledgements', () => {
  const ackKey = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
  const acks: Array<{ path: string; id: string; reason: unknown }> = [];
  const walk = (node: IConstruct) => {
    for (const entry of node.node.metadata) {
      if (entry.type !== ackKey || !entry.data) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) acks.push({ path: node.node.path, id, reason });
    }
    node.node.children.forEach(walk);
  };
  walk(clean.app);

  test('there are acknowledgements to inspect', () => {
    expect(acks.length).toBeGreaterThan(0);
  });

  test('every acknowledgement carries a reason a reviewer can read', () => {
    const unjustified = acks.filter((a) => typeof a.reason !== 'string' || a.reason.trim().length < 20);
    expect(unjustified).toEqual([]);
  });

  test('every acknowledgement names one AwsSolutions finding', () => {
    const ids = acks.map((a) => a.id.replace(/^annotation::/i, ''));
    expect(ids.filter((id) => !/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/.test(id))).toEqual([]);
  });

  test('nothing is acknowledged for the whole app or stack: each sits on the construct that causes it', () => {
    const broad = acks.filter((a) => a.path === '' || a.path === clean.stack.node.path);
    expect(broad).toEqual([]);
  });
});
