import * as path from 'node:path';

/**
 * Where the game day keeps its DynamoDB tables between runs, so that `medic ledger ... --local`
 * can read the last game day's ledger: `.medic/gameday-db` in the folder the command runs in
 * (the project, like `cdk.out`; git-ignored here), or `MEDIC_LOCAL_DB_DIR` when set.
 */
export function localDbDir(): string {
  return process.env.MEDIC_LOCAL_DB_DIR || path.resolve('.medic', 'gameday-db');
}
