import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { parseConfig } from '../../lib/config';
import { MedicStack } from '../../lib/medic-stack';
import { MedicPlatform } from '../../lib/platform/platform';
import { commonRunbookProps } from '../../lib/platform/runbook-kind';
import { EcsTaskRestartRunbook, type EcsTaskRestartRunbookProps } from '../../lib/runbooks/ecs-task-restart';
import { RdsFailoverDrillRunbook, type RdsFailoverDrillRunbookProps } from '../../lib/runbooks/rds-failover-drill';
import { ACCOUNT, REGION, alarmArn } from '../support/synth';

/*
 * The veto window of the approval gate (`approval.onTimeout: 'act'`, issue 17): the synth-time
 * checks (low-risk runbooks only, never the RDS failover drill), the config file's settings, and
 * the workflow branch it synthesizes (the escalate branch unchanged).
 */

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const ENV = { account: ACCOUNT, region: REGION };
const ROLE = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

interface State {
  Type: string;
  Next?: string;
  Default?: string;
  ResultPath?: string | null;
  Parameters?: Record<string, any>;
  Choices?: Array<{ Next: string }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
}
interface Definition { StartAt: string; States: Record<string, State> }

/** A DefinitionString as JSON, each CloudFormation token in it replaced by a JSON rendering of it. */
function parseDefinition(definitionString: unknown): Definition {
  if (typeof definitionString === 'string') return JSON.parse(definitionString) as Definition;
  const [separator, parts] = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = parts.map((p) => (typeof p === 'string' ? p : `\${${JSON.stringify(p).replace(/[\\"]/g, '')}}`)).join(separator);
  return JSON.parse(text) as Definition;
}

function definitionsOf(stack: Stack): Record<string, Definition> {
  const out: Record<string, Definition> = {};
  for (const r of Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'))) {
    const definition = parseDefinition(r.Properties.DefinitionString);
    out[definition.States['Load runbook settings'].Parameters?.runbook?.name as string] = definition;
  }
  return out;
}

const messageOf = (build: () => unknown): string => {
  try {
    build();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

// ---- the runbooks, built from the constructs --------------------------------------------------

const app = new App({ context: NO_BUNDLING });
const stack = new Stack(app, 'VetoWindow', { env: ENV });
const platform = new MedicPlatform(stack, 'Platform');
const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Alarm', alarmArn('veto-window'));
let n = 0;
const ecs = (name: string, overrides: Partial<EcsTaskRestartRunbookProps>) => () => new EcsTaskRestartRunbook(stack, `Ecs${++n}`, {
  platform, name, alarms: [alarm], services: [{ clusterName: 'prod', serviceName: 'api' }], ...overrides,
});
const drill = (name: string, overrides: Partial<RdsFailoverDrillRunbookProps>) => () => new RdsFailoverDrillRunbook(stack, `Drill${++n}`, {
  platform, name, dbInstances: ['orders-db'], ...overrides,
});
const approval = { approvers: [ROLE('on-call')], timeout: Duration.minutes(15) };

const veto = ecs('veto', { mode: 'approve', approval: { ...approval, onTimeout: 'act' }, policy: { lowRisk: true } })();
ecs('default', { mode: 'approve', approval })();
ecs('explicit-escalate', { mode: 'approve', approval: { ...approval, onTimeout: 'escalate' } })();
ecs('low-risk-escalate', { mode: 'approve', approval, policy: { lowRisk: true } })();
const definitions = definitionsOf(stack);

describe('synth-time checks of approval.onTimeout', () => {
  test('"act" with policy.lowRisk true is accepted and carried in the settings', () => {
    expect(veto.runbook.approval).toEqual({ approvers: [ROLE('on-call')], minApprovals: 1, timeoutSeconds: 900, onTimeout: 'act' });
    expect(definitions.veto.States['Load runbook settings'].Parameters?.runbook?.approval).toMatchObject({ onTimeout: 'act' });
  });

  test('"escalate", given or not, leaves the settings as they were (no onTimeout)', () => {
    for (const name of ['default', 'explicit-escalate', 'low-risk-escalate']) {
      expect(definitions[name].States['Load runbook settings'].Parameters?.runbook?.approval).toEqual({ approvers: [ROLE('on-call')], minApprovals: 1, timeoutSeconds: 900 });
    }
  });

  test.each([
    ['"act" without lowRisk', ecs('no-low-risk', { mode: 'approve', approval: { ...approval, onTimeout: 'act' } }),
      'runbook no-low-risk: approval.onTimeout "act" (act when nobody answers in time) needs policy.lowRisk true, declaring the runbook\'s actions bounded and undoable; set it, or use onTimeout "escalate"'],
    ['"act" with lowRisk false', ecs('not-low-risk', { mode: 'approve', approval: { ...approval, onTimeout: 'act' }, policy: { lowRisk: false } }),
      'runbook not-low-risk: approval.onTimeout "act" (act when nobody answers in time) needs policy.lowRisk true, declaring the runbook\'s actions bounded and undoable; set it, or use onTimeout "escalate"'],
    ['an unknown onTimeout', ecs('unknown-value', { mode: 'approve', approval: { ...approval, onTimeout: 'proceed' as never }, policy: { lowRisk: true } }),
      'runbook unknown-value: approval.onTimeout must be one of escalate, act (got "proceed")'],
    ['a lowRisk that is not a boolean', ecs('low-risk-text', { mode: 'approve', approval: { ...approval, onTimeout: 'act' }, policy: { lowRisk: 'yes' as never } }),
      'runbook low-risk-text: policy.lowRisk must be true or false (got "yes")'],
    ['the RDS failover drill with "act", even low-risk', drill('drill-veto', { mode: 'approve', approval: { ...approval, onTimeout: 'act' }, policy: { lowRisk: true } }),
      'runbook drill-veto: approval.onTimeout "act" is refused for the RDS failover drill: a drill that is not a dry run is a real failover, never made because nobody answered; use onTimeout "escalate"'],
    ['the RDS failover drill with "act", not low-risk', drill('drill-veto-2', { mode: 'approve', approval: { ...approval, onTimeout: 'act' } }),
      /^runbook drill-veto-2: approval\.onTimeout "act" is refused for the RDS failover drill/],
  ] as Array<[string, () => unknown, string | RegExp]>)('%s is a one-line error naming the runbook', (_why, build, expected) => {
    const message = messageOf(build);
    if (typeof expected === 'string') expect(message).toBe(expected);
    else expect(message).toMatch(expected);
    expect(message).not.toContain('\n');
  });

  test('the drill takes onTimeout "escalate" (so the refusal above is of "act")', () => {
    expect(drill('drill-escalate', { mode: 'approve', approval: { ...approval, onTimeout: 'escalate' } })).not.toThrow();
  });
});

describe('the workflow of a veto-window runbook', () => {
  const s = definitions.veto.States;
  const escalating = definitions.default.States;

  test('a timeout records the expiry, whose grant goes to $.approval and on to "Check plan again"; its failure escalates', () => {
    expect(s['Request approval'].Catch).toEqual(escalating['Request approval'].Catch);
    expect(s['Record approval expiry']).toMatchObject({
      Parameters: { action: 'expired', 'state.$': '$' }, ResultPath: '$.approval', Next: 'Check plan again',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Escalate' }],
    });
    expect(s['Check plan again'].Next).toBe('Plan unchanged?');
  });

  test('only an unchanged plan reaches Act, as after an approval', () => {
    const toAct = Object.entries(s).filter(([, st]) => [st.Next, st.Default, ...(st.Choices ?? []).map((c) => c.Next)].includes('Act')).map(([name]) => name).sort();
    expect(toAct).toEqual(['Act or only observe?', 'Plan unchanged?', 'Verified?']);
  });

  test('with "escalate" the expiry still escalates with its error, and the definition is the default\'s', () => {
    expect(escalating['Record approval expiry']).toMatchObject({ ResultPath: '$.error', Next: 'Escalate' });
    // The same but for the runbook's name and its resources' logical ids.
    const withoutName = (d: Definition) => JSON.stringify(d).replace(/explicit-escalate|default/g, 'NAME').replace(/Ecs\d+\w+/g, 'ID');
    expect(withoutName(definitions['explicit-escalate'])).toBe(withoutName(definitions.default));
    // Besides the settings and the expiry's two fields, the veto window changes no state.
    const names = (d: Definition) => Object.keys(d.States).sort();
    expect(names(definitions.veto)).toEqual(names(definitions.default));
  });
});

describe('the config file\'s onTimeout and lowRisk', () => {
  const entry = (approval: Record<string, unknown>, policy?: Record<string, unknown>, kind = 'ecsTaskRestart') => JSON.stringify({
    stackName: 'MedicVetoConfig',
    env: ENV,
    runbooks: kind === 'ecsTaskRestart'
      ? { ecsTaskRestart: [{ name: 'api-veto', mode: 'approve', alarmArns: [alarmArn('prod-api-errors')], services: [{ clusterName: 'prod', serviceName: 'api' }], approval, policy }] }
      : { rdsFailoverDrill: [{ name: 'orders-drill', mode: 'approve', dbInstances: ['orders-db'], approval, policy }] },
  });
  const synth = (text: string) => () => {
    const config = parseConfig(text);
    return new MedicStack(new App({ context: NO_BUNDLING }), config.stackName, { config, env: config.env });
  };

  test('map to the runbook props', () => {
    const config = parseConfig(entry({ approvers: [ROLE('on-call')], onTimeout: 'act' }, { lowRisk: true }));
    const props = commonRunbookProps(new Stack(new App({ context: NO_BUNDLING }), 'Props', { env: ENV }), platform, config.runbooks.ecsTaskRestart![0]);
    expect(props.approval?.onTimeout).toBe('act');
    expect(props.policy?.lowRisk).toBe(true);
  });

  test('and into the synthesized settings and branch', () => {
    const definition = definitionsOf(synth(entry({ approvers: [ROLE('on-call')], onTimeout: 'act' }, { lowRisk: true }))())['api-veto'];
    expect(definition.States['Load runbook settings'].Parameters?.runbook?.approval).toMatchObject({ onTimeout: 'act' });
    expect(definition.States['Record approval expiry'].Next).toBe('Check plan again');
  });

  test('an unknown onTimeout, or a lowRisk that is not a boolean, is a config error naming the setting', () => {
    expect(messageOf(() => parseConfig(entry({ approvers: [ROLE('on-call')], onTimeout: 'proceed' }))))
      .toMatch(/runbooks\.ecsTaskRestart\[0\]\.approval\.onTimeout: must be one of escalate, act/);
    expect(messageOf(() => parseConfig(entry({ approvers: [ROLE('on-call')] }, { lowRisk: 'yes' }))))
      .toMatch(/runbooks\.ecsTaskRestart\[0\]\.policy\.lowRisk: must be true or false/);
  });

  test('"act" without lowRisk, or on the drill, fails synthesis naming the runbook', () => {
    expect(synth(entry({ approvers: [ROLE('on-call')], onTimeout: 'act' }))).toThrow(/^runbook api-veto: approval\.onTimeout "act" .* needs policy\.lowRisk true/);
    expect(synth(entry({ approvers: [ROLE('on-call')], onTimeout: 'act' }, { lowRisk: true }, 'rdsFailoverDrill')))
      .toThrow(/^runbook orders-drill: approval\.onTimeout "act" is refused for the RDS failover drill/);
  });
});
