import type { IamRequest } from './call-requests';
import type { NamedPolicy, PolicyDocument, StackPolicies } from './stack-policies';

/** One delivery AWS makes between services of the stack, and the request that authorises it. */
export interface ServicePath {
  /** What the path is, e.g. "alarm X -> topic Y". */
  readonly path: string;
  /** A role ARN, or a service principal (`events.amazonaws.com`). */
  readonly principal: string;
  readonly request: IamRequest;
  readonly identityPolicies: NamedPolicy[];
  readonly resourcePolicy?: PolicyDocument;
}

type Target = { Arn?: unknown; RoleArn?: unknown; DeadLetterConfig?: { Arn?: unknown } };

/**
 * Every service-to-service path of the stack: alarm actions to the topic (topic policy, and the
 * key policy for the topic's key), rule targets (a topic by its policy; a state machine through
 * the rule's role; the dead-letter queue by its policy), schedules through their role, and each
 * state machine's Lambda tasks through the state machine's role.
 */
export function servicePaths(policies: StackPolicies): ServicePath[] {
  const { region, account } = policies.env;
  const paths: ServicePath[] = [];
  const base = { 'aws:SecureTransport': 'true', 'aws:RequestedRegion': region };
  const byService = (service: string, source: string, action: string, resource: string, path: string): void => {
    const context = { ...base, 'aws:SourceArn': source, 'aws:SourceAccount': account };
    paths.push({ path, principal: service, request: { action, resource, context }, identityPolicies: [], resourcePolicy: policies.resourcePolicy(resource) });
    const key = action === 'sns:Publish' ? policies.topicKey(resource) : undefined;
    if (key) {
      for (const keyAction of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        paths.push({ path: `${path} (key)`, principal: service, request: { action: keyAction, resource: key, context }, identityPolicies: [], resourcePolicy: policies.resourcePolicy(key) });
      }
    }
  };
  const byRole = (roleArn: string, action: string, resource: string, path: string): void => {
    const role = roleArn.split('/').pop()!;
    paths.push({ path, principal: roleArn, request: { action, resource, context: base }, identityPolicies: policies.identityPolicies(role) });
  };
  const targetPath = (source: string, sourceName: string, target: Target, service: string): void => {
    const arn = policies.resolve<string>(target.Arn);
    if (arn.includes(':sns:')) byService(service, source, 'sns:Publish', arn, `${sourceName} -> ${arn}`);
    else if (arn.includes(':states:') && target.RoleArn) byRole(policies.resolve<string>(target.RoleArn), 'states:StartExecution', arn, `${sourceName} -> ${arn}`);
    else if (arn.includes(':lambda:') && target.RoleArn) byRole(policies.resolve<string>(target.RoleArn), 'lambda:InvokeFunction', arn, `${sourceName} -> ${arn}`);
    // A rule invokes a function without a role: the function's resource policy (Lambda permissions) must allow it.
    else if (arn.includes(':lambda:')) byService(service, source, 'lambda:InvokeFunction', arn, `${sourceName} -> ${arn}`);
    else throw new Error(`${sourceName}: no path model for target ${arn}`);
    if (target.DeadLetterConfig?.Arn) {
      const queue = policies.resolve<string>(target.DeadLetterConfig.Arn);
      byService(service, source, 'sqs:SendMessage', queue, `${sourceName} -> dead-letter ${queue}`);
    }
  };

  for (const [id, alarm] of policies.ofType('AWS::CloudWatch::Alarm')) {
    const source = policies.resolve<string>({ 'Fn::GetAtt': [id, 'Arn'] });
    for (const action of [...(alarm.Properties?.AlarmActions as unknown[] ?? []), ...(alarm.Properties?.OKActions as unknown[] ?? [])]) {
      byService('cloudwatch.amazonaws.com', source, 'sns:Publish', policies.resolve<string>(action), `alarm ${id} -> topic`);
    }
  }
  for (const [id, rule] of policies.ofType('AWS::Events::Rule')) {
    const source = policies.resolve<string>({ 'Fn::GetAtt': [id, 'Arn'] });
    for (const target of (rule.Properties?.Targets as Target[] ?? [])) targetPath(source, `rule ${id}`, target, 'events.amazonaws.com');
  }
  for (const [id, schedule] of policies.ofType('AWS::Scheduler::Schedule')) {
    const source = policies.resolve<string>({ 'Fn::GetAtt': [id, 'Arn'] });
    targetPath(source, `schedule ${id}`, schedule.Properties?.Target as Target, 'scheduler.amazonaws.com');
  }
  for (const [id, machine] of policies.ofType('AWS::StepFunctions::StateMachine')) {
    const roleArn = policies.resolve<string>(machine.Properties?.RoleArn);
    const functions = lambdaTasks(JSON.parse(policies.resolve<string>(machine.Properties?.DefinitionString)));
    for (const fn of functions) byRole(roleArn, 'lambda:InvokeFunction', fn, `state machine ${id} -> ${fn}`);
  }
  return paths;
}

/** The function ARNs of every Lambda task of a definition, nested (Parallel, Map) states included. */
function lambdaTasks(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => lambdaTasks(n, found));
  else if (node && typeof node === 'object') {
    const state = node as { Type?: string; Resource?: unknown; Parameters?: { FunctionName?: unknown } };
    // A service integration (`arn:aws:states:::lambda:invoke.waitForTaskToken`) names its function in Parameters.
    const integration = typeof state.Resource === 'string' && state.Resource.startsWith('arn:aws:states:::lambda:invoke');
    if (state.Type === 'Task' && integration && typeof state.Parameters?.FunctionName === 'string') found.add(state.Parameters.FunctionName);
    else if (state.Type === 'Task' && typeof state.Resource === 'string' && state.Resource.includes(':lambda:')) found.add(state.Resource);
    Object.values(node).forEach((n) => lambdaTasks(n, found));
  }
  return found;
}
