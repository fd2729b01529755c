import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { alarmArns, commonSettings, list, object, runbookName, text } from '../../lib/platform/config-schema';
import { Runbook, type RunbookCommonProps } from '../../lib/platform/runbook';
import { commonRunbookProps, defineRunbookKind } from '../../lib/platform/runbook-kind';

/*
 * The tiniest runbook kind, as a user (or a new built-in) adds one: this one module is its
 * construct and its registry entry. (A real kind also has its handler in lambdas/<handler>/ and,
 * to be built in, one line in lib/runbooks/index.ts; test/unit/runbook-registry.test.ts lists
 * what else every built-in kind must have.)
 */

/** Restarts an allow-listed "widget" named by its alarm's `Widget` dimension. */
export class WidgetRestartRunbook extends Construct {
  public readonly runbook: Runbook;
  public readonly stepFunction: lambda.Function;

  constructor(scope: Construct, id: string, props: RunbookCommonProps & { readonly widgets: string[] }) {
    super(scope, id);
    this.stepFunction = new lambda.Function(this, 'Steps', {
      runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    });
    this.runbook = new Runbook(this, 'Runbook', {
      ...props,
      kind: 'widget-restart',
      stepFunction: this.stepFunction,
      reversible: false,
      target: {
        type: 'widget',
        dimensions: { Widget: '[a-z-]{1,64}' },
        idTemplate: '{Widget}',
        arnTemplate: 'arn:{partition}:widgets:{region}:{account}:widget/{Widget}',
        allowed: props.widgets.map((widget) => ({ Widget: widget })),
      },
    });
  }
}

/** Its entry: `runbooks.widgetRestart` in the config file. */
export const widgetRestartKind = defineRunbookKind({
  kind: 'widget-restart',
  configKey: 'widgetRestart',
  handler: 'widget-restart',
  schema: object({ name: runbookName(), alarmArns: alarmArns(''), ...commonSettings, widgets: list(text()) }),
  build: (scope, id, entry, platform) => new WidgetRestartRunbook(scope, id, { ...commonRunbookProps(scope, platform, entry), widgets: entry.widgets }),
});
