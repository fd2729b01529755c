import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadDocument, renderScript } from '../support/ssm-document';

/** The SSM document's script, run by bash on a real directory tree the test builds. */

interface Summary {
  dryRun: boolean; roots: string[]; refusedRoots: string[]; considered: number; deleted: number; wouldDelete: number;
  bytesFreed: number; skippedOpen: number; limitReached: boolean; journal: string; errorCount: number; errors: string[]; files: string[];
}

let base: string;
const OLD = 10; // days: older than the default 7-day cut-off
const at = (...parts: string[]) => path.join(base, ...parts);

function file(relative: string, options: { days?: number; bytes?: number } = {}): string {
  const full = at(relative);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, Buffer.alloc(options.bytes ?? 100, 'x'));
  const when = new Date(Date.now() - (options.days ?? 0) * 86400_000);
  utimesSync(full, when, when);
  return full;
}

/** Runs the rendered script (with `env` added to the environment); the last stdout line is the JSON summary. */
function prune(values: Record<string, string>, env: NodeJS.ProcessEnv = {}): { status: number | null; summary: Summary; stdout: string } {
  const script = at('prune.sh');
  writeFileSync(script, renderScript({ journalVacuumSize: 'none', tmpRoots: 'none', ...values }));
  const run = spawnSync('bash', [script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  const lines = run.stdout.trim().split('\n');
  return { status: run.status, summary: JSON.parse(lines[lines.length - 1]) as Summary, stdout: run.stdout };
}

/**
 * A stand-in for the command `name`, first on PATH (merge the returned env into prune's): a local
 * user's move made at a known point of the run, so a race is played deterministically.
 */
function fakeCommand(name: string, body: string): NodeJS.ProcessEnv {
  const bin = at('bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  return { PATH: `${bin}:${process.env.PATH}` };
}

/** Shell lines for a fake command: once, rename $SWAP_DIR aside and put a symlink to $SWAP_TO in its place. */
const SWAP = 'if [[ ! -L $SWAP_DIR ]]; then mv -- "$SWAP_DIR" "$SWAP_DIR.moved" && ln -s -- "$SWAP_TO" "$SWAP_DIR"; fi';

/** Every entry under `dir`, as relative paths (symlinks listed, not followed). */
function remaining(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      out.push(path.relative(dir, full));
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.sort();
}

/** A tree with every kind of file the script must tell apart. */
function buildTree(): void {
  file('log/old.gz', { days: OLD });
  file('log/new.gz', { days: 1 });
  file('log/app.log.1', { days: OLD });
  file('log/app.log', { days: OLD }); // the live log: no allow-listed pattern matches
  file('log/nginx/access.log.2.gz', { days: OLD });
  file('log/with spaces.old', { days: OLD });
  file('log/with\nnewline.gz', { days: OLD });
  file('outside/secret.gz', { days: OLD });
  file('outside/keep.1', { days: OLD });
  symlinkSync(at('outside/secret.gz'), at('log/link-to-outside.gz')); // a symlink matching a pattern
  symlinkSync(at('outside'), at('log/linked-dir')); // a symlinked directory with matching files in it
  file('tmp/stale', { days: OLD });
  file('tmp/fresh', { days: 0 });
}

beforeEach(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'medic-prune-'))); // physical: a root with a symlink in its path is refused
  buildTree();
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('medic-disk-prune script on a real filesystem', () => {
  test('deletes exactly the old allow-listed files; symlinks, their targets, fresh files and the live log remain', () => {
    const { status, summary } = prune({ logRoot: at('log'), tmpRoots: at('tmp') });
    expect(status).toBe(0);
    expect(remaining(at('log'))).toEqual(['app.log', 'link-to-outside.gz', 'linked-dir', 'new.gz', 'nginx'].sort());
    expect(remaining(at('outside'))).toEqual(['keep.1', 'secret.gz']);
    expect(remaining(at('tmp'))).toEqual(['fresh']);
    expect(readlinkSync(at('log/link-to-outside.gz'))).toBe(at('outside/secret.gz'));
    expect(summary).toMatchObject({ dryRun: false, deleted: 6, wouldDelete: 0, bytesFreed: 600, errors: [], refusedRoots: [] });
    expect(summary.files).toEqual(expect.arrayContaining([at('log/with\nnewline.gz'), at('log/with spaces.old'), at('tmp/stale')]));
  });

  test('dryRun deletes nothing and lists the same files', () => {
    const dry = prune({ logRoot: at('log'), tmpRoots: at('tmp'), dryRun: 'true' });
    const before = [...remaining(at('log')), ...remaining(at('tmp'))];
    expect(dry.summary).toMatchObject({ dryRun: true, deleted: 0, wouldDelete: 6, bytesFreed: 600 });
    expect([...remaining(at('log')), ...remaining(at('tmp'))]).toEqual(before);
    const real = prune({ logRoot: at('log'), tmpRoots: at('tmp') });
    expect([...real.summary.files].sort()).toEqual([...dry.summary.files].sort());
  });

  test.each([
    ['/', 'root / refused'],
    ['/etc', 'protected root /etc'],
    ['/var/lib/', 'protected root /var/lib/'],
  ])('refuses the root %s, deletes nothing and exits 2', (root, reason) => {
    const { status, summary } = prune({ logRoot: root, logPatterns: '*' });
    expect(status).toBe(2);
    expect(summary.refusedRoots).toEqual([reason]);
    expect(summary.considered).toBe(0);
  });

  test('refuses a root with a .. component or behind a symlink; the other roots are still pruned', () => {
    symlinkSync(at('log'), at('log-link'));
    const dotdot = prune({ logRoot: `${at('tmp')}/../log`, tmpRoots: at('tmp') });
    expect(dotdot.status).toBe(2);
    expect(dotdot.summary.refusedRoots).toEqual([`root ${at('tmp')}/../log has a . or .. component`]);
    expect(remaining(at('log'))).toContain('old.gz');
    expect(remaining(at('tmp'))).toEqual(['fresh']);
    const linked = prune({ logRoot: at('log-link') });
    expect(linked.summary.refusedRoots).toEqual([`root ${at('log-link')} is a symbolic link`]);
    expect(existsSync(at('log/old.gz'))).toBe(true);
  });

  test('a directory swapped for a symlink between the checks and the unlink: the same-named file outside the root survives', () => {
    file('tmp/attacker/d/victim.gz', { days: OLD });
    const decoy = file('elsewhere/d/victim.gz', { days: OLD });
    // lsof is asked about victim.gz after the script's checks on it: like a local user who owns
    // tmp/attacker, it swaps tmp/attacker/d for a symlink to elsewhere/d, then answers "not open".
    const env = { ...fakeCommand('lsof', `for last; do :; done\nif [[ \${last##*/} == victim.gz ]]; then ${SWAP}; fi\nexit 1`), SWAP_DIR: at('tmp/attacker/d'), SWAP_TO: at('elsewhere/d') };
    const { status, summary } = prune({ logRoot: at('tmp'), logPatterns: '*.gz' }, env);
    expect(readlinkSync(at('tmp/attacker/d'))).toBe(at('elsewhere/d')); // the swap happened mid-run
    expect(existsSync(decoy)).toBe(true);
    expect(existsSync(at('tmp/attacker/d.moved/victim.gz'))).toBe(false); // the file find found, where it now is
    expect(summary).toMatchObject({ deleted: 1, bytesFreed: 100, errors: [], files: [at('tmp/attacker/d.moved/victim.gz')] });
    expect(status).toBe(0);
  });

  test('a parent of a root swapped for a symlink after the root was checked: nothing there or elsewhere is pruned', () => {
    file('tmp/app/cache/victim.gz', { days: OLD });
    const decoy = file('elsewhere/app/cache/victim.gz', { days: OLD });
    // realpath is the root check's last look at the path: once it has answered, tmp/app becomes a symlink.
    const env = { ...fakeCommand('realpath', `out=$(PATH=\${PATH#*:} realpath "$@") || exit\n${SWAP}\nprintf '%s\\n' "$out"`), SWAP_DIR: at('tmp/app'), SWAP_TO: at('elsewhere/app') };
    const { status, summary } = prune({ logRoot: at('tmp/app/cache'), logPatterns: '*.gz' }, env);
    expect(readlinkSync(at('tmp/app'))).toBe(at('elsewhere/app'));
    expect(existsSync(decoy)).toBe(true);
    expect(existsSync(at('tmp/app.moved/cache/victim.gz'))).toBe(true);
    expect(summary.errors).toEqual([`root ${at('tmp/app/cache')} changed after it was checked (now ${at('elsewhere/app/cache')})`]);
    expect(summary).toMatchObject({ considered: 0, deleted: 0, files: [] });
    expect(status).toBe(1);
  });

  // Every refusal case runs dry with a pattern nothing matches: a script that wrongly accepted a
  // system root still could not delete anything on the machine running the tests.
  const refusedDry = (root: string) => prune({ logRoot: root, logPatterns: 'medic-test-no-such-file', dryRun: 'true' });

  test.each([
    ['//etc', 'protected root //etc'],
    ['/etc//', 'protected root /etc//'],
    ['//etc//', 'protected root //etc//'],
    ['/etc/./', 'root /etc/./ has a . or .. component'],
    ['/./etc', 'root /./etc has a . or .. component'],
    ['///', 'root /// refused'],
    ['/var//', 'protected root /var//'],
  ])('refuses %s, spelled with repeated slashes or dot components (exit 2, nothing considered)', (root, reason) => {
    const { status, summary } = refusedDry(root);
    expect(summary).toMatchObject({ refusedRoots: [reason], roots: [], considered: 0, wouldDelete: 0 });
    expect(status).toBe(2);
  });

  test.each([
    '/etc/ssl', '/usr/lib', '/usr/local/lib', '/boot/grub', '/var/lib/docker', '/var/cache/apt', '/var/spool/cron', '/var/run',
    '/var/mail', '/var/www/html', '/var/logs', '/var/tmpfiles', '/dev/shm', '/proc/1', '/sys/kernel', '/run/user', '/root/.ssh',
    '/home/ec2-user', '/opt/app/logs', '/srv/www', '/bin/x', '/sbin/x', '/lib/modules', '/lib64/x', '/snap/core',
  ])('refuses %s, inside a protected tree (exit 2, nothing considered)', (root) => {
    const { status, summary } = refusedDry(root);
    expect(summary).toMatchObject({ refusedRoots: [`protected root ${root}`], roots: [], considered: 0, wouldDelete: 0 });
    expect(status).toBe(2);
  });

  test.each(['/var/log', '/var/log/', '//var//log', '/var/tmp', '/tmp'])('accepts the default-style root %s', (root) => {
    const { status, summary } = refusedDry(root);
    expect(summary).toMatchObject({ refusedRoots: [], roots: [root], wouldDelete: 0, errors: [] });
    expect(status).toBe(0);
  });

  test('/var/log subdirectories pass the protection rule; directories of the test tree under /tmp are pruned', () => {
    const absent = `/var/log/medic-test-absent-${process.pid}`;
    expect(refusedDry(absent).summary.refusedRoots).toEqual([`root ${absent} is not a directory`]);
    const nested = prune({ logRoot: `${at('log/nginx')}/`, tmpRoots: at('tmp') });
    expect(nested.status).toBe(0);
    expect(nested.summary).toMatchObject({ refusedRoots: [], deleted: 2 });
    expect(existsSync(at('log/nginx/access.log.2.gz'))).toBe(false);
  });

  test('refuses a root with a symbolic link among its parents', () => {
    symlinkSync(base, at('base-link'));
    const { status, summary } = prune({ logRoot: at('base-link/log'), tmpRoots: at('base-link/tmp') });
    expect(summary.refusedRoots).toEqual([
      `root ${at('base-link/log')} has a symbolic link in its path (it resolves to ${at('log')})`,
      `root ${at('base-link/tmp')} has a symbolic link in its path (it resolves to ${at('tmp')})`,
    ]);
    expect(summary).toMatchObject({ considered: 0, deleted: 0 });
    expect(status).toBe(2);
    expect(existsSync(at('log/old.gz'))).toBe(true);
    expect(existsSync(at('tmp/stale'))).toBe(true);
  });

  test('relative PATH entries are dropped (find -execdir refuses them): pruning still works', () => {
    const { status, summary } = prune({ logRoot: at('log') }, { PATH: `.:bin::${process.env.PATH}` });
    expect(summary).toMatchObject({ deleted: 5, errors: [] });
    expect(status).toBe(0);
  });

  test('relative roots and values with quotes or spaces never reach the script (allowedPattern)', () => {
    expect(() => renderScript({ logRoot: 'var/log' })).toThrow(/logRoot/);
    expect(() => renderScript({ logRoot: "/var/log'; rm -rf / #" })).toThrow(/logRoot/);
    expect(() => renderScript({ logPatterns: '../*' })).toThrow(/logPatterns/);
    expect(() => renderScript({ olderThanDays: '1; reboot' })).toThrow(/olderThanDays/);
  });

  test('a file held open by a process is skipped', async () => {
    const holder: ChildProcess = spawn('bash', ['-c', 'exec 3<"$0"; sleep 30', at('log/old.gz')]);
    try {
      for (let i = 0; i < 100 && !existsSync(`/proc/${holder.pid}/fd/3`); i++) await new Promise((r) => setTimeout(r, 20));
      const { summary } = prune({ logRoot: at('log') });
      expect(summary.skippedOpen).toBe(1);
      expect(existsSync(at('log/old.gz'))).toBe(true);
      expect(existsSync(at('log/app.log.1'))).toBe(false);
    } finally {
      holder.kill();
    }
  });

  test('stops after maxDeleteMB', () => {
    for (const n of [1, 2, 3]) file(`big/huge-${n}.gz`, { days: OLD, bytes: 1024 * 1024 });
    const { summary } = prune({ logRoot: at('big'), maxDeleteMB: '2' });
    expect(summary).toMatchObject({ deleted: 2, bytesFreed: 2 * 1024 * 1024, limitReached: true });
    expect(remaining(at('big'))).toHaveLength(1);
  });

  test('olderThanDays is the cut-off', () => {
    const { summary } = prune({ logRoot: at('log'), olderThanDays: '0' });
    expect(summary.files).toContain(at('log/new.gz'));
  });

  test('errors are bounded: at most 20 listed, each at most 300 characters, all counted; the summary stays last and whole (exit 1)', () => {
    // rm that always fails: every old file becomes a "cannot delete" error.
    const env = fakeCommand('rm', 'exit 1');
    const deep = `many/${'d'.repeat(200)}/${'e'.repeat(200)}`;
    for (let n = 0; n < 25; n++) file(`${deep}/old-${n}.gz`, { days: OLD });
    const { status, summary, stdout } = prune({ logRoot: at('many'), logPatterns: '*.gz' }, env);
    expect(summary).toMatchObject({ errorCount: 25, deleted: 0, considered: 25 });
    expect(summary.errors).toHaveLength(20);
    for (const error of summary.errors) expect(error.length).toBeLessThanOrEqual(300);
    expect(summary.errors[0]).toMatch(/^cannot delete \//);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(stdout.length).toBeLessThan(24_000);
    expect(status).toBe(1);
  });

  test('no error: errorCount 0', () => {
    expect(prune({ logRoot: at('log') }).summary).toMatchObject({ errorCount: 0, errors: [] });
  });

  test('the summary is one JSON line, last', () => {
    const { stdout } = prune({ logRoot: at('log'), dryRun: 'true' });
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });
});

describe('the document', () => {
  const doc = loadDocument();

  test('is a Linux aws:runShellScript Command document, schema 2.2', () => {
    expect(doc.schemaVersion).toBe('2.2');
    expect(doc.mainSteps).toHaveLength(1);
    expect(doc.mainSteps[0]).toMatchObject({ action: 'aws:runShellScript', precondition: { StringEquals: ['platformType', 'Linux'] } });
    expect(doc.mainSteps[0].inputs.runCommand.join('\n')).toMatch(/^#!\/bin\/bash\nset -euo pipefail\n/);
  });

  test('every parameter is a String with an allowedPattern its default satisfies', () => {
    expect(Object.keys(doc.parameters).sort()).toEqual(['dryRun', 'journalVacuumSize', 'logPatterns', 'logRoot', 'maxDeleteMB', 'olderThanDays', 'tmpRoots']);
    for (const [name, spec] of Object.entries(doc.parameters)) {
      expect([name, spec.type]).toEqual([name, 'String']);
      expect(spec.allowedPattern).toBeDefined();
      expect(new RegExp(spec.allowedPattern!).test(spec.default!)).toBe(true);
      expect(spec.allowedPattern).not.toMatch(/'/);
    }
  });

  // shellcheck is a system tool (Debian package `shellcheck`): .ci/run installs it and CI must run
  // this test; on a machine without it (and not in CI) the test is skipped with a line saying so.
  const shellcheckMissing = spawnSync('shellcheck', ['--version']).error !== undefined;
  if (shellcheckMissing && !process.env.CI) {
    process.stderr.write('medic tests: shellcheck is not installed, so the disk-prune script is not linted here (Debian package: shellcheck; CI runs it)\n');
  }
  (shellcheckMissing && !process.env.CI ? test.skip : test)('shellcheck passes on the script', () => {
    const script = path.join(tmpdir(), `medic-prune-shellcheck-${process.pid}.sh`);
    writeFileSync(script, renderScript());
    const run = spawnSync('shellcheck', ['--shell=bash', '--severity=style', script], { encoding: 'utf8' });
    rmSync(script, { force: true });
    if (run.error) throw new Error(`shellcheck is not installed (Debian: apt-get install shellcheck): ${run.error.message}`);
    expect(run.stdout).toBe('');
    expect(run.status).toBe(0);
  });
});
