import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { awsError, type ModelOperations } from './operations';

/**
 * An S3 bucket of small objects (the page-marks bucket): PutObject, with the conditional create
 * the page marks rely on, and DeleteObject. Used by the game-day world (lib/gameday/services/core.ts)
 * and the workflow tests (test/support/fake-aws.ts).
 */
export class BucketModel {
  /** Object bodies by key. */
  readonly objects = new Map<string, string>();

  readonly operations: ModelOperations = {
    PutObject: { command: PutObjectCommand, mutating: false, answer: (input: { Key: string; IfNoneMatch?: string; Body?: unknown }) => this.putObject(input) },
    DeleteObject: { command: DeleteObjectCommand, mutating: false, answer: (input: { Key: string }) => this.deleteObject(input) },
  };

  /**
   * PutObjectRequest.IfNoneMatch: "Uploads the object only if the object key name does not already
   * exist in the bucket specified. Otherwise, Amazon S3 returns a 412 Precondition Failed error."
   */
  putObject(input: { Key: string; IfNoneMatch?: string; Body?: unknown }): { ETag: string } {
    if (input.IfNoneMatch === '*' && this.objects.has(input.Key)) {
      throw awsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);
    }
    this.objects.set(input.Key, String(input.Body ?? ''));
    return { ETag: `"${this.objects.size}"` };
  }

  /** DeleteObject: removing a key that does not exist succeeds too (S3 API reference, DeleteObject: "returns 204 No Content"). */
  deleteObject(input: { Key: string }): Record<string, never> {
    this.objects.delete(input.Key);
    return {};
  }
}
