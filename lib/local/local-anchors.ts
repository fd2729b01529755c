import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnchorSource, StoredAnchor } from '../../lambdas/shared/ledger-anchors';

/*
 * The game day's ledger anchors on disk, so `medic ledger verify --local` (another process) can
 * check the last game day's chains against them. The simulated anchors bucket (Object Lock,
 * lib/gameday/models/s3.ts) tells the game day of every new version, and it is written here at
 * once (lib/gameday/services/ledger-writer.ts): one file per version, named by its S3 key, a
 * second version of a key as `<key>~1`, a third `<key>~2`. Every key of the bucket is kept this way,
 * anchors, digests and archives (`archive/<first day>/<incidentId>.jsonl`) alike. Cleared with the tables when a game day
 * starts (lib/local/local-ledger.ts, openLocalTables `fresh`).
 */

/** The folder of the anchors, inside the local tables' folder (LevelDB ignores files it does not name). */
export const localAnchorsDir = (dbDir: string): string => path.join(dbDir, 'ledger-anchors');

function fileOf(dbDir: string, key: string, index: number): string {
  const parts = key.split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
  const file = path.join(localAnchorsDir(dbDir), ...parts);
  return index === 0 ? file : `${file}~${index}`;
}

/** Writes one version of an object of the anchors bucket (`index`: how many versions the key had before). */
export function persistLocalAnchor(dbDir: string, key: string, body: string, index: number): void {
  const file = fileOf(dbDir, key, index);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body, 'utf8');
}

export function clearLocalAnchors(dbDir: string): void {
  fs.rmSync(localAnchorsDir(dbDir), { recursive: true, force: true });
}

/** The persisted anchors, as the verifier reads them from the bucket (every version under a prefix). */
export class LocalAnchorSource implements AnchorSource {
  readonly description: string;

  constructor(private readonly dbDir: string) {
    this.description = `the game day anchors in ${localAnchorsDir(dbDir)}`;
  }

  async versionsUnder(prefix: string): Promise<StoredAnchor[]> {
    return this.filesUnder(prefix).map(({ key, file }) => ({ key, body: fs.readFileSync(file, 'utf8') }));
  }

  async keysUnder(prefix: string): Promise<string[]> {
    return [...new Set(this.filesUnder(prefix).map((f) => f.key))];
  }

  /** Every persisted version under a prefix: its S3 key and its file. */
  private filesUnder(prefix: string): Array<{ key: string; file: string }> {
    const root = localAnchorsDir(this.dbDir);
    // The deepest folder the prefix names whole; every file below it whose key starts with the prefix.
    const folder = prefix.endsWith('/') ? prefix : prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const start = path.join(root, ...folder.split('/').filter(Boolean));
    const stored: Array<{ key: string; file: string }> = [];
    const walk = (dir: string) => {
      let names: fs.Dirent[];
      try {
        names = fs.readdirSync(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const name of names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const full = path.join(dir, name.name);
        if (name.isDirectory()) walk(full);
        else {
          const key = path.relative(root, full).split(path.sep).join('/').replace(/~\d+$/, '');
          if (key.startsWith(prefix)) stored.push({ key, file: full });
        }
      }
    };
    walk(start);
    return stored;
  }
}
