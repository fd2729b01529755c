/**
 * The AWS side of the CLI's AWS commands (`ledger` with --table/--stack, `kill-switch`): every SDK
 * client they use is made by {@link awsClient}, with the global `--profile` and `--region`; and
 * {@link explainAwsError} turns the SDK errors a user can fix (no credentials, no region, expired
 * session, access denied, stack, table or switches not there) into one line saying what to do.
 * The offline commands (`gameday`, `--local`) make no client here and ignore both options.
 */

/** The global options every AWS command gets (index.ts). */
export interface AwsOptions {
  /** A named profile of the shared config/credentials files (`--profile`). */
  readonly profile?: string;
  /** The region (`--region`): wins over AWS_REGION and the profile's region. */
  readonly region?: string;
}

/** What the clients of medic's commands are configured with. */
interface ClientConfig {
  region?: string;
  profile?: string;
  maxAttempts?: number;
}

/** An AWS SDK v3 client, as far as this module needs one. */
interface SdkClient {
  readonly config: { readonly region: () => Promise<string> };
}

/** The region provider of the last client made: the region the command's requests go to, for hints. */
let regionOfClients: (() => Promise<string>) | undefined;

/**
 * A new SDK client for an AWS command: the named profile's credentials (and region, unless
 * `--region` or AWS_REGION give one) when `--profile` is given, else the SDK's default chain.
 * `--profile` wins over static credentials in the environment (AWS_ACCESS_KEY_ID...), as it does
 * in the AWS CLI: they are removed from this process's environment, so the SDK neither uses them
 * nor warns that both are set.
 */
export function awsClient<C extends SdkClient>(Client: new (config: ClientConfig) => C, options: AwsOptions, config: Pick<ClientConfig, 'maxAttempts'> = {}): C {
  preferProfile(options);
  const client = new Client({ ...config, region: options.region, profile: options.profile });
  regionOfClients = client.config.region;
  return client;
}

/**
 * With `--profile`, removes static credentials from this process's environment, so that every
 * credential lookup (the clients of {@link awsClient}, and the signed requests of `medic approve`)
 * uses the profile, as the AWS CLI does, and the SDK does not warn that both are set.
 */
export function preferProfile(options: AwsOptions): void {
  if (!options.profile) return;
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete process.env[name];
}

/** The region the command's clients use, if it can be resolved (undefined when none is set). */
async function regionInUse(): Promise<string | undefined> {
  try {
    return (await regionOfClients?.()) || undefined;
  } catch {
    return undefined;
  }
}

/** What a failed AWS call was about, for the hints that name it. */
export interface AwsSubject {
  /** The stack of `--stack`. */
  readonly stack?: string;
  /** The ledger table read (given with --table, or the stack's LedgerTableName output). */
  readonly table?: string;
  /** The kill-switch parameter prefix. */
  readonly switches?: string;
  /** A function of the stack the command invokes (`ledger reconcile`: the reconciler). */
  readonly function?: string;
}

/** An AWS error explained: one line saying what to do; the SDK's error is its `cause` (MEDIC_DEBUG prints its frames). */
export class AwsHint extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AwsHint';
    if (cause instanceof Error && cause.stack) {
      this.stack = [`${this.name}: ${message}`, ...cause.stack.split('\n').filter((line) => /^\s+at /.test(line))].join('\n');
    }
  }
}

/** The hint for "no kill-switch parameters under the prefix" (a stack not deployed, a mistyped name or region). */
export async function noSwitchesHint(prefix: string): Promise<AwsHint> {
  const region = await regionInUse();
  return new AwsHint(`no kill switches under ${prefix}${region ? ` in ${region}` : ''}: deploy the stack first or check --stack/--region (or --prefix, if the stack sets killSwitchPrefix)`);
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError']);
// TokenProviderError: the SSO token of the profile is missing or expired.
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenProviderError']);
const INVALID_CREDENTIALS = new Set(['UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch']);

/**
 * The error as a one-line hint (an {@link AwsHint}) when it is one a user can fix, else the error
 * itself. The hints (docs/operating.md, "The medic command line"):
 * - no region: `set AWS_REGION or pass --region`;
 * - no credentials: `aws configure`, `aws sso login`, `--profile`;
 * - an expired session: `aws sso login --profile <name>`, or fresh temporary credentials;
 * - rejected credentials (unknown key, bad signature);
 * - access denied: the action (and resource) the message names, if it does;
 * - a stack that is not deployed (`--stack`), a ledger table, a function or switches not found.
 * The messages quote names given by the user or a stack: main() makes them inert.
 */
export async function explainAwsError(error: unknown, options: AwsOptions, subject: AwsSubject = {}): Promise<unknown> {
  if (!(error instanceof Error) || error instanceof AwsHint) return error;
  const { name, message } = error;
  const profile = options.profile ?? (process.env.AWS_PROFILE || undefined);
  const hint = (text: string) => new AwsHint(text, error);
  const where = async () => {
    const region = await regionInUse();
    return region ? ` in ${region}` : '';
  };

  if (/Region is missing/i.test(message)) {
    return hint(`no AWS region${profile ? ` (profile ${profile} sets none)` : ''}: set AWS_REGION or pass --region <region>`);
  }
  if (EXPIRED.has(name) || /token (included in the request )?(is|has) expired|session .*(has )?expired/i.test(message)) {
    return hint(profile
      ? `the AWS credentials of profile ${profile} have expired: run aws sso login --profile ${profile} (or refresh the profile's credentials)`
      : 'the AWS credentials have expired: run aws sso login --profile <name> and pass --profile <name>, or export fresh temporary credentials');
  }
  if (name === 'CredentialsProviderError' || /Could not (load|resolve) credentials/i.test(message)) {
    return hint(profile
      ? `no AWS credentials for profile ${profile}: check that ~/.aws/config or ~/.aws/credentials has it, or run aws sso login --profile ${profile}`
      : 'no AWS credentials: run aws configure or aws sso login, then pass --profile <name> (or set AWS_PROFILE)');
  }
  if (INVALID_CREDENTIALS.has(name)) {
    return hint(`AWS rejected the credentials${profile ? ` of profile ${profile}` : ''} (${name}): check the access key and secret, or run aws sso login${profile ? ` --profile ${profile}` : ''}`);
  }
  if (ACCESS_DENIED.has(name) || /is not authorized to perform/.test(message)) {
    const action = /not authorized to perform:? ([\w-]+:[\w*-]+)/.exec(message)?.[1];
    const resource = /on resource:? (\S+?)[.,]?(?:\s|$)/.exec(message)?.[1];
    const denied = action ? `not allowed to call ${action}${resource ? ` on ${resource}` : ''}` : `denied (${name})`;
    return hint(`access denied: the AWS credentials in use${profile ? ` (profile ${profile})` : ''} are ${denied}: use credentials allowed to (docs/operating.md lists the permissions each command needs)`);
  }
  if (subject.stack && name === 'ValidationError' && /Stack with id .* does not exist/.test(message)) {
    return hint(`stack ${subject.stack} is not deployed${await where()}: deploy the stack first or check --stack/--region`);
  }
  if (name === 'ResourceNotFoundException' && subject.function && /function/i.test(message)) {
    return hint(`function ${subject.function} of stack ${subject.stack ?? '?'} not found${await where()}: deploy this version of medic, or check --stack/--region`);
  }
  if (name === 'ResourceNotFoundException' && subject.table) {
    return hint(subject.stack
      ? `ledger table ${subject.table} (output LedgerTableName of stack ${subject.stack}) not found${await where()}: check --stack/--region`
      : `ledger table ${subject.table} not found${await where()}: check --table/--region (the stack's LedgerTableName output), or give --stack`);
  }
  if (name === 'ParameterNotFound' && subject.switches) return noSwitchesHint(subject.switches);
  return error;
}
