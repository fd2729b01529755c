import { SSMClient } from '@aws-sdk/client-ssm';
import { inert, inertJson } from '../../lambdas/shared/inert-text';
import { awsClient, explainAwsError, noSwitchesHint } from './aws';
import { renderTable } from './command-kit';
import { EXIT } from './index';
import { NO_STACK, type SwitchOptions } from './kill-switch';
import { letsWorkProceed, looksOffButIsOn, readSwitches, SwitchNames, writeSwitch, type SwitchReading } from './kill-switch-store';
import { shortTime } from './time-range';
import { UsageError } from './usage-error';

function switchNames(options: SwitchOptions): SwitchNames {
  if (options.prefix) return new SwitchNames(options.prefix.replace(/\/+$/, ''));
  if (options.stack) return new SwitchNames(`/medic/${options.stack}/kill-switch`);
  throw new UsageError(NO_STACK);
}

/** Runs `body` with an SSM client (--profile, --region); an AWS error the user can fix is thrown as a one-line hint (aws.ts). */
async function withSsm<T>(options: SwitchOptions, names: SwitchNames, body: (ssm: SSMClient) => Promise<T>): Promise<T> {
  const ssm = awsClient(SSMClient, options);
  try {
    return await body(ssm);
  } catch (error) {
    throw await explainAwsError(error, options, { switches: names.prefix });
  } finally {
    ssm.destroy();
  }
}

/** Prints one line. Switch values (and what the user typed) are shown through inert(): anyone who may write a parameter chooses its value. */
const print = (line: string) => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`warning: ${line}\n`);
const list = (names: string[]) => names.map((n) => inert(n)).join(', ');
const runbookList = (names: SwitchNames, switches: Map<string, SwitchReading>) =>
  [...switches.keys()].map((name) => names.runbookOf(name)).filter((r): r is string => !!r).sort();

/** `kill-switch on|off`: writes the global or a runbook's switch, refusing names the stack does not have. */
export async function flip(state: 'on' | 'off', options: SwitchOptions): Promise<number> {
  const names = switchNames(options);
  const target = options.runbook ? names.runbook(options.runbook) : names.global;
  const value = state === 'off' ? 'off' : options.reason ? `on: ${options.reason}` : 'on';
  return withSsm(options, names, async (ssm) => {
    const switches = await readSwitches(ssm, names);
    // A mistyped stack or runbook would create a stray parameter and stop nothing: refuse instead.
    if (switches.size === 0) throw await noSwitchesHint(names.prefix);
    if (options.runbook && !switches.has(target)) {
      throw new Error(`no kill switch for runbook "${options.runbook}" (${target}); runbooks with a switch: ${runbookList(names, switches).join(', ') || 'none'}`);
    }
    const version = await writeSwitch(ssm, target, value);
    print(`${inert(target)} = "${inert(value)}" (version ${inert(version ?? '?')})`);
    print(consequence(state, options.runbook, names, switches));
    return EXIT.ok;
  });
}

/** What the flip means for the runbooks, given the other switches as they were read just before. */
function consequence(state: 'on' | 'off', runbook: string | undefined, names: SwitchNames, switches: Map<string, SwitchReading>): string {
  const stopsRunning = 'new incidents are denied, running executions stop before their next mutating call';
  const shown = runbook === undefined ? undefined : inert(runbook);
  if (state === 'on') return shown ? `runbook ${shown} is stopped: ${stopsRunning}` : `every runbook is stopped: ${stopsRunning}`;
  const global = switches.get(names.global)?.value;
  if (shown) {
    return letsWorkProceed(global) ? `runbook ${shown} runs again` : `runbook ${shown} stays stopped: the global switch is ${global === undefined ? 'missing' : `"${inert(global)}"`} (ON)`;
  }
  const stillOn = runbookList(names, switches).filter((r) => !letsWorkProceed(switches.get(names.runbook(r))?.value));
  return stillOn.length ? `runbooks run again, except those whose own switch is ON: ${list(stillOn)}` : 'every runbook runs again';
}

/**
 * `kill-switch status`: a table of the global and the runbook switches (with --json, {@link statusJson});
 * anything but `off` (or missing) is ON. No parameter at all under the prefix is an error (exit 2):
 * the stack is not deployed there, or a name or the region is wrong, and "every switch missing,
 * so ON" would say nothing true.
 */
export async function status(options: SwitchOptions): Promise<number> {
  const names = switchNames(options);
  return withSsm(options, names, async (ssm) => {
    const switches = await readSwitches(ssm, names);
    if (switches.size === 0) throw await noSwitchesHint(names.prefix);
    const runbooks = options.runbook ? [options.runbook] : runbookList(names, switches);
    if (options.runbook && !switches.has(names.runbook(options.runbook))) warn(`runbook "${inert(options.runbook)}" has no switch under ${inert(names.prefix)} (counts as ON)`);
    if (options.json) {
      print(inertJson(statusJson(names, runbooks, switches)));
      return EXIT.ok;
    }
    const row = (label: string, name: string) => {
      const reading = switches.get(name);
      const state = letsWorkProceed(reading?.value) ? 'off' : looksOffButIsOn(reading?.value) ? 'ON (not exactly "off")' : 'ON';
      return [inert(label), inert(name), reading ? `"${inert(reading.value)}"` : '(missing)', state, shortTime(reading?.lastModified?.toISOString())];
    };
    print(renderTable(['Switch', 'Parameter', 'Value', 'State', 'Last changed'], [
      row('global', names.global),
      ...runbooks.map((r) => row(`runbook ${r}`, names.runbook(r))),
    ]));
    const stopped = runbooks.filter((r) => !letsWorkProceed(switches.get(names.runbook(r))?.value));
    const lookalikes = [names.global, ...runbooks.map((r) => names.runbook(r))].filter((n) => looksOffButIsOn(switches.get(n)?.value));
    for (const name of lookalikes) {
      warn(`${inert(name)} is "${inert(switches.get(name)!.value)}", which is not exactly "off": it stops runbooks (medic kill-switch off writes exactly "off")`);
    }
    if (!letsWorkProceed(switches.get(names.global)?.value)) print('global switch is ON: every runbook of this stack is stopped');
    else if (stopped.length) print(`stopped by their own switch: ${list(stopped)}`);
    else print('all switches off: runbooks run as configured');
    return EXIT.ok;
  });
}

/**
 * The JSON of `kill-switch status --json` (documented in docs/operating.md, "JSON output"): each
 * switch with its value (`null`: missing) and whether it is ON, exactly as the handlers decide it.
 */
function statusJson(names: SwitchNames, runbooks: string[], switches: Map<string, SwitchReading>) {
  const reading = (parameter: string) => {
    const found = switches.get(parameter);
    return {
      parameter,
      value: found ? found.value : null,
      on: !letsWorkProceed(found?.value),
      looksOffButIsOn: looksOffButIsOn(found?.value),
      lastModified: found?.lastModified?.toISOString() ?? null,
    };
  };
  const global = reading(names.global);
  const runbookSwitches = runbooks.map((runbook) => ({ runbook, ...reading(names.runbook(runbook)) }));
  return {
    prefix: names.prefix,
    global,
    runbooks: runbookSwitches,
    everyRunbookStopped: global.on,
    stoppedRunbooks: runbookSwitches.filter((r) => r.on).map((r) => r.runbook),
  };
}
