import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { localDbDir } from '../../local/local-ledger';
import { persistLocalAnchor } from '../../local/local-anchors';
import { HmacKeyModel, StackFunctionsModel } from '../models/ledger-writer';
import { bindOperations } from '../models/operations';
import { BucketModel, type BucketSettings } from '../models/s3';
import type { World } from '../world';
import { bucketsOf } from './core';

/**
 * What the ledger writer needs of AWS beyond DynamoDB: Lambda's Invoke (handlers append through
 * the writer function), the KMS HMAC key of the ledger's MACs, and the anchors bucket (S3 with
 * Object Lock), whose every new version is also written to the local anchors folder
 * (lib/local/local-anchors.ts) for `medic ledger verify --local`.
 */
export function installLedgerWriter(world: World, template: Record<string, unknown>): void {
  bindOperations(world.stub(LambdaClient), new StackFunctionsModel(template, world.env).operations, (operation, input, mutating, answer) =>
    world.answer('lambda', operation, input, mutating, answer));
  bindOperations(world.stub(KMSClient), new HmacKeyModel().operations, (operation, input, mutating, answer) =>
    world.answer('kms', operation, input, mutating, answer));
  const anchors = anchorsBucketOf(template);
  if (anchors) {
    const dbDir = localDbDir();
    bucketsOf(world).define(anchors.name, new BucketModel(anchors.settings, () => world.clock.now(), (key, version, index) => persistLocalAnchor(dbDir, key, version.body, index)));
    // Offline a bucket's name is its logical id; set here, as the engine sets the MAC key, so a second stack's writer names its own.
    process.env.MEDIC_LEDGER_ANCHORS_BUCKET = anchors.name;
  } else {
    delete process.env.MEDIC_LEDGER_ANCHORS_BUCKET;
  }
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The stack's bucket with Object Lock (the ledger anchors, lib/platform/ledger-anchors.ts) and its settings, as the template creates it. */
export function anchorsBucketOf(template: Record<string, unknown>): { name: string; settings: BucketSettings } | undefined {
  const resources = (template as { Resources?: Resources }).Resources ?? {};
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::S3::Bucket' || resource.Properties?.ObjectLockEnabled !== true) continue;
    const p = resource.Properties as {
      VersioningConfiguration?: { Status?: string };
      ObjectLockConfiguration?: { Rule?: { DefaultRetention?: { Mode?: 'COMPLIANCE' | 'GOVERNANCE'; Days?: number; Years?: number } } };
    };
    const retention = p.ObjectLockConfiguration?.Rule?.DefaultRetention;
    const days = retention?.Days ?? (retention?.Years ? retention.Years * 365 : undefined);
    return {
      name: id,
      settings: {
        versioned: p.VersioningConfiguration?.Status === 'Enabled',
        ...(retention?.Mode && days ? { objectLock: { mode: retention.Mode, days } } : {}),
      },
    };
  }
  return undefined;
}
