import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';

// One client per service per container, created on first use so cold starts pay only for what a handler uses.
// A client used on few paths (S3, the SDK's largest) is also imported on first use: a handler's
// bundle loads its code from a chunk then, not at cold start (lib/package/handler-bundles.ts).
// The SSM client is in ssm-client.ts, not here: a bundle loads this whole module at cold start,
// and the runbooks use SSM only through the mutation gate, which they import when acting.
let documentClient: DynamoDBDocumentClient | undefined;
let snsClient: SNSClient | undefined;
let cloudWatchClient: CloudWatchClient | undefined;
let s3Client: S3Client | undefined;
let sfnClient: SFNClient | undefined;

export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 4 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

export function sns(): SNSClient {
  snsClient ??= new SNSClient({});
  return snsClient;
}

export function cloudWatch(): CloudWatchClient {
  cloudWatchClient ??= new CloudWatchClient({});
  return cloudWatchClient;
}

/** S3 serves page marks, ledger anchors, archives and exports: loaded when one of those first needs it. */
export async function s3(): Promise<S3Client> {
  if (!s3Client) {
    const { S3Client } = await import('./s3-client');
    s3Client ??= new S3Client({});
  }
  return s3Client;
}

export function stepFunctions(): SFNClient {
  sfnClient ??= new SFNClient({});
  return sfnClient;
}
