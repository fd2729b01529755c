/**
 * What a prune command prints, as the medic-disk-prune document's script prints it
 * (ssm-documents/medic-disk-prune.yaml), and how SSM Agent cuts it for the Run Command API. Used
 * by the Run Command model (run-command.ts).
 */
import type { ManagedInstance } from './managed-instances';

const MIB = 1024 * 1024;
/**
 * SSM Agent's limits (aws/amazon-ssm-agent, agent/framework/processor/executer/iohandler/
 * iohandler.go): the plugin `Output` of ListCommandInvocations is at most 2,500 characters
 * (MaximumPluginOutputSize; the API reference's CommandPlugin.Output: "Maximum length of 2500");
 * GetCommandInvocation's StandardOutputContent is "the first 24,000 characters written by the
 * plugin to stdout", StandardErrorContent "the first 8,000 characters ... to stderr" (SDK doc of
 * GetCommandInvocationResult). The agent counts bytes; the simulated output is ASCII.
 */
export const PLUGIN_OUTPUT_CHARS = 2500;
export const STDOUT_CONTENT_CHARS = 24_000;
export const STDERR_CONTENT_CHARS = 8000;
/** Paths the prune script lists in its summary (MAX_LISTED in the document). */
const SCRIPT_MAX_LISTED = 40;
/** A simulated prune deletes files of at most this size (at least 4 files): 12 MiB is 4 files, 200 MiB 67. */
const SIMULATED_FILE_BYTES = 3 * MIB;

/**
 * The plugin Output as SSM Agent composes it (iohandler.go, TruncateOutput): stdout, then, when
 * there is stderr, a `----------ERROR-------` header and stderr, each cut with its marker so the
 * whole fits `capacity`.
 */
export function pluginOutput(stdout: string, stderr: string, capacity = PLUGIN_OUTPUT_CHARS): string {
  const truncOut = '\n---Output truncated---';
  const truncErr = '\n---Error truncated----';
  const title = stderr.length > 0 ? '\n----------ERROR-------\n' : '';
  const space = capacity - title.length;
  if (stdout.length + stderr.length < space) return `${stdout}${title}${stderr}`;
  if (stdout.length > space / 2 && stderr.length > space / 2) {
    const half = Math.trunc((space - truncErr.length - truncOut.length) / 2);
    return `${stdout.slice(0, half)}${truncOut}${title}${stderr.slice(0, half)}${truncErr}`;
  }
  if (stdout.length < space / 2) return `${stdout}${title}${stderr.slice(0, space - truncErr.length - stdout.length)}${truncErr}`;
  return `${stdout.slice(0, space - truncOut.length - stderr.length)}${truncOut}${title}${stderr}`;
}

/** What the prune script prints last (ssm-documents/medic-disk-prune.yaml). */
export function summaryLine(instance: ManagedInstance, parameters: Record<string, string[]>, outcome: 'Success' | 'Failed' | 'TimedOut'): string {
  const first = (name: string, fallback: string) => parameters[name]?.[0] ?? fallback;
  const dryRun = first('dryRun', 'false') === 'true';
  const logRoot = first('logRoot', '/var/log');
  const tmpRoots = first('tmpRoots', '/tmp /var/tmp');
  const roots = [logRoot, ...(tmpRoots === 'none' ? [] : tmpRoots.split(' '))];
  const maxBytes = Number(first('maxDeleteMB', '10240')) * MIB;
  const failed = outcome === 'Failed';
  const bytesFreed = failed ? 0 : Math.min(instance.bytesFreed, maxBytes);
  const count = bytesFreed > 0 ? Math.max(4, Math.ceil(bytesFreed / SIMULATED_FILE_BYTES)) : 0;
  // Rotated application logs: 40 of these paths make a summary longer than the 2,500 characters of a plugin Output.
  const files = Array.from({ length: Math.min(count, SCRIPT_MAX_LISTED) }, (_, n) => `${logRoot}/app/archive/application-server-access.log.${n + 1}.gz`);
  const errors = failed ? [`cannot delete ${logRoot}/app/archive/application-server-access.log.1.gz`] : [];
  return JSON.stringify({
    dryRun, roots, refusedRoots: [], considered: count + (failed ? 1 : 0), deleted: dryRun ? 0 : count, wouldDelete: dryRun ? count : 0,
    bytesFreed, skippedOpen: 0, limitReached: instance.bytesFreed > maxBytes, journal: 'journald not present', errorCount: errors.length, errors, files,
  });
}

