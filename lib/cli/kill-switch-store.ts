import { KILL_SWITCH_OFF, killSwitchBlocks } from '../../lambdas/shared/guards';
import { GetParametersByPathCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

/** One kill-switch parameter as read from SSM. */
export interface SwitchReading {
  readonly name: string;
  readonly value: string;
  readonly lastModified?: Date;
}

/** The parameter names of a stack's switches, as lib/platform/platform.ts and lib/platform/runbook.ts create them. */
export class SwitchNames {
  constructor(readonly prefix: string) {}

  get global(): string {
    return `${this.prefix}/global`;
  }

  runbook(name: string): string {
    return `${this.prefix}/runbook/${name}`;
  }

  /** The runbook a parameter name belongs to, if it is a runbook switch. */
  runbookOf(parameterName: string): string | undefined {
    const start = `${this.prefix}/runbook/`;
    return parameterName.startsWith(start) ? parameterName.slice(start.length) : undefined;
  }
}

/**
 * Whether a switch lets work proceed, exactly as the handlers decide it (killSwitchBlocks in
 * lambdas/shared/guards.ts): only the exact value `off` does; a missing parameter or any other
 * value (`Off`, ` off`, `off` and a newline, `on`) stops runbooks.
 */
export const letsWorkProceed = (value: string | undefined): boolean => value !== undefined && killSwitchBlocks('', value) === undefined;

/** A value that looks like `off` to a human but is not exactly `off`, so it stops runbooks. */
export const looksOffButIsOn = (value: string | undefined): boolean => value !== undefined && value !== KILL_SWITCH_OFF && value.trim().toLowerCase() === KILL_SWITCH_OFF;

/** Every parameter under the prefix (recursively, all pages), by name. */
export async function readSwitches(ssm: SSMClient, names: SwitchNames): Promise<Map<string, SwitchReading>> {
  const readings = new Map<string, SwitchReading>();
  let nextToken: string | undefined;
  do {
    const out = await ssm.send(new GetParametersByPathCommand({ Path: names.prefix, Recursive: true, NextToken: nextToken }));
    for (const p of out.Parameters ?? []) {
      if (p.Name) readings.set(p.Name, { name: p.Name, value: p.Value ?? '', lastModified: p.LastModifiedDate });
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return readings;
}

/** Writes a switch (a String parameter, overwriting the value the stack or a person set). Resolves to the new parameter version. */
export async function writeSwitch(ssm: SSMClient, name: string, value: string): Promise<number | undefined> {
  const out = await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  return out.Version;
}
