import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag AwsSolutions findings on `scope` and its children. Each call names the
 * findings it covers and why, next to the code that causes them.
 */
export function acknowledge(scope: IConstruct, findings: string[], reason: string): void {
  for (const finding of findings) Validations.of(scope).acknowledge({ id: `AwsSolutions-${finding}`, reason });
}

/** How cdk-nag prints a reference to a resource's ARN inside a finding id. */
export function arnRef(resource: IConstruct): string {
  const cfn = (resource.node.defaultChild ?? resource) as CfnResource;
  return `<${Stack.of(resource).resolve(cfn.logicalId)}.Arn>`;
}

/**
 * `<region>:<account>` of an ARN as cdk-nag prints it inside a finding id: the stack's values, or
 * `<AWS::Region>:<AWS::AccountId>` for an environment-agnostic stack (a finding id must be a plain
 * string, never a token).
 */
export function nagRegionAccount(stack: Stack): string {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `${region}:${account}`;
}
