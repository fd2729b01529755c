import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient, StopTaskCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { AlarmsModel } from '../../lib/gameday/models/cloudwatch';
import { EcsModel, type EcsService } from '../../lib/gameday/models/ecs';
import { bindOperations, type Answerer } from '../../lib/gameday/models/operations';
import { BucketModel } from '../../lib/gameday/models/s3';
import { TopicModel, type Published } from '../../lib/gameday/models/sns';
import { SsmParametersModel } from '../../lib/gameday/models/ssm-parameters';
import { TEST_ENV, type StepClock } from './step-clock';

/**
 * A small simulated AWS for workflow tests: ECS services, CloudWatch alarms, kill-switch parameters,
 * the change calendar, the page-marks bucket and the escalation topic. Each is the game day's model
 * (lib/gameday/models) answering the SDK through aws-sdk-client-mock, on the harness's
 * {@link StepClock}, so the handlers' SDK calls are real and a behaviour exists once.
 */
export class FakeAws {
  readonly ecs = mockClient(ECSClient);
  readonly cloudWatch = mockClient(CloudWatchClient);
  readonly ssm = mockClient(SSMClient);
  readonly sns = mockClient(SNSClient);
  readonly s3 = mockClient(S3Client);
  /** SSM parameter values; a name missing here is a missing parameter. */
  readonly parameters = new Map<string, string>();
  /** Called once per GetParameters, so a test can flip a switch mid-run. */
  onKillSwitchRead?: (call: number) => void;
  /**
   * What an UpdateService/StopTask leads to: `heals` (the deployment or replacement is steady by the
   * first check), or `never-steady` (the model's `never` outcome: a new task stays PENDING).
   */
  actionEffect: 'heals' | 'never-steady' = 'heals';
  /** Every alarm returns to OK by the first check after an ECS action when true. */
  alarmClearsAfterAction = true;
  private ecsModel!: EcsModel;
  private alarmModel!: AlarmsModel;
  private bucket!: BucketModel;
  private killSwitchReads = 0;
  private requests = 0;

  constructor(private readonly clock: StepClock) {
    this.install();
  }

  /** ECS services by `cluster/service`. */
  get services(): Map<string, EcsService> {
    return this.ecsModel.services;
  }

  /** The CloudWatch alarms. */
  get alarms(): AlarmsModel {
    return this.alarmModel;
  }

  /** Objects in the page-marks bucket, by key. */
  get pageMarks(): Map<string, string> {
    return this.bucket.objects;
  }

  reset(): void {
    for (const mock of [this.ecs, this.cloudWatch, this.ssm, this.sns, this.s3]) mock.reset();
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
    this.alarmModel.set(name, state, since);
  }

  addService(cluster: string, service: string, tasks = 4): EcsService {
    return this.ecsModel.addService({ cluster, service, tasks, outcome: { kind: 'after', seconds: 0 } });
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

  private install(): void {
    this.ecsModel = new EcsModel(this.clock, TEST_ENV);
    this.alarmModel = new AlarmsModel(this.clock, TEST_ENV);
    this.bucket = new BucketModel();
    const direct: Answerer = (_operation, _input, _mutating, answer) => answer();
    bindOperations(this.ecs, this.ecsModel.operations, (_operation, _input, mutating, answer) => {
      if (mutating) {
        // The knobs hold for every service, whenever they were set: applied as the action is asked for.
        for (const svc of this.ecsModel.services.values()) svc.outcome = this.actionEffect === 'heals' ? { kind: 'after', seconds: 0 } : { kind: 'never' };
      }
      const result = answer() as Record<string, unknown>;
      if (!mutating) return result;
      if (this.alarmClearsAfterAction) for (const name of this.alarmModel.names()) this.alarmModel.recoverAfter(name, 0);
      return { ...result, ...this.requestId() };
    });
    bindOperations(this.cloudWatch, this.alarmModel.operations, direct);
    const ssm = new SsmParametersModel(this.parameters, () => 'OPEN');
    bindOperations(this.ssm, ssm.operations, (operation, _input, _mutating, answer) => {
      if (operation === 'GetParameters') this.onKillSwitchRead?.(++this.killSwitchReads);
      return answer();
    });
    bindOperations(this.sns, new TopicModel(this.clock, [] as Published[]).operations, direct);
    bindOperations(this.s3, this.bucket.operations, direct);
  }
}
