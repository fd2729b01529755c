import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { IamRequest } from './call-requests';
import type { NamedPolicy, PolicyDocument } from './stack-policies';

/** iam-simulate's verdict on one request, with why when it is not Allowed. */
export interface Verdict {
  readonly result: 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied' | 'Error';
  readonly why?: string;
}

/**
 * Evaluates a request as AWS would for a principal of the account: the principal's identity
 * policies and, where the resource has one, its resource policy (for a same-account principal
 * either may allow; an explicit deny in either wins). A request iam-simulate cannot validate (an
 * action, resource type or context key the IAM reference does not know) is an Error. `account`
 * owns the resource (the stack's account: every resource medic touches is in it).
 */
export async function evaluate(principal: string, account: string, request: IamRequest, identityPolicies: NamedPolicy[], resourcePolicy?: PolicyDocument): Promise<Verdict> {
  const response = await runSimulation({
    identityPolicies: identityPolicies as never,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: resourcePolicy as never,
    request: {
      principal,
      action: request.action,
      resource: { resource: request.resource, accountId: account },
      contextVariables: request.context,
    },
  } as never, {});
  if (response.resultType === 'error') return { result: 'Error', why: JSON.stringify(response.errors) };
  const result = response.overallResult as Verdict['result'];
  return result === 'Allowed' ? { result } : { result, why: `${request.action} on ${request.resource} ${result}` };
}
