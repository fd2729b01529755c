import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeServicesCommand, ECSClient, ListTasksCommand, StopTaskCommand, UpdateServiceCommand, type Deployment,
} from '@aws-sdk/client-ecs';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCalendarStateCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';

interface FakeService {
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  deployments: Deployment[];
  tasks: string[];
}

/**
 * A small simulated AWS for workflow tests: ECS services that react to UpdateService and
 * StopTask, alarms that clear after an action, kill-switch parameters and an SNS topic.
 * Everything is answered through aws-sdk-client-mock, so the handlers' SDK calls are real.
 */
export class FakeAws {
  readonly ecs = mockClient(ECSClient);
  readonly cloudWatch = mockClient(CloudWatchClient);
  readonly ssm = mockClient(SSMClient);
  readonly sns = mockClient(SNSClient);
  readonly s3 = mockClient(S3Client);
  readonly services = new Map<string, FakeService>();
  readonly alarms = new Map<string, string>();
  /** When each alarm last changed state, as CloudWatch reports it (StateTransitionedTimestamp). */
  readonly alarmSince = new Map<string, Date>();
  /** Objects in the page-marks bucket, by key. */
  readonly pageMarks = new Map<string, string>();
  /** SSM parameter values; a name missing here is a missing parameter. */
  readonly parameters = new Map<string, string>();
  /** Called once per GetParameters, so a test can flip a switch mid-run. */
  onKillSwitchRead?: (call: number) => void;
  /** What an UpdateService/StopTask does to the service: heal it, or leave it never steady. */
  actionEffect: 'heals' | 'never-steady' = 'heals';
  /** Alarms return to OK after an action when true. */
  alarmClearsAfterAction = true;
  private deploymentCounter = 0;
  private killSwitchReads = 0;
  private requests = 0;

  constructor() {
    this.install();
  }

  reset(): void {
    for (const mock of [this.ecs, this.cloudWatch, this.ssm, this.sns, this.s3]) mock.reset();
    this.services.clear();
    this.alarms.clear();
    this.alarmSince.clear();
    this.pageMarks.clear();
    this.parameters.clear();
    this.onKillSwitchRead = undefined;
    this.actionEffect = 'heals';
    this.alarmClearsAfterAction = true;
    this.killSwitchReads = 0;
    this.install();
  }

  restore(): void {
    for (const mock of [this.ecs, this.cloudWatch, this.ssm, this.sns, this.s3]) mock.restore();
  }

  /** An AWS request id for a simulated answer, as every real answer carries. */
  requestId(): { $metadata: { requestId: string; httpStatusCode: number } } {
    return { $metadata: { requestId: `req-${++this.requests}`, httpStatusCode: 200 } };
  }

  /** Sets an alarm's state, changed at `since` (default now), as CloudWatch would report it. */
  setAlarm(name: string, state: string, since = new Date()): void {
    this.alarms.set(name, state);
    this.alarmSince.set(name, since);
  }

  addService(cluster: string, service: string, tasks = 4): FakeService {
    const fake: FakeService = {
      desiredCount: tasks,
      runningCount: tasks,
      pendingCount: 0,
      deployments: [{ id: 'ecs-svc/0', status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: tasks }],
      tasks: Array.from({ length: tasks }, (_, i) => `arn:aws:ecs:eu-west-1:111111111111:task/${cluster}/${service}-t${i}`),
    };
    this.services.set(`${cluster}/${service}`, fake);
    return fake;
  }

  killSwitchesOff(stackName: string, runbooks: string[]): void {
    this.parameters.set(`/medic/${stackName}/kill-switch/global`, 'off');
    for (const rb of runbooks) this.parameters.set(`/medic/${stackName}/kill-switch/runbook/${rb}`, 'off');
  }

  /** Mutating calls the runbooks made (UpdateService, StopTask). */
  mutations(): Array<{ operation: string; input: Record<string, unknown> }> {
    return [
      ...this.ecs.commandCalls(UpdateServiceCommand).map((c) => ({ operation: 'UpdateService', input: c.args[0].input as unknown as Record<string, unknown> })),
      ...this.ecs.commandCalls(StopTaskCommand).map((c) => ({ operation: 'StopTask', input: c.args[0].input as unknown as Record<string, unknown> })),
    ];
  }

  published(): Array<{ Subject?: string; Message?: string }> {
    return this.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
  }

  private afterAction(service: FakeService): void {
    if (this.actionEffect === 'never-steady') {
      service.runningCount = service.desiredCount - 1;
      service.pendingCount = 1;
    }
    if (this.alarmClearsAfterAction) for (const name of this.alarms.keys()) this.setAlarm(name, 'OK');
  }

  private install(): void {
    this.ecs.on(DescribeServicesCommand).callsFake((input) => {
      const key = `${input.cluster}/${input.services[0]}`;
      const fake = this.services.get(key);
      if (!fake) return { services: [], failures: [{ arn: key, reason: 'MISSING' }] };
      return { services: [{ serviceName: input.services[0], status: 'ACTIVE', ...fake, deployments: fake.deployments.map((d) => ({ ...d })) }] };
    });
    this.ecs.on(UpdateServiceCommand).callsFake((input) => {
      const fake = this.services.get(`${input.cluster}/${input.service}`)!;
      const id = `ecs-svc/${++this.deploymentCounter}`;
      fake.deployments = [{ id, status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: fake.desiredCount }];
      this.afterAction(fake);
      return { service: { deployments: [{ id, status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }] }, ...this.requestId() };
    });
    this.ecs.on(ListTasksCommand).callsFake((input) => ({ taskArns: [...(this.services.get(`${input.cluster}/${input.serviceName}`)?.tasks ?? [])] }));
    // StopTask takes a task's id or its full ARN (with the cluster).
    const sameTask = (arn: string, task: string): boolean => arn === task || arn.endsWith(`/${task}`);
    this.ecs.on(StopTaskCommand).callsFake((input) => {
      for (const [key, fake] of this.services) {
        if (!key.startsWith(`${input.cluster}/`) || !fake.tasks.some((t) => sameTask(t, input.task))) continue;
        fake.tasks = fake.tasks.map((t) => (sameTask(t, input.task) ? `${t}-replacement` : t));
        this.afterAction(fake);
      }
      return { task: { taskArn: input.task }, ...this.requestId() };
    });
    this.cloudWatch.on(DescribeAlarmsCommand).callsFake((input) => ({
      MetricAlarms: (input.AlarmNames ?? []).filter((n: string) => this.alarms.has(n)).map((n: string) => ({
        AlarmName: n, StateValue: this.alarms.get(n), StateTransitionedTimestamp: this.alarmSince.get(n), StateUpdatedTimestamp: this.alarmSince.get(n),
      })),
    }));
    this.ssm.on(GetParametersCommand).callsFake((input) => {
      this.onKillSwitchRead?.(++this.killSwitchReads);
      const names: string[] = input.Names;
      return {
        Parameters: names.filter((n) => this.parameters.has(n)).map((n) => ({ Name: n, Value: this.parameters.get(n) })),
        InvalidParameters: names.filter((n) => !this.parameters.has(n)),
      };
    });
    this.ssm.on(GetCalendarStateCommand).resolves({ State: 'OPEN' });
    this.sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    // S3's conditional create: If-None-Match "*" on an existing key answers 412 Precondition Failed.
    this.s3.on(PutObjectCommand).callsFake((input) => {
      if (input.IfNoneMatch === '*' && this.pageMarks.has(input.Key)) {
        throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } });
      }
      this.pageMarks.set(input.Key, String(input.Body));
      return { ETag: '"etag"' };
    });
    this.s3.on(DeleteObjectCommand).callsFake((input) => {
      this.pageMarks.delete(input.Key);
      return {};
    });
  }
}
