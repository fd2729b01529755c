import { synthStack, testConfig } from '../support/synth';

/** The ledger reconciler: its schedule, and a role that reads only the runbooks' executions. */
const { stack, template } = synthStack(testConfig);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, any> }>;
const idOf = (construct: { node: { defaultChild?: unknown } }) => stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
const reconciler = stack.platform.ledgerReconciler;
const functionId = idOf(reconciler.reconcileFunction);
const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function statements(): Array<{ Action: string[]; Resource: unknown[] }> {
  const roleId = (resources[functionId].Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && asList(r.Properties!.Roles).some((x) => JSON.stringify(x) === JSON.stringify({ Ref: roleId })))
    .flatMap((r) => r.Properties!.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Allow').map((s: any) => ({ Action: asList(s.Action) as string[], Resource: asList(s.Resource) })));
}

test('runs every 15 minutes through EventBridge Scheduler, invoking the reconciler function', () => {
  const schedules = Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule' && JSON.stringify(r.Properties!.Target.Arn).includes(functionId));
  expect(schedules).toHaveLength(1);
  expect(schedules[0].Properties!.ScheduleExpression).toBe('rate(15 minutes)');
  expect(resources[functionId].Properties!.Environment.Variables).toEqual(expect.objectContaining({ MEDIC_LEDGER_WRITER: expect.anything(), MEDIC_LIMITER_TABLE: expect.anything(), MEDIC_TOPIC_ARN: expect.anything() }));
});

test('reads the history of each runbook state machine\'s executions, and of nothing else', () => {
  const reads = statements().filter((s) => s.Action.some((a) => a.startsWith('states:')));
  expect(new Set(reads.flatMap((s) => s.Action))).toEqual(new Set(['states:DescribeExecution', 'states:GetExecutionHistory']));
  const machines = stack.runbooks().map((r) => idOf(r.stateMachine));
  const resourcesRead = reads.flatMap((s) => s.Resource).map((r) => JSON.stringify(stack.resolve(r)));
  expect(resourcesRead).toHaveLength(machines.length);
  for (const machine of machines) expect(resourcesRead.some((r) => r.includes(`"${machine}","Name"`) && r.includes(':execution:') && r.endsWith(':*"]]}'))).toBe(true);
});

test('appends only through the ledger writer, publishes only to the escalation topic', () => {
  const all = statements();
  expect(all.some((s) => s.Action.includes('dynamodb:PutItem') && JSON.stringify(s.Resource).includes(idOf(stack.platform.ledger)))).toBe(false);
  expect(all.some((s) => s.Action.includes('lambda:InvokeFunction') && JSON.stringify(s.Resource).includes(idOf(stack.platform.ledgerWriterFunction)))).toBe(true);
  expect(all.filter((s) => s.Action.includes('sns:Publish')).flatMap((s) => s.Resource)).toEqual([{ Ref: idOf(stack.platform.escalationTopic) }]);
});
