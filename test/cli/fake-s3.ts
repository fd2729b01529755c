import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BucketsModel } from '../../lib/gameday/models/s3';

const xmlText = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * S3 over HTTP (REST, path-style: the SDK uses path-style for an IP endpoint) for the CLI child
 * processes, answering from the game day's bucket models: ListObjectVersions and GetObject, what
 * `medic ledger verify` reads of the anchors bucket. Read only: tests put through the models.
 */
export class FakeS3 {
  private server?: http.Server;
  public endpoint = '';
  /** Every request, as `METHOD path?query`. */
  readonly requests: string[] = [];

  constructor(private readonly buckets: BucketsModel) {}

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        this.requests.push(`${request.method} ${request.url}`);
        const reply = this.handle(request.method ?? 'GET', new URL(request.url ?? '/', 'http://localhost'));
        response.writeHead(reply.status, reply.headers);
        response.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.endpoint = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(method: string, url: URL): { status: number; headers: Record<string, string>; body: string } {
    const [, bucketName, ...rest] = url.pathname.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const bucket = this.buckets.bucket(decodeURIComponent(bucketName));
    const xml = (status: number, body: string) => ({ status, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>${body}` });
    const error = (status: number, code: string, message: string) => xml(status, `<Error><Code>${code}</Code><Message>${xmlText(message)}</Message><RequestId>1</RequestId></Error>`);
    try {
      if (method === 'GET' && !key && url.searchParams.has('versions')) {
        const prefix = url.searchParams.get('prefix') ?? '';
        const out = bucket.listObjectVersions({ Prefix: prefix }) as { Versions: Array<Record<string, any>>; DeleteMarkers: Array<Record<string, any>> };
        const row = (tag: string, v: Record<string, any>) => `<${tag}><Key>${xmlText(v.Key)}</Key><VersionId>${v.VersionId}</VersionId><IsLatest>${v.IsLatest}</IsLatest>`
          + `<LastModified>${(v.LastModified as Date).toISOString()}</LastModified>${tag === 'Version' ? `<ETag>"e"</ETag><Size>${v.Size}</Size><StorageClass>STANDARD</StorageClass>` : ''}</${tag}>`;
        return xml(200, `<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlText(bucketName)}</Name><Prefix>${xmlText(prefix)}</Prefix>`
          + `<KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>`
          + `${out.Versions.map((v) => row('Version', v)).join('')}${out.DeleteMarkers.map((v) => row('DeleteMarker', v)).join('')}</ListVersionsResult>`);
      }
      if (method === 'GET' && key) {
        const out = bucket.getObject({ Key: key, VersionId: url.searchParams.get('versionId') ?? undefined }) as { VersionId?: string; Body: unknown };
        const body = bucket.versions.get(key)!.find((v) => v.versionId === out.VersionId)!.body;
        return { status: 200, headers: { 'content-type': 'application/json', 'x-amz-version-id': out.VersionId ?? 'null', 'content-length': String(Buffer.byteLength(body)) }, body };
      }
      return error(405, 'MethodNotAllowed', `not faked: ${method} ${url.pathname}${url.search}`);
    } catch (e) {
      const { name, message, $metadata } = e as Error & { $metadata?: { httpStatusCode?: number } };
      return error($metadata?.httpStatusCode ?? 500, name, message);
    }
  }
}
