import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalDynamo, ledgerTableInput } from '../../lib/local/dynalite';
import { FakeCloudFormation, FakeSsm } from './fake-aws';
import { PROJECT_ROOT, jsonLines, runCli } from './run-cli';

/**
 * What every AWS command shares (child processes, as a user runs them): `--version`, the global
 * `--profile` and `--region` (from a config and a credentials file written to a temporary folder),
 * and the one-line hints that replace the SDK's errors a user can fix. Offline: SSM and
 * CloudFormation are fakes on loopback that record each request's SigV4 Authorization header
 * (key id and region), DynamoDB is dynalite.
 */

const ssm = new FakeSsm();
const cloudFormation = new FakeCloudFormation();
const local = new LocalDynamo();
const TABLE = 'medic-ledger';
const PREFIX = '/medic/MedicTest/kill-switch';
let dir: string;
let files: { AWS_CONFIG_FILE: string; AWS_SHARED_CREDENTIALS_FILE: string };

const endpoints = () => ({
  AWS_ENDPOINT_URL_SSM: ssm.endpoint, AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint, AWS_ENDPOINT_URL_DYNAMODB: local.endpoint, ...files,
});
const medic = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { ...endpoints(), ...env });
/** The key id and region of a SigV4 Authorization header: `AKID.../ap-southeast-2/ssm`. */
const signedBy = (authorization: string | undefined) => /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '')?.slice(1).join('/');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-aws-'));
  files = { AWS_CONFIG_FILE: path.join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials') };
  fs.writeFileSync(files.AWS_CONFIG_FILE, '[profile ops]\nregion = ap-southeast-2\n\n[profile noregion]\noutput = json\n');
  fs.writeFileSync(files.AWS_SHARED_CREDENTIALS_FILE, '[ops]\naws_access_key_id = AKIDPROFILEOPS\naws_secret_access_key = ops-secret\n\n'
    + '[noregion]\naws_access_key_id = AKIDNOREGION\naws_secret_access_key = noregion-secret\n');
  await Promise.all([ssm.start(), cloudFormation.start(), local.start()]);
  await local.createTable(ledgerTableInput(TABLE));
  ssm.set(`${PREFIX}/global`, 'off');
  ssm.set(`${PREFIX}/runbook/api-restart`, 'on: flapping');
  cloudFormation.stacks.set('MedicTest', { LedgerTableName: TABLE, LedgerMacKeyArn: 'local' });
});

afterAll(async () => {
  await Promise.all([ssm.stop(), cloudFormation.stop(), local.stop()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--version (and -V) prints the version in the package\'s package.json', async () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  expect(version).toMatch(/^\d+\.\d+\.\d+/);
  const [long, short] = await Promise.all([runCli(['--version']), runCli(['-V'])]);
  expect(long).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  expect(short).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
});

describe('--profile and --region', () => {
  test('kill-switch: the profile\'s credentials and region sign every request, before or after the command; --region wins over the profile\'s', async () => {
    ssm.authorizations.length = 0;
    // The environment still has static keys (AKIDTESTONLY): --profile wins over them, as in the AWS CLI, without the SDK's warning.
    const after = await medic(['kill-switch', 'status', '--stack', 'MedicTest', '--profile', 'ops', '--json'], { AWS_REGION: undefined });
    expect(after).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(after.stdout)).toMatchObject({ prefix: PREFIX, stoppedRunbooks: ['api-restart'] });
    expect(ssm.authorizations.map(signedBy)).toEqual(['AKIDPROFILEOPS/ap-southeast-2/ssm']);

    const before = await medic(['--profile', 'ops', '--region', 'us-east-1', 'kill-switch', 'status', '--stack', 'MedicTest'], { AWS_REGION: undefined });
    const regionAfter = await medic(['kill-switch', 'status', '--stack', 'MedicTest', '--region', 'eu-central-1']);
    const noProfile = await medic(['kill-switch', 'status', '--stack', 'MedicTest']);
    for (const run of [before, regionAfter, noProfile]) expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(ssm.authorizations.slice(1).map(signedBy)).toEqual(['AKIDPROFILEOPS/us-east-1/ssm', 'AKIDTESTONLY/eu-central-1/ssm', 'AKIDTESTONLY/eu-west-1/ssm']);
  });

  test('ledger --stack: CloudFormation and DynamoDB both use the profile (no region in the environment)', async () => {
    cloudFormation.authorizations.length = 0;
    const run = await medic(['ledger', 'list', '--stack', 'MedicTest', '--json', '--profile', 'ops'], { AWS_REGION: undefined });
    // DynamoDB (dynalite does not check signatures) could only be reached with the profile's region: without it, "no AWS region".
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(cloudFormation.authorizations.map(signedBy)).toEqual(['AKIDPROFILEOPS/ap-southeast-2/cloudformation']);
    const noRegion = await medic(['ledger', 'list', '--table', TABLE, '--json'], { AWS_REGION: undefined });
    expect(noRegion.stderr).toBe('medic: no AWS region: set AWS_REGION or pass --region <region>\n');
    expect(jsonLines(run.stdout)).toEqual([]);
  });
});

describe('AWS errors a user can fix are one line that says what to do (exit 2)', () => {
  beforeAll(() => {
    ssm.failures.set('/medic/Denied/kill-switch', {
      type: 'AccessDeniedException',
      message: 'User: arn:aws:sts::111111111111:assumed-role/oncall/me is not authorized to perform: ssm:GetParametersByPath on resource: '
        + 'arn:aws:ssm:eu-west-1:111111111111:parameter/medic/Denied/kill-switch because no identity-based policy allows the ssm:GetParametersByPath action',
    });
    ssm.failures.set('/medic/Expired/kill-switch', { type: 'ExpiredTokenException', message: 'The security token included in the request is expired' });
    ssm.failures.set('/medic/Hostile/kill-switch', {
      type: 'AccessDeniedException',
      message: 'User: x is not authorized to perform: ssm:GetParametersByPath on resource: arn:aws:ssm:eu-west-1:111111111111:parameter/\u001b[2J\u202eevil\u009b31m\u0007 because no',
    });
    cloudFormation.failures.set('DeniedStack', { code: 'AccessDenied', message: 'User: arn:aws:sts::111111111111:assumed-role/oncall/me is not authorized to perform: cloudformation:DescribeStacks on resource: arn:aws:cloudformation:eu-west-1:111111111111:stack/DeniedStack/* because no identity-based policy allows the cloudformation:DescribeStacks action' });
    cloudFormation.failures.set('ExpiredStack', { code: 'ExpiredToken', message: 'The security token included in the request is expired' });
  });

  const CASES: Array<[string, string[], Record<string, string | undefined>, string]> = [
    ['no region', ['kill-switch', 'status', '--stack', 'MedicTest'], { AWS_REGION: undefined },
      'no AWS region: set AWS_REGION or pass --region <region>'],
    ['no region in the profile', ['ledger', 'list', '--table', TABLE, '--profile', 'noregion'], { AWS_REGION: undefined },
      'no AWS region (profile noregion sets none): set AWS_REGION or pass --region <region>'],
    ['no credentials', ['ledger', 'list', '--stack', 'MedicTest'], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
      'no AWS credentials: run aws configure or aws sso login, then pass --profile <name> (or set AWS_PROFILE)'],
    ['a profile that is not there', ['kill-switch', 'on', '--stack', 'MedicTest', '--profile', 'nosuch'], {},
      'no AWS credentials for profile nosuch: check that ~/.aws/config or ~/.aws/credentials has it, or run aws sso login --profile nosuch'],
    ['expired credentials', ['kill-switch', 'status', '--stack', 'Expired'], {},
      'the AWS credentials have expired: run aws sso login --profile <name> and pass --profile <name>, or export fresh temporary credentials'],
    ['expired credentials of a profile', ['ledger', 'verify', '--stack', 'ExpiredStack', '--profile', 'ops'], {},
      'the AWS credentials of profile ops have expired: run aws sso login --profile ops (or refresh the profile\'s credentials)'],
    ['access denied (SSM)', ['kill-switch', 'status', '--stack', 'Denied'], {},
      'access denied: the AWS credentials in use are not allowed to call ssm:GetParametersByPath on arn:aws:ssm:eu-west-1:111111111111:parameter/medic/Denied/kill-switch: '
        + 'use credentials allowed to (docs/operating.md lists the permissions each command needs)'],
    ['access denied (CloudFormation)', ['ledger', 'show', 'some-incident', '--stack', 'DeniedStack', '--profile', 'ops'], {},
      'access denied: the AWS credentials in use (profile ops) are not allowed to call cloudformation:DescribeStacks on arn:aws:cloudformation:eu-west-1:111111111111:stack/DeniedStack/*: '
        + 'use credentials allowed to (docs/operating.md lists the permissions each command needs)'],
    ['the stack not deployed', ['ledger', 'list', '--stack', 'NoSuchStack'], {},
      'stack NoSuchStack is not deployed in eu-west-1: deploy the stack first or check --stack/--region'],
    ['the stack not deployed in the profile\'s region', ['ledger', 'reconcile', '--stack', 'NoSuchStack', '--profile', 'ops'], { AWS_REGION: undefined },
      'stack NoSuchStack is not deployed in ap-southeast-2: deploy the stack first or check --stack/--region'],
    ['the table not found', ['ledger', 'list', '--table', 'no-such-table', '--region', 'eu-north-1'], {},
      'ledger table no-such-table not found in eu-north-1: check --table/--region (the stack\'s LedgerTableName output), or give --stack'],
    ['no switch parameters', ['kill-switch', 'status', '--stack', 'MedicTset'], {},
      'no kill switches under /medic/MedicTset/kill-switch in eu-west-1: deploy the stack first or check --stack/--region (or --prefix, if the stack sets killSwitchPrefix)'],
  ];

  test.each(CASES)('%s', async (_name, args, env, hint) => {
    const run = await medic(args, env);
    expect(run).toEqual({ code: 2, stdout: '', stderr: `medic: ${hint}\n` });
  });

  test('text in a hint (from AWS, or typed) stays inert: escapes shown, no forged line', async () => {
    const [fromAws, typed] = await Promise.all([
      medic(['kill-switch', 'status', '--stack', 'Hostile']),
      medic(['kill-switch', 'on', '--stack', 'Typo\u001b[2J\nmedic: all switches off']),
    ]);
    expect(fromAws).toEqual({ code: 2, stdout: '', stderr: 'medic: access denied: the AWS credentials in use are not allowed to call ssm:GetParametersByPath on '
      + 'arn:aws:ssm:eu-west-1:111111111111:parameter/\\x1b[2J\\u202eevil\\x9b31m\\x07: use credentials allowed to (docs/operating.md lists the permissions each command needs)\n' });
    expect(typed).toEqual({ code: 2, stdout: '', stderr: 'medic: no kill switches under /medic/Typo\\x1b[2J\\nmedic: all switches off/kill-switch in eu-west-1: '
      + 'deploy the stack first or check --stack/--region (or --prefix, if the stack sets killSwitchPrefix)\n' });
  });

  test('the offline commands ignore --profile and --region', async () => {
    const run = await medic(['ledger', 'list', '--local', '--profile', 'nosuch', '--region', 'nowhere-1'], { MEDIC_LOCAL_DB_DIR: path.join(dir, 'no-game-day') });
    expect(run).toEqual({ code: 2, stdout: '', stderr: `medic: no game day ledger in ${path.join(dir, 'no-game-day')}: run \`medic gameday\` first\n` });
  });
});
