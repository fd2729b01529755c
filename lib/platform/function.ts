import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage, Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge } from './nag';
import { HANDLER_BUNDLES_DIR, HANDLER_BUNDLE_FILE, HANDLER_SOURCES_DIR, PACKAGE_ROOT, RUNNING_FROM_SOURCES, bundleHandler } from '../package/handler-bundles';

/**
 * The handler modules the offline runners load in process: `lambdas/` in a clone, its compiled
 * copy `dist/lambdas/` in the published package.
 */
export const LAMBDAS_DIR = RUNNING_FROM_SOURCES ? HANDLER_SOURCES_DIR : path.join(PACKAGE_ROOT, 'dist', 'lambdas');

/** Template metadata key naming a function's handler source, read by the offline workflow runner. */
export const ENTRY_METADATA_KEY = 'medic:entry';

/** The module the offline runners load for a function's {@link ENTRY_METADATA_KEY} (`admit/index.ts`): the source, or its compiled copy. */
export function handlerModule(entry: string): string {
  return path.join(LAMBDAS_DIR, entry.replace(/\.ts$/, ''));
}

export interface MedicFunctionProps {
  /** Handler folder under `lambdas/`, e.g. `admit`. */
  readonly handler: string;
  readonly description: string;
  readonly environment?: Record<string, string>;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
}

/**
 * A handler's code: the bundle the package build made (an installed package: no esbuild, no
 * TypeScript sources needed), or, in a clone, the same bundle built by esbuild at synth time.
 */
export function handlerCode(handler: string): lambda.Code {
  if (!RUNNING_FROM_SOURCES) {
    const bundle = path.join(HANDLER_BUNDLES_DIR, handler);
    if (!fs.existsSync(path.join(bundle, HANDLER_BUNDLE_FILE))) throw new Error(`medic: the package has no bundle of handler ${handler} (${bundle}); reinstall it`);
    return lambda.Code.fromAsset(bundle);
  }
  // The handler's own folder as the asset's source: CDK caches staged assets by source path and
  // bundling options, so a shared source folder would give every function the first one's bundle.
  return lambda.Code.fromAsset(path.join(HANDLER_SOURCES_DIR, handler), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never used: the local bundling below always succeeds or throws (there is no Docker).
      image: DockerImage.fromRegistry('medic-local-bundling-only'),
      local: { tryBundle: (outputDir) => { bundleHandler(handler, outputDir); return true; } },
    },
  });
}

/**
 * A medic handler: Node.js 22 on arm64, an ES module bundle with the AWS SDK v3 inlined, X-Ray
 * tracing, a log group with a retention, and Powertools settings.
 */
export class MedicFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: MedicFunctionProps) {
    super(scope, id, {
      code: handlerCode(props.handler),
      // index.mjs: the runtime resolves `index` to the ES module bundle.
      handler: 'index.handler',
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
    });
    (this.node.defaultChild as lambda.CfnFunction).addMetadata(ENTRY_METADATA_KEY, `${props.handler}/index.ts`);
    acknowledge(this, ['L1'], 'Node.js 22 is the runtime the handlers are built and tested for; runtime upgrades are deliberate changes.');
    acknowledge(this, ['IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]'],
      'The basic execution policy grants only CloudWatch Logs writes for the function\'s own logs.');
    acknowledge(this, ['IAM5[Resource::*]'], 'X-Ray trace submission has no resource-level permissions. Any other Resource::* statement carries a condition and a comment where it is added.');
  }
}
