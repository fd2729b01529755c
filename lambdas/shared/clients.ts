import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SNSClient } from '@aws-sdk/client-sns';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';

// One client per service per container, created on first use so cold starts pay only for what a handler uses.
let documentClient: DynamoDBDocumentClient | undefined;
let ssmClient: SSMClient | undefined;
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

export function ssm(): SSMClient {
  ssmClient ??= new SSMClient({});
  return ssmClient;
}

export function sns(): SNSClient {
  snsClient ??= new SNSClient({});
  return snsClient;
}

export function cloudWatch(): CloudWatchClient {
  cloudWatchClient ??= new CloudWatchClient({});
  return cloudWatchClient;
}

export function s3(): S3Client {
  s3Client ??= new S3Client({});
  return s3Client;
}

export function stepFunctions(): SFNClient {
  sfnClient ??= new SFNClient({});
  return sfnClient;
}
