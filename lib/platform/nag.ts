import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag AwsSolutions findings on `scope` and its children. Each call names the
 * findings it covers and why, next to the code that causes them.
 *
 * A finding may contain tokens: pass the value exactly as it is granted (e.g.
 * `IAM5[Resource::${stack.formatArn({ ... })}]` or `IAM5[Resource::${fn.functionArn}:*]`). The id
 * recorded is the text cdk-nag prints in its finding ({@link nagText}), never the token, so it
 * matches whatever the stack's environment and feature flags make of the value (`arn:aws:` with
 * `@aws-cdk/core:enablePartitionLiterals` and a known region, `arn:<AWS::Partition>:` without).
 * Ids with tokens are rendered again when the app is validated (after cross-stack references
 * become `Fn::ImportValue`s and logical ids are final), and any new rendering is acknowledged too.
 */
export function acknowledge(scope: IConstruct, findings: string[], reason: string): void {
  const recorded = new Set<string>();
  const record = () => {
    for (const finding of findings) {
      const id = nagText(scope, finding);
      if (recorded.has(id)) continue;
      recorded.add(id);
      Validations.of(scope).acknowledge({ id: `AwsSolutions-${id}`, reason });
    }
  };
  record();
  if (findings.some((f) => Token.isUnresolved(f))) {
    scope.node.addValidation({ validate: () => { record(); return []; } });
  }
}

/**
 * `value` as cdk-nag 3.0.2 prints it inside a finding id (`utils/flatten-cfn-reference.js`, used by
 * IAM5 and the other rules that name a resource): the value is resolved in its stack, then
 * `Ref` becomes `<LogicalId>` (`<AWS::Partition>` for a pseudo parameter), `Fn::GetAtt` becomes
 * `<LogicalId.Attribute>`, `Fn::Join` is joined, `Fn::Sub` and `Fn::ImportValue` give their
 * string, and in literal text `${` becomes `<` and `}` becomes `>`. A value without tokens is only
 * given that last replacement.
 */
export function nagText(scope: IConstruct, value: string): string {
  return flattenCfnReference(Token.isUnresolved(value) ? Stack.of(scope).resolve(value) : value);
}

/** cdk-nag 3.0.2's `flattenCfnReference`, which it does not export. */
function flattenCfnReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const fn = (node ?? {}) as Record<string, unknown>;
  if (fn['Fn::Join']) {
    const [delimiter, items] = fn['Fn::Join'] as [string, unknown[]];
    return items.map(flattenCfnReference).join(delimiter);
  }
  if (fn['Fn::Sub']) return flattenCfnReference(fn['Fn::Sub']);
  if (fn['Fn::GetAtt']) {
    const [resource, attribute] = fn['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (fn['Fn::ImportValue']) return flattenCfnReference(fn['Fn::ImportValue']);
  if (fn.Ref) return `<${flattenCfnReference(fn.Ref)}>`;
  return JSON.stringify(node);
}

/** How cdk-nag prints a reference to a resource's ARN inside a finding id. */
export function arnRef(resource: IConstruct): string {
  const cfn = (resource.node.defaultChild ?? resource) as CfnResource;
  return `<${Stack.of(resource).resolve(cfn.logicalId)}.Arn>`;
}
