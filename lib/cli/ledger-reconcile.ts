import { requireGameDayPackages } from './game-day-packages';
import * as path from 'node:path';
import type { SNSClient } from '@aws-sdk/client-sns';
import { inert, inertJson } from '../../lambdas/shared/inert-text';
import type { IncidentReconciliation, ReconcileReport } from '../../lambdas/shared/reconcile';
import { awsClient, explainAwsError, type AwsOptions } from './aws';
import { EXIT } from './index';
import type { RangeOptions } from './ledger';
import { ledgerRange } from './ledger-source';
import { timeRange, type TimeRange } from './time-range';
import { UsageError } from './usage-error';

/** Options of `medic ledger reconcile`. */
export interface ReconcileOptions extends RangeOptions {
  readonly json?: boolean;
}

const print = (line = '') => process.stdout.write(`${line}\n`);

/** The default range of `reconcile`: the reconciler's own lookback (72 h), so one run covers what the schedule covers. */
const DEFAULT_LOOKBACK_MS = 72 * 3_600_000;

/**
 * `medic ledger reconcile`: closes incomplete trails from the execution history (lambdas/shared/reconcile.ts).
 * `--stack` runs the stack's reconciler function (its role reads the histories, appends through
 * the ledger writer and pages); `--local` runs the same code in this process over the last game
 * day's tables and the executions it saved, printing a page instead of sending it. Exit 1 when an
 * incomplete incident could not be closed.
 */
export async function reconcile(options: ReconcileOptions): Promise<number> {
  const range = ledgerRange(options, (o) => timeRange({ ...o, since: o.since ?? new Date((o.until ?? new Date()).getTime() - DEFAULT_LOOKBACK_MS) }));
  let report: ReconcileReport;
  if (options.local) report = await reconcileLocal(range);
  else if (options.stack) report = await reconcileWithStack(options.stack, options, range);
  else throw new UsageError('reconcile runs the stack\'s reconciler (--stack <name>), whose role may read the executions and append; or give --local for the last game day');
  if (options.json) {
    print(inertJson(report));
  } else {
    for (const result of report.results) print(resultLine(result));
    print(`${report.incomplete} incomplete incident(s) among ${report.incidents} with entries between ${report.from} and ${report.to}: `
      + `${report.results.filter((r) => r.result === 'reconciled').length} reconciled, ${report.results.filter((r) => r.result === 'running').length} still running, `
      + `${report.results.filter((r) => r.result === 'skipped').length} left incomplete`);
  }
  return report.results.some((r) => r.result === 'skipped') ? EXIT.failed : EXIT.ok;
}

function resultLine(result: IncidentReconciliation): string {
  const parts = [`incident ${inert(result.incidentId)}: ${inert(result.result)}`];
  if (result.executionStatus) parts.push(`execution ${inert(result.executionStatus)}`);
  if (result.released.length) parts.push(`leases released: ${result.released.map((k) => inert(k)).join(', ')}`);
  if (result.missedInLedger.length) {
    parts.push(`MISSED BY THE LEDGER: ${result.missedInLedger.map((c) => inert(`${c.operation} ${c.target}: ${c.outcome}`)).join('; ')}${result.paged ? ' (paged)' : ` (not paged: ${inert(result.pageError)})`}`);
  }
  if (result.reason) parts.push(inert(result.reason));
  return parts.join('; ');
}

/** Runs the deployed reconciler function (the stack's LedgerReconcileFunctionName output) over the range; AWS errors the user can fix as hints (aws.ts). */
async function reconcileWithStack(stack: string, options: AwsOptions, range: TimeRange): Promise<ReconcileReport> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { CloudFormationClient, DescribeStacksCommand }: typeof import('@aws-sdk/client-cloudformation') = require('@aws-sdk/client-cloudformation');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { LambdaClient, InvokeCommand }: typeof import('@aws-sdk/client-lambda') = require('@aws-sdk/client-lambda');
  const cloudFormation = awsClient(CloudFormationClient, options);
  const lambda = awsClient(LambdaClient, options);
  let name: string | undefined;
  try {
    const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    name = out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'LedgerReconcileFunctionName')?.OutputValue;
    if (!name) throw new Error(`stack ${stack} has no LedgerReconcileFunctionName output: deploy this version of medic first`);
    const answer = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify({ from: range.from.toISOString(), to: range.to.toISOString() })) }));
    const body: unknown = JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8') || 'null');
    if (answer.FunctionError) throw new Error(`the reconciler failed: ${inertJson(body, 500)}`);
    return body as ReconcileReport;
  } catch (error) {
    throw await explainAwsError(error, options, { stack, function: name });
  } finally {
    cloudFormation.destroy();
    lambda.destroy();
  }
}

/** The reconciler over the last game day: its tables, the executions it saved, its offline MAC key; pages are printed. */
async function reconcileLocal(range: TimeRange): Promise<ReconcileReport> {
  requireGameDayPackages('medic ledger reconcile --local');
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only for --local */
  const fs: typeof import('node:fs') = require('node:fs');
  const { localDbDir, loadLocalExecutions, openLocalTables, LOCAL_LEDGER_TABLE, LOCAL_LIMITER_TABLE }: typeof import('../local/local-ledger') = require('../local/local-ledger');
  const { SFNClient }: typeof import('@aws-sdk/client-sfn') = require('@aws-sdk/client-sfn');
  const { StepFunctionsModel }: typeof import('../gameday/models/step-functions') = require('../gameday/models/step-functions');
  const { reconcileRange }: typeof import('../../lambdas/shared/reconcile') = require('../../lambdas/shared/reconcile');
  const { writeEntry }: typeof import('../../lambdas/shared/ledger') = require('../../lambdas/shared/ledger');
  const { LocalLedgerMac }: typeof import('../../lambdas/shared/ledger-mac') = require('../../lambdas/shared/ledger-mac');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const dir = path.resolve(localDbDir());
  if (!fs.existsSync(dir)) throw new Error(`no game day ledger in ${dir}: run \`medic gameday\` first`);
  const records = new Map(loadLocalExecutions(dir).map((r) => [r.executionArn, r]));
  const model = new StepFunctionsModel((arn) => records.get(arn));
  // The handlers' own code runs here: their DynamoDB client goes to the local tables, entries get the offline MAC.
  process.env.AWS_REGION ??= 'eu-west-1';
  if (!process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE) Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  delete process.env.MEDIC_LEDGER_WRITER;
  const local = await openLocalTables({ dir, setEndpointEnv: true });
  const sfn = new SFNClient({ region: 'eu-west-1' });
  (sfn as unknown as { send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => Promise<unknown> }).send = async (command) => {
    const operation = command.constructor.name.replace(/Command$/, '');
    const answer = model.operations[operation];
    if (!answer) throw new Error(`the local executions do not answer ${operation}`);
    return answer.answer(command.input);
  };
  let pages = 0;
  const sns = {
    send: async (command: { input: { Subject?: string; Message?: string } }) => {
      print(`PAGE (local: printed here, not sent): ${inert(command.input.Subject)}`);
      for (const line of String(command.input.Message ?? '').split('\n')) print(`  ${inert(line)}`);
      return { MessageId: `local-page-${++pages}` };
    },
  } as unknown as SNSClient;
  try {
    return await reconcileRange({
      ledgerTable: LOCAL_LEDGER_TABLE, limiterTable: LOCAL_LIMITER_TABLE, sfn, sns, topicArn: 'local', actor: 'medic-cli',
      // Written here with the offline key, as the game day's writer does (no writer function offline).
      append: (input) => writeEntry(LOCAL_LEDGER_TABLE, input, new LocalLedgerMac()),
    }, range.from, range.to);
  } finally {
    sfn.destroy();
    await local.stop();
  }
}
