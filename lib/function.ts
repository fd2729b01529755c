import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge } from './nag';

/** Root of the handler sources, `lambdas/`. */
export const LAMBDAS_DIR = path.join(__dirname, '..', 'lambdas');

/** Template metadata key naming a function's handler source, read by the offline workflow runner. */
export const ENTRY_METADATA_KEY = 'medic:entry';

export interface MedicFunctionProps {
  /** Handler folder under `lambdas/`, e.g. `admit`. */
  readonly handler: string;
  readonly description: string;
  readonly environment?: Record<string, string>;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
}

/**
 * A medic handler: Node.js 22 on arm64, bundled by the local esbuild with the AWS SDK v3 left
 * to the runtime, X-Ray tracing, a log group with a retention, and Powertools settings.
 */
export class MedicFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: MedicFunctionProps) {
    const entry = path.join(LAMBDAS_DIR, props.handler, 'index.ts');
    super(scope, id, {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_YEAR }),
      environment: {
        POWERTOOLS_SERVICE_NAME: 'medic',
        POWERTOOLS_METRICS_NAMESPACE: 'Medic',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        externalModules: ['@aws-sdk/*'],
        minify: true,
        target: 'node22',
        format: OutputFormat.CJS,
      },
    });
    (this.node.defaultChild as lambda.CfnFunction).addMetadata(ENTRY_METADATA_KEY, `${props.handler}/index.ts`);
    acknowledge(this, ['L1'], 'Node.js 22 is the runtime the handlers are built and tested for; runtime upgrades are deliberate changes.');
    acknowledge(this, ['IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]'],
      'The basic execution policy grants only CloudWatch Logs writes for the function\'s own logs.');
    acknowledge(this, ['IAM5[Resource::*]'], 'X-Ray trace submission has no resource-level permissions. Any other Resource::* statement carries a condition and a comment where it is added.');
  }
}
