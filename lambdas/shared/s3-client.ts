/**
 * The S3 client and the commands medic sends, for `await import('./s3-client')` on the paths that
 * use S3 (clients.ts `s3()`, page marks). Importing this small module rather than
 * `@aws-sdk/client-s3` itself keeps the bundle tree-shaken: a dynamic import of the package would
 * keep every S3 command.
 */
export { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
