import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, configSchemaFor, parseConfig, type MedicConfig } from '../../lib/config';
import { MedicStack } from '../../lib/medic-stack';
import { ENTRY_METADATA_KEY } from '../../lib/platform/function';
import type { RunbookConstruct } from '../../lib/platform/runbook-kind';
import { RUNBOOK_KINDS } from '../../lib/runbooks';
import { ACCOUNT, REGION, alarmArn, synthStack, testConfig } from '../support/synth';
import { widgetRestartKind } from '../support/widget-restart-kind';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const filesIn = (dir: string) => fs.readdirSync(path.join(ROOT, dir)).map((f) => path.join(dir, f));

describe('the registry of runbook kinds (lib/runbooks/index.ts)', () => {
  test('config keys, kinds and handlers are unique', () => {
    for (const field of ['configKey', 'kind', 'handler'] as const) {
      expect(new Set(RUNBOOK_KINDS.map((k) => k[field])).size).toBe(RUNBOOK_KINDS.length);
    }
  });

  describe.each(RUNBOOK_KINDS.map((kind) => [kind.kind, kind] as const))('%s has everything a built-in kind needs', (_name, kind) => {
    test('its module lib/runbooks/<handler>.ts exports its construct and this entry', () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const module = require(path.join(ROOT, 'lib', 'runbooks', kind.handler)) as Record<string, unknown>;
      expect(Object.values(module)).toContain(kind);
    });

    test('its handler, lambdas/<handler>/index.ts, and its unit tests, test/unit/<handler>.test.ts', () => {
      expect(fs.existsSync(path.join(ROOT, 'lambdas', kind.handler, 'index.ts'))).toBe(true);
      expect(read(`test/unit/${kind.handler}.test.ts`)).toContain(`lambdas/${kind.handler}`);
    });

    test('template tests (test/constructs) and workflow tests (test/workflow) that name it', () => {
      expect(filesIn('test/constructs').filter((f) => read(f).includes(`lib/runbooks/${kind.handler}'`))).not.toEqual([]);
      expect(filesIn('test/workflow').filter((f) => f.endsWith(`${kind.handler}.test.ts`) || read(f).includes(`'${kind.kind}'`))).not.toEqual([]);
    });

    test('a bundled game-day scenario that deploys it', () => {
      const scenarios = filesIn('scenarios').filter((f) => {
        const config = (parseYaml(read(f)) as { config?: { runbooks?: Record<string, unknown> } }).config;
        return config?.runbooks?.[kind.configKey] !== undefined;
      });
      expect(scenarios).not.toEqual([]);
    });

    test('the reference test config deploys it (so the template, cdk-nag and IAM tests cover it), with the kind and handler its entry declares', () => {
      const entries = (testConfig.runbooks as Record<string, unknown[] | undefined>)[kind.configKey] ?? [];
      expect(entries.length).toBeGreaterThan(0);
      const built = synthesized.stack.runbooksOf<RunbookConstruct>(kind);
      expect(built).toHaveLength(entries.length);
      for (const runbook of built) {
        expect((runbook.stepFunction.node.defaultChild as CfnResource).getMetadata(ENTRY_METADATA_KEY)).toBe(`${kind.handler}/index.ts`);
        const definition = JSON.stringify(synthesized.stack.resolve((runbook.runbook.stateMachine.node.defaultChild as sfn.CfnStateMachine).definitionString));
        expect(definition).toContain(`\\"kind\\":\\"${kind.kind}\\"`);
      }
    });
  });
});

const synthesized = synthStack(testConfig);

describe('a kind of your own (test/support/widget-restart-kind.ts: one module)', () => {
  const text = JSON.stringify({
    stackName: 'Widgets',
    env: { account: ACCOUNT, region: REGION },
    runbooks: {
      ecsTaskRestart: [{ name: 'api-restart', alarmArns: [alarmArn('api-5xx')], services: [{ clusterName: 'prod', serviceName: 'api' }] }],
      widgetRestart: [{ name: 'widget-restart', mode: 'auto', alarmArns: [alarmArn('widget-errors')], widgets: ['blue', 'green'] }],
    },
  });
  const kinds = [...RUNBOOK_KINDS, widgetRestartKind];

  test('without it, the config refuses the key and names the kinds it knows', () => {
    expect(() => parseConfig(text, 'widgets.json')).toThrow(ConfigError);
    expect(() => parseConfig(text, 'widgets.json')).toThrow(/^widgets\.json: runbooks\.widgetRestart: unknown setting \(known: ecsTaskRestart, rdsFailoverDrill, asgElbHealthCheck, diskPrune, diskPruneFleet, certificateRenewal\)/);
  });

  test('its entries are checked by its own schema', () => {
    const wrong = text.replace('"widgets":["blue","green"]', '"widgets":"blue"');
    expect(() => parseConfig(wrong, 'widgets.json', { kinds })).toThrow('widgets.json: runbooks.widgetRestart[0].widgets: must be a list, got "blue"');
  });

  test('registered, the config-driven stack builds it next to the built-in kinds: its workflow, its alarm rule, its output', () => {
    const config: MedicConfig = parseConfig(text, 'widgets.json', { kinds });
    const stack = new MedicStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Widgets', { config, kinds, env: config.env });
    expect(stack.runbooks().map((r) => r.name)).toEqual(['api-restart', 'widget-restart']);
    const [widgets] = stack.runbooksOf(widgetRestartKind);
    expect(widgets.node.id).toBe('WidgetRestart-widget-restart');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { resources: [alarmArn('widget-errors')] } });
    template.hasOutput('StateMachinewidgetrestart', {});
    const definition = JSON.stringify(stack.resolve((widgets.runbook.stateMachine.node.defaultChild as sfn.CfnStateMachine).definitionString));
    expect(definition).toContain('\\"allowed\\":[{\\"Widget\\":\\"blue\\"},{\\"Widget\\":\\"green\\"}]');
  });

  test('its settings appear in the JSON Schema generated for the kinds', () => {
    const schema = JSON.stringify(z.toJSONSchema(configSchemaFor(kinds), { io: 'input', unrepresentable: 'any' }));
    expect(schema).toContain('"widgetRestart"');
    expect(schema).toContain('"widgets"');
  });
});
