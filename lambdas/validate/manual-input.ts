// zod/mini: the same schemas as the config file's, without the locales and methods a Lambda bundle does not need.
import * as z from 'zod/mini';
import { sha256Hex } from '../shared/canonical-json';
import type { ExecutionInfo, RunbookSpec, Target, Trigger } from '../shared/types';
import { sizeProblem } from './alarm-event';

/** A hand-typed input is a few hundred bytes; anything larger is not one. */
export const MAX_INPUT_BYTES = 8 * 1024;
const MAX_REASON_CHARS = 500;
/** Set by the runbook's own schedule; any other value is refused. */
const SCHEDULE_MARKER = 'schedule';

/**
 * Boolean keys a runbook kind accepts besides the common ones, each validated like `dryRun`
 * (exactly true or false). Only these kinds accept them; anywhere else they are unknown keys.
 * `allowPendingReboot`: the failover drill may go ahead although a reboot (or failover) would
 * apply parameter-group changes waiting in `pending-reboot`.
 */
const RUNBOOK_INPUT_FLAGS: Readonly<Record<string, readonly ManualInputFlag[]>> = {
  'rds-failover-drill': ['allowPendingReboot'],
};
export type ManualInputFlag = 'allowPendingReboot';

/**
 * The trigger of a manual run. A runbook-specific flag given as `true` rides on it, so it is
 * part of the incident (and of its `received` ledger entry) from Validate on.
 */
export type ManualTrigger = Trigger & { readonly [F in ManualInputFlag]?: true };

export type ParsedManualInput =
  | { readonly ok: true; readonly trigger: ManualTrigger; readonly target: Target; readonly incidentId: string; readonly dryRun: boolean }
  | { readonly ok: false; readonly reason: string };

const reject = (reason: string): ParsedManualInput => ({ ok: false, reason });

/**
 * The input's shape (zod, as the config file and scenarios): one optional entry per target
 * field (checked against its pattern and allow-list after), the common settings and the kind's
 * flags; any other key is refused.
 */
function manualInputSchema(targetFields: string[], flags: readonly ManualInputFlag[]) {
  return z.strictObject({
    ...Object.fromEntries(targetFields.map((field) => [field, z.unknown()])),
    reason: z.optional(z.string().check(z.maxLength(MAX_REASON_CHARS))),
    dryRun: z.optional(z.boolean()),
    trigger: z.optional(z.literal(SCHEDULE_MARKER)),
    ...Object.fromEntries(flags.map((flag) => [flag, z.optional(z.boolean())])),
  });
}

/** What is wrong with a setting the schema refused (flags: "must be true or false"). */
const SETTING_PROBLEMS: Readonly<Record<string, string>> = {
  dryRun: '"dryRun" must be true or false (without quotes)',
  reason: `"reason" must be text of at most ${MAX_REASON_CHARS} characters`,
  trigger: `"trigger" may only be "${SCHEDULE_MARKER}" (set by the runbook's schedule)`,
};

/**
 * Reads the input of a runbook started by hand or by its schedule, e.g.
 * `{ "dbInstanceIdentifier": "orders-db", "reason": "quarterly drill", "dryRun": true }`.
 * Exactly one target field, from the runbook's allow-list; unknown keys are refused so a typo
 * (`"dryrun"`) cannot silently turn a rehearsal into the real thing. A runbook kind's own flags
 * (the drill's `"allowPendingReboot"`) are accepted for that kind only, as true or false.
 */
export function parseManualInput(input: unknown, runbook: RunbookSpec, execution: ExecutionInfo): ParsedManualInput {
  const fields = runbook.manualTargets ?? {};
  const fieldNames = Object.keys(fields);
  const flags = RUNBOOK_INPUT_FLAGS[runbook.kind] ?? [];
  const optional = ['"reason" (text)', '"dryRun" (true/false)', ...flags.map((f) => `"${f}" (true/false)`)];
  const usage = `give exactly one of ${fieldNames.map((f) => `"${f}"`).join(' or ')}, optionally ${optional.slice(0, -1).join(', ')} and ${optional[optional.length - 1]}`;
  const tooLarge = sizeProblem(input, 'the input', MAX_INPUT_BYTES);
  if (tooLarge) return reject(tooLarge);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return reject(`the input must be a JSON object: ${usage}`);
  const shape = manualInputSchema(fieldNames, flags).safeParse(input);
  const issues = shape.success ? [] : shape.error.issues;
  const unknown = issues.flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys : []));
  if (unknown.length > 0) return reject(`unknown input key(s) ${unknown.map((k) => `"${k}"`).join(', ')}: ${usage}`);
  const values = input as Record<string, unknown>;

  const given = fieldNames.filter((f) => values[f] !== undefined);
  if (given.length !== 1) return reject(given.length === 0 ? `no target: ${usage}` : `more than one target (${given.join(', ')}): ${usage}`);
  const field = given[0];
  const spec = fields[field];
  const id = values[field];
  if (typeof id !== 'string' || !new RegExp(`^(?:${spec.pattern})$`).test(id)) {
    return reject(`"${field}" must be a ${spec.type} identifier (got ${JSON.stringify(id)?.slice(0, 100)})`);
  }
  if (!spec.allowed.includes(id) && !spec.allowedByTag) return reject(`${spec.type} ${id} is not in runbook ${runbook.name}'s allow-list (${spec.allowed.join(', ') || 'empty'})`);
  // The settings' problems, in a fixed order: the flags that change what happens first.
  for (const key of ['dryRun', ...flags, 'reason', 'trigger']) {
    if (issues.some((issue) => issue.path[0] === key)) return reject(SETTING_PROBLEMS[key] ?? `"${key}" must be true or false (without quotes)`);
  }

  const scheduled = values.trigger === SCHEDULE_MARKER;
  const at = new Date(Date.parse(execution.startedAt) || Date.now()).toISOString();
  const trigger: ManualTrigger = {
    kind: scheduled ? 'schedule' : 'manual',
    source: execution.id,
    name: scheduled ? 'schedule' : 'manual start',
    at,
    reason: values.reason as string | undefined,
    // Step Functions does not tell a task who started the execution; CloudTrail's StartExecution event does.
    startedBy: scheduled ? 'schedule' : `an operator (see the StartExecution event of ${execution.name} in CloudTrail)`,
    ...Object.fromEntries(flags.filter((f) => values[f] === true).map((f) => [f, true as const])),
  };
  const target: Target = {
    type: spec.type,
    id,
    arn: spec.arnTemplate.replace('{id}', id).replace('{region}', runbook.region).replace('{account}', runbook.account).replace('{partition}', runbook.partition),
    region: runbook.region,
    account: runbook.account,
    dimensions: { [field]: id },
  };
  const compact = at.replace(/[-:]/g, '').replace(/\.\d+/, '');
  const incidentId = `${runbook.name}-${compact}-${sha256Hex(execution.id).slice(0, 12)}`;
  return { ok: true, trigger, target, incidentId, dryRun: values.dryRun === true };
}
