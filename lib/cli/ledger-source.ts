import { requireGameDayPackages } from './game-day-packages';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inert } from '../../lambdas/shared/inert-text';
import type { AnchorSource } from '../../lambdas/shared/ledger-anchors';
import type { LedgerMac } from '../../lambdas/shared/ledger-mac';
import { awsClient, explainAwsError, type AwsOptions } from './aws';
import { EXIT } from './index';
import { NO_SOURCE, type LedgerSourceOptions, type RangeOptions } from './ledger';
import { localDbDir } from '../local/local-db-dir';
import { loadSimulatedRange } from '../local/simulated-range';
import { timeRange, type TimeRange } from './time-range';
import { UsageError } from './usage-error';

/** An open ledger: the table, a client for it, and how to say where it is in messages. */
export interface LedgerSource {
  readonly table: string;
  readonly client: DynamoDBDocumentClient;
  /** e.g. `table medic-ledger (eu-west-1)`, for messages. */
  readonly description: string;
  /**
   * The key that verifies the entries' MACs: the offline key for the game day's ledger, the
   * stack's KMS HMAC key otherwise (from the stack, or --mac-key). Never the key an entry names.
   * Throws a UsageError when none was given.
   */
  mac(): LedgerMac;
  /**
   * Where the ledger's anchors are (lambdas/shared/ledger-anchors.ts): the stack's anchors bucket
   * (its `LedgerAnchorsBucketName` output, or --anchors-bucket), or the game day's anchors folder.
   * Undefined when none was given: verify then checks the chains only, and says so.
   */
  anchors(): AnchorSource | undefined;
  close(): Promise<void>;
}

/**
 * Opens the ledger the options name. Throws UsageError when they name none; an AWS error the user
 * can fix (no credentials, a stack not deployed) as a one-line hint (aws.ts).
 */
export async function openLedgerSource(options: LedgerSourceOptions): Promise<LedgerSource> {
  if (options.local) return openLocalLedger();
  if (options.table) return deployedLedger(options.table, options, options.macKey, options.anchorsBucket);
  if (options.stack) {
    const outputs = await stackOutputs(options.stack, options);
    return deployedLedger(outputs.table, options, options.macKey ?? outputs.macKey, options.anchorsBucket ?? outputs.anchorsBucket);
  }
  throw new UsageError(NO_SOURCE);
}

function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

function deployedLedger(table: string, options: LedgerSourceOptions, macKey: string | undefined, anchorsBucket: string | undefined): LedgerSource {
  const client = documentClient(awsClient(DynamoDBClient, options, { maxAttempts: 4 }));
  let anchors: AnchorSource | undefined;
  let s3: { destroy(): void } | undefined;
  return {
    table,
    client,
    description: `table ${table}${options.region ? ` (${options.region})` : ''}`,
    mac: () => {
      if (!macKey) throw new UsageError('verifying needs the ledger\'s HMAC key: give --mac-key <arn> (the stack\'s LedgerMacKeyArn output), or --stack');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { KmsLedgerMac, LocalLedgerMac }: typeof import('../../lambdas/shared/ledger-mac') = require('../../lambdas/shared/ledger-mac');
      if (macKey === 'local') return new LocalLedgerMac();
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { KMSClient }: typeof import('@aws-sdk/client-kms') = require('@aws-sdk/client-kms');
      return new KmsLedgerMac(macKey, awsClient(KMSClient, options));
    },
    anchors: () => {
      if (!anchorsBucket || anchors) return anchors;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { S3Client }: typeof import('@aws-sdk/client-s3') = require('@aws-sdk/client-s3');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { S3AnchorSource }: typeof import('../../lambdas/shared/ledger-anchors') = require('../../lambdas/shared/ledger-anchors');
      const s3Client = awsClient(S3Client, options, { maxAttempts: 4 });
      s3 = s3Client;
      anchors = new S3AnchorSource(s3Client, anchorsBucket);
      return anchors;
    },
    close: async () => {
      client.destroy();
      s3?.destroy();
    },
  };
}

async function openLocalLedger(): Promise<LedgerSource> {
  requireGameDayPackages('medic ledger --local');
  // Loaded here: dynalite (LevelDB) is only needed for --local.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { localDbDir, LOCAL_LEDGER_TABLE, openLocalTables }: typeof import('../local/local-ledger') = require('../local/local-ledger');
  const dir = path.resolve(localDbDir());
  // openLocalTables would create an empty ledger; a missing folder means no game day ran here.
  if (!fs.existsSync(dir)) throw new Error(`no game day ledger in ${dir}: run \`medic gameday\` first`);
  // dynalite throws LevelDB failures (the folder locked by a running game day) from a callback no
  // promise can catch, and a failed open leaves its server listening: either way, report an error
  // and exit 2 here, rather than crash with exit 1 ("check failed") or hang.
  const unreadable = (error: Error) => {
    // Written here, not through main(): so made inert here.
    process.stderr.write(`medic: cannot read the game day ledger in ${inert(dir)} (is a game day running?): ${inert(error?.message)}\n`);
    process.exit(EXIT.error);
  };
  process.on('uncaughtException', unreadable);
  // setEndpointEnv false: only this command's own client talks to the local tables.
  const local = await openLocalTables({ dir, setEndpointEnv: false }).catch(unreadable);
  const client = documentClient(local.client());
  return {
    table: LOCAL_LEDGER_TABLE,
    client,
    description: `the game day ledger in ${dir}`,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mac: () => new (require('../../lambdas/shared/ledger-mac') as typeof import('../../lambdas/shared/ledger-mac')).LocalLedgerMac(),
    // The anchors the game day's simulated bucket wrote next to its tables (lib/local/local-anchors.ts), if it wrote any.
    anchors: () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { LocalAnchorSource, localAnchorsDir }: typeof import('../local/local-anchors') = require('../local/local-anchors');
      return fs.existsSync(localAnchorsDir(dir)) ? new LocalAnchorSource(dir) : undefined;
    },
    close: async () => {
      client.destroy(); // first, so no kept-alive connection holds the server open
      await local.stop();
      process.off('uncaughtException', unreadable);
    },
  };
}

/** The `LedgerTableName`, `LedgerMacKeyArn` and `LedgerAnchorsBucketName` outputs of a medic stack, through CloudFormation DescribeStacks. */
async function stackOutputs(stack: string, options: AwsOptions): Promise<{ table: string; macKey?: string; anchorsBucket?: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { CloudFormationClient, DescribeStacksCommand }: typeof import('@aws-sdk/client-cloudformation') = require('@aws-sdk/client-cloudformation');
  const cloudFormation = awsClient(CloudFormationClient, options);
  try {
    const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    const output = (key: string) => out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
    const table = output('LedgerTableName');
    if (!table) throw new Error(`stack ${stack} has no LedgerTableName output: is it a medic stack?`);
    return { table, macKey: output('LedgerMacKeyArn'), anchorsBucket: output('LedgerAnchorsBucketName') };
  } catch (error) {
    // "Stack with id ... does not exist": not deployed (in this region, account).
    throw await explainAwsError(error, options, { stack });
  } finally {
    cloudFormation.destroy();
  }
}

/** An error reading an open ledger, as a hint when the user can fix it (a table not found names the table and where it was looked for). */
export async function describeSourceError(error: unknown, source: LedgerSource, options: LedgerSourceOptions): Promise<unknown> {
  if (options.local) return error;
  return explainAwsError(error, options, { table: source.table, stack: options.table ? undefined : options.stack });
}

/**
 * The range a ledger command reads: `--since`/`--until`; without both, with `--local`, the
 * simulated range the last game day recorded (its scenarios run on simulated days, which the
 * default last 24 hours would miss); otherwise the last 24 hours.
 */
export function ledgerRange(options: RangeOptions, fallback: (options: RangeOptions) => TimeRange = timeRange): TimeRange {
  if (options.local && options.since === undefined && options.until === undefined) {
    const simulated = loadSimulatedRange(path.resolve(localDbDir()));
    if (simulated) return simulated;
  }
  return fallback(options);
}
