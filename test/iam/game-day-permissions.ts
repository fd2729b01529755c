import type { ApiCall } from '../../lib/gameday/api-log';
import type { ScenarioRun } from '../../lib/gameday/engine';
import { LOCAL_LEDGER_TABLE, LOCAL_LIMITER_TABLE } from '../../lib/local/local-ledger';
import { requestsFor, type IamRequest, type ResourceFacts } from './call-requests';
import { evaluate, type Verdict } from './evaluate';
import { StackPolicies } from './stack-policies';

/** A call the function's role would not be allowed to make in a real account. */
export interface Denial {
  readonly scenario: string;
  readonly functionId: string;
  readonly call: string;
  readonly request: IamRequest;
  readonly verdict: Verdict;
}

type Tagged = { readonly tags?: Record<string, string> };

/** Resource tags as the scenario's world declares them (the game day's services answer with the same). */
function worldFacts(run: ScenarioRun, policies: StackPolicies): ResourceFacts {
  const world = run.scenario.world as {
    autoScaling?: { groups?: Array<Tagged & { name: string }> };
    acm?: { certificates?: Array<Tagged & { arn: string }> };
    ec2?: { instances?: Array<Tagged & { id: string; autoScalingGroup?: string }> };
  };
  const instanceTags = (spec: Tagged & { autoScalingGroup?: string }): Record<string, string> =>
    ({ ...(spec.tags ?? {}), ...(spec.autoScalingGroup ? { 'aws:autoscaling:groupName': spec.autoScalingGroup } : {}) });
  return {
    env: policies.env,
    instancesTagged: (key, values) => (world.ec2?.instances ?? []).filter((i) => values.includes(instanceTags(i)[key])).map((i) => i.id),
    topicKey: (topic) => policies.topicKey(topic),
    tableKey: (table) => policies.tableKey(table),
    tagsOf: (arn) => {
      const group = /autoScalingGroupName\/(.+)$/.exec(arn)?.[1];
      if (group) return world.autoScaling?.groups?.find((g) => g.name === group)?.tags ?? {};
      if (arn.includes(':acm:')) return world.acm?.certificates?.find((c) => c.arn === arn)?.tags ?? {};
      const instance = /:instance\/(.+)$/.exec(arn)?.[1];
      if (instance) {
        const spec = world.ec2?.instances?.find((i) => i.id === instance);
        return spec ? instanceTags(spec) : {};
      }
      return {};
    },
  };
}

/**
 * Evaluates every AWS call a scenario's handlers made against the identity policies of the role
 * each function runs with, as synthesized (plus the resource's own policy where it has one).
 * Returns the calls a real account would deny, and how many requests were evaluated.
 */
export async function deniedCalls(run: ScenarioRun, template = run.template): Promise<{ denials: Denial[]; evaluated: number }> {
  const { account, region } = run.scenario.config?.env ?? { account: '111111111111', region: 'eu-west-1' };
  const policies = new StackPolicies(template, { account: String(account), region: String(region) });
  const facts = worldFacts(run, policies);
  const denials: Denial[] = [];
  const seen = new Set<string>();
  let evaluated = 0;
  // The game day keeps the ledger and limiter in local tables; in the account they are the stack's.
  const tables = new Map([
    [LOCAL_LEDGER_TABLE, policies.environmentValue('MEDIC_LEDGER_TABLE')],
    [LOCAL_LIMITER_TABLE, policies.environmentValue('MEDIC_LIMITER_TABLE')],
  ]);
  const asDeployed = (call: ApiCall): ApiCall => {
    if (call.service !== 'dynamodb') return call;
    if (call.input.RequestItems) {
      const items = call.input.RequestItems as Record<string, unknown>;
      return { ...call, input: { ...call.input, RequestItems: Object.fromEntries(Object.entries(items).map(([name, v]) => [tables.get(name) ?? name, v])) } };
    }
    return tables.get(String(call.input.TableName)) ? { ...call, input: { ...call.input, TableName: tables.get(String(call.input.TableName)) } } : call;
  };
  for (const call of run.apiCalls.map(asDeployed)) {
    if (!call.functionId) throw new Error(`${call.service}:${call.operation} was made outside any function`);
    const role = policies.roleOf(call.functionId);
    for (const request of requestsFor(call, facts)) {
      const key = JSON.stringify([role, request]);
      if (seen.has(key)) continue;
      seen.add(key);
      evaluated++;
      const verdict = await evaluate(policies.roleArn(role), String(account), request, policies.identityPolicies(role), policies.resourcePolicy(request.resource));
      if (verdict.result !== 'Allowed') {
        denials.push({ scenario: run.scenario.name, functionId: call.functionId, call: `${call.service}:${call.operation}`, request, verdict });
      }
    }
  }
  return { denials, evaluated };
}
