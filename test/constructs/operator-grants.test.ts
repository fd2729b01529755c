import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MedicStack } from '../../lib/medic-stack';
import { RdsFailoverDrillRunbook } from '../../lib/runbooks/rds-failover-drill';
import { referenceProblems } from '../iam/policy-reference';
import { StackPolicies, type PolicyDocument } from '../iam/stack-policies';
import { testConfig } from '../support/synth';

/** Grants for the people who operate medic: the kill switches, and starting a drill. */

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new MedicStack(app, 'MedicOperators', {
  config: { ...testConfig, stackName: 'MedicOperators', runbooks: { rdsFailoverDrill: testConfig.runbooks.rdsFailoverDrill } },
  env: testConfig.env,
});
const onCall = new iam.Role(stack, 'OnCall', { assumedBy: new iam.AccountRootPrincipal() });
const dba = new iam.Role(stack, 'Dba', { assumedBy: new iam.AccountRootPrincipal() });
stack.platform.grantKillSwitch(onCall);
const drill = stack.node.findAll().find((c): c is RdsFailoverDrillRunbook => c instanceof RdsFailoverDrillRunbook)!;
drill.grantStartDrill(dba);
const json = Template.fromStack(stack).toJSON();
const policies = new StackPolicies(json, testConfig.env);
const roleId = (role: iam.Role) => stack.resolve((role.node.defaultChild as iam.CfnRole).logicalId) as string;
const statementsOf = (role: iam.Role) => policies.identityPolicies(roleId(role)).flatMap((p) => p.policy.Statement);
const parameter = (name: string) => `arn:aws:ssm:eu-west-1:111111111111:parameter/medic/MedicOperators/kill-switch${name}`;

test('grantKillSwitch: read and set this stack\'s switches only (global and per runbook), and list them by path', async () => {
  expect(statementsOf(onCall)).toEqual([
    { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:PutParameter'], Resource: [parameter('/global'), parameter('/runbook/*')] },
    { Effect: 'Allow', Action: 'ssm:GetParametersByPath', Resource: [parameter(''), parameter('/*')] },
  ]);
  expect(await referenceProblems('OnCall', { Statement: statementsOf(onCall) } as PolicyDocument)).toEqual([]);
});

test('grantStartDrill: StartExecution on that drill\'s state machine, nothing else', async () => {
  const machine = `arn:aws:states:eu-west-1:111111111111:stateMachine:${stack.resolve((drill.runbook.stateMachine.node.defaultChild as unknown as { logicalId: string }).logicalId)}`;
  expect(statementsOf(dba)).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: machine }]);
  expect(await referenceProblems('Dba', { Statement: statementsOf(dba) } as PolicyDocument)).toEqual([]);
});
