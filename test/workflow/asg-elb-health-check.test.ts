import { AutoScalingClient, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCalendarStateCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { verifyChain, type LedgerEntry } from '../../lambdas/shared/ledger';
import { handler as sweep } from '../../lambdas/asg-elb-sweep/index';
import { FakeAutoScaling } from '../support/fake-auto-scaling';
import { phases } from '../support/ledger-reader';
import { TemplateResolver } from '../../lib/local/template-workflow';
import { WorkflowHarness } from './harness';

const h = new WorkflowHarness();
const asg = new FakeAutoScaling(h.clock);
const sfn = mockClient(SFNClient);
const TARGET_GROUP = 'targetgroup/web/0123456789abcdef';
const OPT_IN = { 'medic:enforce-elb-health-check': 'true' };

beforeAll(() => h.start());
afterAll(async () => {
  asg.restore();
  sfn.restore();
  await h.stop();
});
beforeEach(async () => {
  await h.freshWorld();
  asg.reset();
  sfn.reset();
  asg.addGroup('web-asg');
  h.aws.setAlarm('web-tg-unhealthy-hosts', 'ALARM');
});

const enforce = () => h.workflow('web-elb-health');
const unhealthyHostsAlarm = () => h.fire('web-tg-unhealthy-hosts', { dimensions: { TargetGroup: TARGET_GROUP, LoadBalancer: 'app/web/0123456789abcdef' } });
const detailOf = (entries: LedgerEntry[], phase: string): Record<string, any> => {
  const entry = entries.find((e) => e.phase === phase);
  if (!entry) throw new Error(`no ${phase} entry in ${phases(entries).join(',')}`);
  return JSON.parse(entry.detail);
};

/** The sweep function's environment, as the template sets it. */
function sweepEnvironment(): Record<string, string> {
  const resources = h.synthesized.template.toJSON().Resources as Record<string, any>;
  const fn = Object.values(resources).find((r) => r.Metadata?.['medic:entry'] === 'asg-elb-sweep/index.ts');
  return new TemplateResolver(resources).resolve(fn.Properties.Environment.Variables) as Record<string, string>;
}

describe('ASG ELB health-check workflow (synthesized definition, real handlers, dynalite)', () => {
  test('alarm path: a target group alarm maps to its group; ELB checks enforced, verified, previous values recorded', async () => {
    const run = await enforce().run(unhealthyHostsAlarm());
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('resolved');
    expect(asg.updates).toEqual([{ AutoScalingGroupName: 'web-asg', HealthCheckType: 'ELB', HealthCheckGracePeriod: 300 }]);
    const entries = await h.incident('web-elb-health-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'checked', 'verified', 'completed']);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
    expect(detailOf(entries, 'received').target).toMatchObject({ type: 'autoscaling-group', id: 'web-asg' });
    expect(detailOf(entries, 'acted').result.details.previous).toEqual({ HealthCheckType: 'EC2', HealthCheckGracePeriod: 0 });
  });

  test('capacity collapses after enforcing: rolled back to the recorded values, then escalated', async () => {
    asg.afterEnforcing = 'collapses';
    const run = await enforce().run(unhealthyHostsAlarm());
    expect(run.status).toBe('FAILED');
    expect(asg.updates).toEqual([
      { AutoScalingGroupName: 'web-asg', HealthCheckType: 'ELB', HealthCheckGracePeriod: 300 },
      { AutoScalingGroupName: 'web-asg', HealthCheckType: 'EC2', HealthCheckGracePeriod: 0 },
    ]);
    const entries = await h.incident('web-elb-health-');
    expect(phases(entries).slice(-3)).toEqual(['verification-failed', 'rolled-back', 'escalated']);
    expect(detailOf(entries, 'verification-failed').reason).toMatch(/fell below MinSize 2/);
    expect(h.aws.published()[0].Message).toMatch(/Rollback: /);
  });

  const contention = () => Object.assign(new Error('You already have a pending update to an Auto Scaling resource'), {
    name: 'ResourceContentionFault', $fault: 'server', $metadata: { httpStatusCode: 500 },
  });

  test('the rollback meets contention twice: the state machine retries it, it restores the values once, and the page says so', async () => {
    asg.afterEnforcing = 'collapses';
    asg.updateFault = (call) => (call === 2 || call === 3 ? contention() : undefined);
    const run = await enforce().run(unhealthyHostsAlarm());
    expect(run.status).toBe('FAILED');
    expect(asg.updates).toEqual([
      { AutoScalingGroupName: 'web-asg', HealthCheckType: 'ELB', HealthCheckGracePeriod: 300 },
      { AutoScalingGroupName: 'web-asg', HealthCheckType: 'EC2', HealthCheckGracePeriod: 0 },
    ]);
    const entries = await h.incident('web-elb-health-');
    expect(phases(entries).slice(-5)).toEqual(['verification-failed', 'rollback-failed', 'rollback-failed', 'rolled-back', 'escalated']);
    const page = h.aws.published()[0];
    expect(page.Subject).toBe('[medic] web-elb-health: verification failed (web-asg)');
    expect(page.Message).toMatch(/ROLLED BACK: UpdateAutoScalingGroup web-asg \(request id asg-req-4\)/);
  });

  test('the rollback keeps failing: ROLLBACK FAILED first, with the exact values to restore by hand', async () => {
    asg.afterEnforcing = 'collapses';
    asg.updateFault = (call) => (call >= 2 ? contention() : undefined);
    const run = await enforce().run(unhealthyHostsAlarm());
    expect(run.status).toBe('FAILED');
    // The enforcement, then the first rollback and its five retries, none of which took effect.
    expect(asg.updates).toHaveLength(1);
    const entries = await h.incident('web-elb-health-');
    expect(phases(entries).filter((p) => p === 'rollback-failed')).toHaveLength(6);
    const page = h.aws.published()[0];
    expect(page.Subject).toBe('[medic] web-elb-health: ROLLBACK FAILED (web-asg)');
    expect(page.Message!.split('\n').slice(2, 6)).toEqual([
      'ROLLBACK FAILED: medic\'s change is still in place (ResourceContentionFault: You already have a pending update to an Auto Scaling resource).',
      'Restore by hand:',
      '  autoscaling UpdateAutoScalingGroup {"AutoScalingGroupName":"web-asg","HealthCheckGracePeriod":0,"HealthCheckType":"EC2"}',
      '  aws autoscaling update-auto-scaling-group --auto-scaling-group-name "web-asg" --health-check-grace-period "0" --health-check-type "EC2"',
    ]);
  });

  test('a change freeze that starts after the action does not stop the rollback of medic\'s own change, and the page says so', async () => {
    asg.afterEnforcing = 'collapses';
    let frozen = false;
    asg.updateFault = () => {
      frozen = true;
      return undefined;
    };
    h.aws.ssm.on(GetCalendarStateCommand).callsFake(() => ({ State: frozen ? 'CLOSED' : 'OPEN' }));
    const run = await enforce().run(unhealthyHostsAlarm());
    expect(run.status).toBe('FAILED');
    expect(asg.updates.map((u) => u.HealthCheckType)).toEqual(['ELB', 'EC2']);
    const rolledBack = detailOf(await h.incident('web-elb-health-'), 'rolled-back');
    expect(rolledBack.notes).toEqual([expect.stringMatching(/^rolled back during a change freeze \(change calendar release-freeze is CLOSED/)]);
    expect(h.aws.published()[0].Message).toContain('NOTE: rolled back during a change freeze');
  });

  test('the kill switch turned on before the rollback stops it: ROLLBACK FAILED with the values it would have restored', async () => {
    asg.afterEnforcing = 'collapses';
    asg.updateFault = () => {
      h.aws.parameters.set('/medic/MedicTest/kill-switch/global', 'on');
      return undefined;
    };
    const run = await enforce().run(unhealthyHostsAlarm());
    expect(run.status).toBe('FAILED');
    expect(asg.updates.map((u) => u.HealthCheckType)).toEqual(['ELB']);
    const page = h.aws.published()[0];
    expect(page.Subject).toBe('[medic] web-elb-health: ROLLBACK FAILED (web-asg)');
    expect(page.Message).toContain('autoscaling UpdateAutoScalingGroup {"AutoScalingGroupName":"web-asg","HealthCheckGracePeriod":0,"HealthCheckType":"EC2"}');
    expect(page.Message).toMatch(/kill switch \/medic\/MedicTest\/kill-switch\/global is "on"/);
  });

  test('the update throttled once: the workflow retries it and it succeeds, acting exactly once', async () => {
    asg.throttledUpdates = 1;
    const run = await enforce().run(unhealthyHostsAlarm());
    expect(run.status).toBe('SUCCEEDED');
    expect(asg.updates).toHaveLength(1);
    const entries = await h.incident('web-elb-health-');
    expect(phases(entries).slice(3, 7)).toEqual(['acting', 'act-failed', 'acting', 'acted']);
    expect(detailOf(entries, 'act-failed')).toMatchObject({ notExecuted: true });
  });

  test('already compliant, or no load balancer: recorded as such, no update', async () => {
    asg.addGroup('web-asg', { healthCheckType: 'ELB', gracePeriod: 300 });
    expect((await enforce().run(unhealthyHostsAlarm())).output?.outcome.outcome).toBe('no-action-needed');
    asg.addGroup('web-asg', { targetGroups: [] });
    const second = await enforce().run(h.fire('web-tg-unhealthy-hosts', { dimensions: { TargetGroup: TARGET_GROUP }, at: new Date(Date.now() + 1000) }));
    expect(second.output?.outcome.outcome).toBe('no-action-needed');
    expect(asg.updates).toEqual([]);
    const plans = [...(await h.ledger()).values()].map((entries) => detailOf(entries, 'planned').reason as string).sort();
    expect(plans).toEqual([expect.stringMatching(/^already compliant: /), expect.stringMatching(/^nothing to enforce: /)]);
  });

  test('observe mode: the plan is recorded as "would act", nothing is updated', async () => {
    // The alarm names its group (an ALB's LoadBalancer dimension alone would name another resource, and is rejected).
    const run = await h.workflow('web-elb-observe').run(h.fire('web-5xx', { dimensions: { AutoScalingGroupName: 'web-asg' } }));
    expect(run.output?.outcome.outcome).toBe('observed');
    expect(asg.updates).toEqual([]);
    expect(detailOf(await h.incident('web-elb-observe-'), 'planned').wouldAct).toMatch(/^UpdateAutoScalingGroup web-asg/);
  });

  test('sweep path: 8 non-compliant opted-in groups, cap 5: five incidents through the workflow, three deferred in the ledger', async () => {
    asg.groups.clear();
    const names = Array.from({ length: 8 }, (_, i) => `shop-${i + 1}`);
    for (const name of names) asg.addGroup(name, { tags: OPT_IN });
    asg.addGroup('not-opted-in');
    const sweepOnly = Object.entries(sweepEnvironment()).filter(([key]) => key.startsWith('MEDIC_SWEEP_'));
    Object.assign(process.env, Object.fromEntries(sweepOnly));
    sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `arn:aws:states:eu-west-1:111111111111:execution:x:${input.name}` }));

    const result = await sweep({ time: '2026-11-24T14:00:00Z' });
    expect(result.deferred).toEqual(['shop-6', 'shop-7', 'shop-8']);
    const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    const runs = await Promise.all(starts.map((s) => enforce().run(JSON.parse(s.input!), s.name)));
    expect(runs.map((r) => r.status)).toEqual(Array(5).fill('SUCCEEDED'));
    expect(asg.updates.map((u) => u.AutoScalingGroupName).sort()).toEqual(names.slice(0, 5));
    expect(asg.groups.get('shop-6')!.healthCheckType).toBe('EC2');

    const ledger = await h.ledger();
    const sweepEntries = ledger.get('web-elb-health-sweep-20261124T140000Z')!;
    expect(phases(sweepEntries)).toEqual(['swept']);
    expect(detailOf(sweepEntries, 'swept')).toMatchObject({ scanned: 8, deferred: { count: 3, names: ['shop-6', 'shop-7', 'shop-8'] } });
    const incidents = [...ledger.keys()].filter((id) => !id.includes('-sweep-'));
    expect(incidents).toHaveLength(5);
    for (const id of incidents) expect(detailOf(ledger.get(id)!, 'received').trigger).toMatchObject({ kind: 'schedule' });
  });

  test('an EventBridge-shaped input is never read as a typed target: rejected by the alarm parser', async () => {
    const run = await enforce().run({ 'detail-type': 'Scheduled Event', source: 'aws.events', autoScalingGroupName: 'web-asg' });
    expect(run.status).toBe('FAILED');
    expect(asg.updates).toEqual([]);
    const [entries] = [...(await h.ledger()).values()];
    expect(detailOf(entries, 'rejected').reason).toMatch(/^not a CloudWatch alarm state change/);
  });

  test('by hand or by sweep, a group that is neither configured nor opted in is refused at plan, not updated', async () => {
    asg.addGroup('rogue');
    const run = await enforce().run({ autoScalingGroupName: 'rogue' });
    expect(run.status).toBe('FAILED');
    expect(asg.updates).toEqual([]);
    expect(detailOf(await h.incident('web-elb-health-'), 'planned').decision).toBe('escalate');
  });

  describe('HealthCheckType is a list (EBS,ELB): ELB is added, the other checks are kept', () => {
    test('a group on EBS: the workflow writes EBS,ELB, verifies it, and records EBS as the value to restore', async () => {
      asg.addGroup('web-asg', { healthCheckType: 'EBS' });
      const run = await enforce().run(unhealthyHostsAlarm());
      expect(run.status).toBe('SUCCEEDED');
      expect(run.output?.outcome.outcome).toBe('resolved');
      expect(asg.updates).toEqual([{ AutoScalingGroupName: 'web-asg', HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 300 }]);
      expect(asg.groups.get('web-asg')!.healthCheckType).toBe('EBS,ELB');
      const entries = await h.incident('web-elb-health-');
      expect(detailOf(entries, 'planned').summary).toBe('UpdateAutoScalingGroup web-asg: HealthCheckType EBS -> EBS,ELB, HealthCheckGracePeriod 0 -> 300s');
      expect(detailOf(entries, 'acted').result.details).toEqual({
        previous: { HealthCheckType: 'EBS', HealthCheckGracePeriod: 0 }, applied: { HealthCheckType: 'EBS,ELB', HealthCheckGracePeriod: 300 },
      });
    });

    test('capacity collapses: the rollback restores exactly EBS (not EC2, not ELB)', async () => {
      asg.addGroup('web-asg', { healthCheckType: 'EBS' });
      asg.afterEnforcing = 'collapses';
      const run = await enforce().run(unhealthyHostsAlarm());
      expect(run.status).toBe('FAILED');
      expect(asg.updates.map((u) => u.HealthCheckType)).toEqual(['EBS,ELB', 'EBS']);
      expect(asg.groups.get('web-asg')!.healthCheckType).toBe('EBS');
      expect(phases(await h.incident('web-elb-health-')).slice(-3)).toEqual(['verification-failed', 'rolled-back', 'escalated']);
    });

    test('a group already on EBS,ELB is compliant: no update', async () => {
      asg.addGroup('web-asg', { healthCheckType: 'EBS,ELB', gracePeriod: 120 });
      const run = await enforce().run(unhealthyHostsAlarm());
      expect(run.output?.outcome.outcome).toBe('no-action-needed');
      expect(asg.updates).toEqual([]);
      expect(detailOf(await h.incident('web-elb-health-'), 'planned').reason).toBe('already compliant: HealthCheckType EBS,ELB, grace period 120s');
    });

    test('sweep path, same rule as the plan: EBS and traffic-source-only groups are enforced; EBS,ELB and VPC Lattice only are left alone', async () => {
      asg.groups.clear();
      asg.addGroup('a-ebs', { healthCheckType: 'EBS', tags: OPT_IN });
      asg.addGroup('b-ebs-elb', { healthCheckType: 'EBS,ELB', tags: OPT_IN });
      asg.addGroup('c-traffic-source', { targetGroups: [], trafficSources: [{ Identifier: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/c/0123456789abcdef', Type: 'elbv2' }], tags: OPT_IN });
      asg.addGroup('d-lattice-only', { targetGroups: [], trafficSources: [{ Identifier: 'arn:aws:vpc-lattice:eu-west-1:111111111111:targetgroup/tg-0123456789abcdef0', Type: 'vpc-lattice' }], tags: OPT_IN });
      const sweepOnly = Object.entries(sweepEnvironment()).filter(([key]) => key.startsWith('MEDIC_SWEEP_'));
      Object.assign(process.env, Object.fromEntries(sweepOnly));
      sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `arn:aws:states:eu-west-1:111111111111:execution:x:${input.name}` }));

      await sweep({ time: '2026-11-24T15:00:00Z' });
      const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
      expect(starts.map((s) => JSON.parse(s.input!).autoScalingGroupName)).toEqual(['a-ebs', 'c-traffic-source']);
      const runs = await Promise.all(starts.map((s) => enforce().run(JSON.parse(s.input!), s.name)));
      expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      expect(Object.fromEntries([...asg.groups].map(([name, g]) => [name, g.healthCheckType]))).toEqual({
        'a-ebs': 'EBS,ELB', 'b-ebs-elb': 'EBS,ELB', 'c-traffic-source': 'ELB', 'd-lattice-only': 'EC2',
      });
      const swept = detailOf((await h.ledger()).get('web-elb-health-sweep-20261124T150000Z')!, 'swept');
      expect(swept).toMatchObject({ compliant: { names: ['b-ebs-elb'] }, withoutLoadBalancer: { names: ['d-lattice-only'] } });
    });

    test('the simulated group refuses what AWS refuses: a value that is not a comma-separated list of EC2, EBS, ELB, VPC_LATTICE', async () => {
      const client = new AutoScalingClient({ region: 'eu-west-1' });
      for (const HealthCheckType of ['ELB,FOO', 'elb', '', 'EBS,,ELB']) {
        await expect(client.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-asg', HealthCheckType }))).rejects.toMatchObject({ name: 'ValidationError' });
      }
      await client.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-asg', HealthCheckType: 'VPC_LATTICE,EBS,ELB' }));
      expect(asg.groups.get('web-asg')!.healthCheckType).toBe('VPC_LATTICE,EBS,ELB');
      expect(asg.updates).toHaveLength(1);
    });
  });
});
