import { UsageError } from './usage-error';

/**
 * The packages only the offline commands need (`medic gameday`, `--local`): optional peer
 * dependencies of the published package, so that installing medic for its constructs and its
 * AWS commands stays light. The versions are the ones medic is tested with.
 */
export const GAME_DAY_PACKAGES: Readonly<Record<string, string>> = {
  dynalite: '4.0.0',
  'aws-local-stepfunctions': '3.0.0',
  'aws-sdk-client-mock': '4.1.0',
  '@aws-sdk/util-dynamodb': '3.996.9',
};

/** Fails with one line naming what to install when a game-day package is missing (`resolve` is injectable for tests). */
export function requireGameDayPackages(command: string, resolve: (name: string) => string = require.resolve): void {
  const missing = Object.keys(GAME_DAY_PACKAGES).filter((name) => {
    try {
      resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  const install = missing.map((name) => `${name}@${GAME_DAY_PACKAGES[name]}`).join(' ');
  throw new UsageError(`${command} runs offline on packages that are not installed (${missing.join(', ')}): npm install --save-dev ${install}`);
}
