import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3 } from './clients';
import { describeError } from './errors';

/**
 * One page per incident, even when the ledger (DynamoDB) is down: before publishing, Escalate
 * creates an object named for the incident in the page-marks bucket with `If-None-Match: *`,
 * which S3 refuses (412) when it exists. S3 is a store independent of the ledger, so a
 * redelivered event during a DynamoDB outage, or a retried Escalate, does not page twice.
 */
export type MarkOutcome =
  | { readonly state: 'new' }
  | { readonly state: 'exists' }
  /** The mark could not be written: page anyway (a duplicate page beats none). */
  | { readonly state: 'unavailable'; readonly reason: string };

const keyOf = (mark: string): string => `pages/${mark.replace(/[^A-Za-z0-9._-]/g, '_')}`;

export async function markPaged(bucket: string | undefined, mark: string, body: Record<string, unknown>): Promise<MarkOutcome> {
  if (!bucket) return { state: 'unavailable', reason: 'no page-marks bucket is configured' };
  for (let attempt = 1; ; attempt++) {
    try {
      await s3().send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(mark), IfNoneMatch: '*', Body: JSON.stringify(body), ContentType: 'application/json' }));
      return { state: 'new' };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412) return { state: 'exists' };
      // 409 ConditionalRequestConflict: another writer is creating it right now; S3 says retry.
      if (status === 409 && attempt < 3) continue;
      if (status === 409) return { state: 'exists' };
      return { state: 'unavailable', reason: describeError(error) };
    }
  }
}

/** Removes a mark whose page could not be published, so a retry can page. */
export async function unmarkPaged(bucket: string | undefined, mark: string): Promise<void> {
  if (!bucket) return;
  await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(mark) }));
}
