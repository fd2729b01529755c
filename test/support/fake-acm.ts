import { ACMClient } from '@aws-sdk/client-acm';
import { Route53Client, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { AcmModel } from '../../lib/gameday/models/acm';
import { awsError, bindOperations } from '../../lib/gameday/models/operations';
import { HostedZonesModel, type HostedZone } from '../../lib/gameday/models/route53';
import { TEST_ENV, type StepClock } from './step-clock';

/**
 * ACM and Route 53 for workflow tests: the game day's models (lib/gameday/models/acm.ts,
 * route53.ts) answering the SDK through aws-sdk-client-mock, on the harness's {@link StepClock},
 * so a renewal ACM schedules after medic acted completes when the runbook's Wait states pass its
 * seconds. One fault knob: Route 53 refusing every change.
 */
export class FakeAcm {
  readonly acmClient = mockClient(ACMClient);
  readonly route53Client = mockClient(Route53Client);
  /** When set, Route 53 refuses every ChangeResourceRecordSets with this error (HTTP 403, as an IAM denial). */
  changeRefused?: string;
  private acmModel!: AcmModel;
  private zonesModel!: HostedZonesModel;

  constructor(private readonly clock: StepClock) {
    this.reset();
  }

  get acm(): AcmModel {
    return this.acmModel;
  }

  /** A hosted zone by id. */
  zone(id: string): HostedZone {
    const zone = this.zonesModel.zones.get(id);
    if (!zone) throw new Error(`no zone ${id}`);
    return zone;
  }

  /** Adds a zone with `records`, its apex `apex`. */
  addZone(id: string, apex: string, records: ResourceRecordSet[]): HostedZone {
    return this.zonesModel.addZone(id, records, apex);
  }

  reset(): void {
    this.acmClient.reset();
    this.route53Client.reset();
    this.changeRefused = undefined;
    this.acmModel = new AcmModel(this.clock, TEST_ENV);
    this.zonesModel = new HostedZonesModel(this.clock);
    this.zonesModel.onRecordWritten((set, deleted) => this.acmModel.recordWritten(set, deleted));
    bindOperations(this.acmClient, this.acmModel.operations, (_operation, _input, _mutating, answer) => answer());
    bindOperations(this.route53Client, this.zonesModel.operations, (operation, _input, _mutating, answer) => {
      if (operation === 'ChangeResourceRecordSets' && this.changeRefused) {
        throw awsError(this.changeRefused, 'not authorized to perform route53:ChangeResourceRecordSets', 403);
      }
      return answer();
    });
  }

  restore(): void {
    this.acmClient.restore();
    this.route53Client.restore();
  }
}
