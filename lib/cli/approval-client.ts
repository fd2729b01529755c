/**
 * The client of the approval endpoint (lambdas/approval/http.ts), for `medic approvals list`,
 * `medic approve` and `medic reject`. The endpoint is a Lambda function URL with AuthType AWS_IAM:
 * Lambda refuses a request that is not SigV4-signed for the service `lambda`, and the signature is
 * how medic learns who approves. So every request is signed here with the SDK's own signer and
 * the SDK's default credentials chain (or `--profile`), and sent with Node's fetch.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { inert } from '../../lambdas/shared/inert-text';
import { AwsHint, awsClient, explainAwsError, preferProfile, type AwsOptions } from './aws';
import { UsageError } from './usage-error';

/** Where the endpoint is: `--stack` (its `ApprovalUrl` output) or `--url`; and the global --profile, --region. */
export interface EndpointOptions extends AwsOptions {
  readonly stack?: string;
  readonly url?: string;
}

/** The usage error of a command given neither --stack nor --url. */
export const NO_ENDPOINT = 'which approval endpoint? give --stack <stack name> (its ApprovalUrl output) or --url <approval url>';

/** One answer of the endpoint, whatever its status. */
export interface ApprovalAnswer {
  readonly status: number;
  /** The answer's one-line message (untrusted: show it through inert()). */
  readonly message: string;
  /** The JSON body, as sent. */
  readonly body: Record<string, unknown>;
  /**
   * Whether medic's function wrote the answer (its body repeats the status as `statusCode`), rather
   * than Lambda's front door, which answers a request IAM denies with its own 403 before medic runs.
   */
  readonly fromMedic: boolean;
}

/** A request that does not answer in this time is reported, not waited on forever. */
const TIMEOUT_MS = 30_000;
/** A function URL's host names its region: `<url-id>.lambda-url.<region>.on.aws`. */
const FUNCTION_URL_HOST = /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

type Credentials = ReturnType<typeof defaultProvider>;

/** Signs and sends requests to one approval endpoint. */
export class ApprovalClient {
  private readonly signer: SignatureV4;

  constructor(
    /** The endpoint's base URL (the `ApprovalUrl` output). */
    readonly url: URL,
    /** The region requests are signed for: the endpoint's. */
    readonly region: string,
    credentials: Credentials,
    private readonly options: AwsOptions,
  ) {
    this.signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: Sha256 });
  }

  /** `GET <route>` (`/approvals`, `/approvals/<incidentId>`). */
  get(route: string): Promise<ApprovalAnswer> {
    return this.send('GET', route);
  }

  /** `POST <route>` with a JSON body. */
  post(route: string, body: Record<string, unknown>): Promise<ApprovalAnswer> {
    return this.send('POST', route, JSON.stringify(body));
  }

  private async send(method: string, route: string, body?: string): Promise<ApprovalAnswer> {
    const target = new URL(`${this.url.pathname.replace(/\/+$/, '')}${route}`, this.url);
    const headers: Record<string, string> = { host: target.host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    let response: Response;
    try {
      const signed = await this.signer.sign({
        method, protocol: target.protocol, hostname: target.hostname, port: target.port ? Number(target.port) : undefined,
        path: target.pathname, query: {}, headers, body,
      });
      // fetch sets Host itself, from the same URL, so the signed value is what is sent.
      const { host: _host, ...sent } = signed.headers;
      response = await fetch(target, { method, headers: sent, body, redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      throw await this.explain(error);
    }
    return answerOf(response, this.url);
  }

  /** A failure before any answer: credentials (aws.ts's hints) or the network, as one line. */
  private async explain(error: unknown): Promise<unknown> {
    const explained = await explainAwsError(error, this.options);
    if (explained !== error || !(error instanceof Error)) return explained;
    // fetch fails with "fetch failed"; what happened (ECONNREFUSED, ENOTFOUND, a certificate) is its cause.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = error.name === 'TimeoutError' ? `no answer in ${TIMEOUT_MS / 1000} s` : cause?.code ?? cause?.message ?? error.message;
    return new AwsHint(`cannot reach the approval endpoint ${this.url.host} (${why}): check --url, or --stack and --region, and your network`, error);
  }
}

async function answerOf(response: Response, url: URL): Promise<ApprovalAnswer> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new Error(`the approval endpoint answered HTTP ${response.status} without a JSON object: is ${url.href} the stack's ApprovalUrl?`);
  }
  const fields = body as Record<string, unknown>;
  const fromMedic = fields.statusCode === response.status && typeof fields.message === 'string';
  // Lambda's own answers spell it `Message`.
  const message = typeof fields.message === 'string' ? fields.message : typeof fields.Message === 'string' ? fields.Message : response.statusText;
  return { status: response.status, message, body: fields, fromMedic };
}

/**
 * A client for the endpoint the options name. Throws a UsageError for a missing or unusable
 * `--url`, an AwsHint when the stack cannot be read or has no `ApprovalUrl` output.
 */
export async function openApprovalClient(options: EndpointOptions): Promise<ApprovalClient> {
  const url = options.url !== undefined ? parseUrl(options.url) : options.stack ? parseUrl(await approvalUrlOf(options.stack, options)) : undefined;
  if (!url) throw new UsageError(NO_ENDPOINT);
  preferProfile(options);
  return new ApprovalClient(url, regionOf(url, options), defaultProvider({ profile: options.profile }), options);
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url ${text} is not a URL: give the stack's ApprovalUrl output (https://<id>.lambda-url.<region>.on.aws/)`);
  }
  // A signed request sent in clear could be read and replayed within its 15 minutes: https only, but for a local endpoint.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new UsageError(`the approval URL must be https:// (${url.protocol} is allowed for 127.0.0.1 and localhost only)`);
  }
  return url;
}

/**
 * The region to sign for: a function URL's own (signing for another region is refused), else
 * --region, else AWS_REGION or AWS_DEFAULT_REGION (for an endpoint behind another name).
 */
function regionOf(url: URL, options: AwsOptions): string {
  const region = FUNCTION_URL_HOST.exec(url.hostname)?.[1] ?? options.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
  if (!region) throw new UsageError(`the approval URL ${url.host} names no region: pass --region <region> (the stack's)`);
  return region;
}

/** The stack's `ApprovalUrl` output, through CloudFormation DescribeStacks. */
async function approvalUrlOf(stack: string, options: AwsOptions): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { CloudFormationClient, DescribeStacksCommand }: typeof import('@aws-sdk/client-cloudformation') = require('@aws-sdk/client-cloudformation');
  const cloudFormation = awsClient(CloudFormationClient, options);
  try {
    const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    const url = out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'ApprovalUrl')?.OutputValue;
    if (!url) throw new AwsHint(`stack ${inert(stack)} has no ApprovalUrl output: deploy this version of medic, or give --url`);
    return url;
  } catch (error) {
    throw await explainAwsError(error, options, { stack });
  } finally {
    cloudFormation.destroy();
  }
}
