import { execFile } from 'node:child_process';
import * as path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node bin/medic-cli.js ...args` as a user would, in a child process with fixed fake
 * credentials and only the given extra environment (endpoints of the local fakes), so nothing
 * from the developer's own AWS setup can leak in. A variable given as `undefined` is left out
 * (e.g. `AWS_REGION: undefined`: no region in the environment).
 */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    HOME: process.env.HOME ?? PROJECT_ROOT,
    AWS_ACCESS_KEY_ID: 'AKIDTESTONLY',
    AWS_SECRET_ACCESS_KEY: 'test-only-secret',
    AWS_REGION: 'eu-west-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    // No shared config or credentials files of the machine running the tests.
    AWS_CONFIG_FILE: path.join(PROJECT_ROOT, 'test', 'cli', 'no-such-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(PROJECT_ROOT, 'test', 'cli', 'no-such-aws-credentials'),
  };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'medic-cli.js'), ...args], { cwd: PROJECT_ROOT, env: childEnv, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      });
  });
}

/** Lines of a JSON-lines output, parsed (fails the test on a line that is not JSON). */
export const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as Record<string, unknown>);
