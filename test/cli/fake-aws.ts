import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server for one fake AWS API; `handle` gets the request's headers and body. */
abstract class FakeServer {
  private server?: http.Server;
  public endpoint = '';
  /** The `Authorization` header of every request, as sent (SigV4: `Credential=<key id>/<date>/<region>/<service>/aws4_request`). */
  readonly authorizations: string[] = [];

  protected abstract handle(headers: http.IncomingHttpHeaders, body: string): { status: number; contentType: string; body: string };

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.authorizations.push(String(request.headers.authorization ?? ''));
        const reply = this.handle(request.headers, Buffer.concat(chunks).toString('utf8'));
        response.writeHead(reply.status, { 'content-type': reply.contentType });
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
}

interface StoredParameter {
  Value: string;
  Type: string;
  Version: number;
  LastModifiedDate: number;
}

/**
 * SSM Parameter Store over the AWS JSON 1.1 protocol (operation in `X-Amz-Target`):
 * PutParameter, GetParameter, GetParameters and GetParametersByPath, paged by 10 as SSM does.
 */
export class FakeSsm extends FakeServer {
  readonly parameters = new Map<string, StoredParameter>();
  /** Every PutParameter request, as sent. */
  readonly puts: Array<Record<string, unknown>> = [];
  /** Errors to answer GetParametersByPath with, by path (no trailing slash): `__type` and message, as SSM sends them. */
  readonly failures = new Map<string, { type: string; message: string }>();

  set(name: string, value: string): void {
    this.parameters.set(name, { Value: value, Type: 'String', Version: (this.parameters.get(name)?.Version ?? 0) + 1, LastModifiedDate: Date.parse('2026-11-22T03:00:00Z') / 1000 });
  }

  private view(name: string) {
    const p = this.parameters.get(name)!;
    return { Name: name, ...p, ARN: `arn:aws:ssm:eu-west-1:111111111111:parameter${name}`, DataType: 'text' };
  }

  protected handle(headers: http.IncomingHttpHeaders, body: string) {
    const input = JSON.parse(body || '{}') as Record<string, unknown>;
    const ok = (out: unknown) => ({ status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(out) });
    const fail = (type: string, message: string) => ({ status: 400, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ __type: type, message }) });
    const name = String(input.Name ?? '');
    switch (String(headers['x-amz-target'])) {
      case 'AmazonSSM.PutParameter': {
        this.puts.push(input);
        if (this.parameters.has(name) && input.Overwrite !== true) return fail('ParameterAlreadyExists', `${name} exists`);
        this.parameters.set(name, { Value: String(input.Value), Type: String(input.Type ?? 'String'), Version: (this.parameters.get(name)?.Version ?? 0) + 1, LastModifiedDate: Date.now() / 1000 });
        return ok({ Version: this.parameters.get(name)!.Version, Tier: 'Standard' });
      }
      case 'AmazonSSM.GetParameter':
        return this.parameters.has(name) ? ok({ Parameter: this.view(name) }) : fail('ParameterNotFound', `${name} not found`);
      case 'AmazonSSM.GetParameters': {
        const names = (input.Names as string[]) ?? [];
        return ok({ Parameters: names.filter((n) => this.parameters.has(n)).map((n) => this.view(n)), InvalidParameters: names.filter((n) => !this.parameters.has(n)) });
      }
      case 'AmazonSSM.GetParametersByPath': {
        const path = String(input.Path).replace(/\/$/, '');
        const failure = this.failures.get(path);
        if (failure) return fail(failure.type, failure.message);
        const under = [...this.parameters.keys()].sort()
          .filter((n) => n.startsWith(`${path}/`) && (input.Recursive === true || !n.slice(path.length + 1).includes('/')));
        const start = Number(input.NextToken ?? 0);
        const page = under.slice(start, start + 10);
        return ok({ Parameters: page.map((n) => this.view(n)), ...(start + 10 < under.length ? { NextToken: String(start + 10) } : {}) });
      }
      default:
        return fail('InvalidAction', `not faked: ${String(headers['x-amz-target'])}`);
    }
  }
}

/** CloudFormation DescribeStacks over the AWS Query protocol (form body, XML reply), for stacks with outputs. */
export class FakeCloudFormation extends FakeServer {
  readonly stacks = new Map<string, Record<string, string>>();
  /** Errors to answer DescribeStacks with, by stack name: the error code and message, as CloudFormation sends them. */
  readonly failures = new Map<string, { code: string; message: string }>();

  protected handle(_headers: http.IncomingHttpHeaders, body: string) {
    const form = new URLSearchParams(body);
    const xml = (status: number, text: string) => ({ status, contentType: 'text/xml', body: text });
    const name = form.get('StackName') ?? '';
    if (form.get('Action') !== 'DescribeStacks') return xml(400, errorXml('InvalidAction', `not faked: ${form.get('Action')}`));
    const failure = this.failures.get(name);
    if (failure) return xml(failure.code.startsWith('Expired') ? 400 : 403, errorXml(failure.code, failure.message));
    const outputs = this.stacks.get(name);
    if (!outputs) return xml(400, errorXml('ValidationError', `Stack with id ${name} does not exist`));
    const members = Object.entries(outputs)
      .map(([key, value]) => `<member><OutputKey>${key}</OutputKey><OutputValue>${value}</OutputValue></member>`).join('');
    return xml(200, `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>
      <StackName>${name}</StackName><StackId>arn:aws:cloudformation:eu-west-1:111111111111:stack/${name}/1</StackId>
      <CreationTime>2026-11-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs>
      </member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>`);
  }
}

function errorXml(code: string, message: string): string {
  return `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>1</RequestId></ErrorResponse>`;
}
