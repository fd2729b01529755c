/**
 * What EventBridge hands a rule's target: the target's `Input`, `InputPath` or `InputTransformer`
 * applied to the matched event (the whole event as JSON when none is set).
 */

/** The input settings of an `AWS::Events::Rule` target, resolved. */
export interface TargetInput {
  readonly Input?: string;
  readonly InputPath?: string;
  readonly InputTransformer?: { readonly InputPathsMap?: Record<string, string>; readonly InputTemplate: string };
}

/** The rule a target belongs to, for the predefined `<aws.events.rule-arn>` and `<aws.events.rule-name>`. */
export interface RuleIdentity {
  readonly name: string;
  readonly arn: string;
}

/**
 * The value at an EventBridge JSON path: `$`, dot notation (dashes allowed: `$.detail-type`) and
 * array indices (`$.resources[0]`). Wildcards and filters are refused: no template of medic uses them.
 */
export function valueAtPath(event: unknown, path: string): unknown {
  if (path === '$') return event;
  if (!/^\$(\.[A-Za-z0-9_\-/]+|\[\d+\])+$/.test(path)) throw new Error(`JSON path ${path} uses syntax the game day does not support (only $.a.b and [n])`);
  let value: unknown = event;
  for (const [, name, index] of path.slice(1).matchAll(/\.([A-Za-z0-9_\-/]+)|\[(\d+)\]/g)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = index === undefined ? (value as Record<string, unknown>)[name] : (value as unknown[])[Number(index)];
  }
  return value;
}

/**
 * Fills the `<name>` placeholders of an input template as EventBridge does: inside a JSON string
 * literal a string value goes in as its text (JSON-escaped) and a missing or null value as nothing
 * (what AWS delivers for a path the event lacks); outside one, the value goes in as JSON (`null`
 * when missing). The result is not parsed: a template that is one string literal (what CDK's
 * `RuleTargetInput.fromText` synthesizes) is delivered with its quotes, as AWS delivers it
 * (LocalStack's AWS-validated snapshots of input transformers show the quotes in the SQS body;
 * aws-cdk issues 5924 and 38121 report them in SNS messages).
 */
export function fillTemplate(template: string, variables: Record<string, unknown>): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '\\' && inString) {
      out += template.slice(i, i + 2);
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    const placeholder = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    // A `<` that names no variable is text (EventBridge refuses undefined variables when the target is put).
    if (!placeholder || !(placeholder[1] in variables)) {
      out += c;
      continue;
    }
    const value = variables[placeholder[1]];
    if (inString) {
      const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
      out += JSON.stringify(text).slice(1, -1);
    } else {
      out += value === undefined ? 'null' : JSON.stringify(value);
    }
    i += placeholder[0].length - 1;
  }
  return out;
}

/** The predefined variables of an input template, for this event and rule. */
function predefinedVariables(event: Record<string, unknown>, rule: RuleIdentity): Record<string, unknown> {
  const { detail: _detail, ...envelope } = event;
  return {
    'aws.events.rule-arn': rule.arn,
    'aws.events.rule-name': rule.name,
    // The simulated event's own time: the game day ingests events the moment they happen.
    'aws.events.event.ingestion-time': event.time,
    'aws.events.event': envelope,
    'aws.events.event.json': event,
  };
}

/** The text EventBridge delivers to a target for a matched event (for SNS: the message published). */
export function renderTargetInput(target: TargetInput, event: Record<string, unknown>, rule: RuleIdentity): string {
  if (target.InputTransformer) {
    const { InputPathsMap = {}, InputTemplate } = target.InputTransformer;
    const variables = predefinedVariables(event, rule);
    for (const [name, path] of Object.entries(InputPathsMap)) variables[name] = valueAtPath(event, path);
    return fillTemplate(InputTemplate, variables);
  }
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath !== undefined) return JSON.stringify(valueAtPath(event, target.InputPath) ?? null);
  return JSON.stringify(event);
}
