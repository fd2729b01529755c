import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingModel, type AsgGroup } from '../../lib/gameday/models/auto-scaling';
import { awsError, bindOperations } from '../../lib/gameday/models/operations';
import { TEST_ENV, type StepClock } from './step-clock';

/** What a test may set on a group it adds (the model's fields). */
export type GroupOverrides = Partial<Pick<AsgGroup, 'healthCheckType' | 'gracePeriod' | 'minSize' | 'healthy' | 'targetGroups' | 'trafficSources' | 'tags'>>;

/**
 * EC2 Auto Scaling for workflow tests: the game day's model (lib/gameday/models/auto-scaling.ts)
 * answering the SDK through aws-sdk-client-mock, on the harness's {@link StepClock}, with the
 * fault knobs the tests use (throttling, injected errors) around UpdateAutoScalingGroup.
 */
export class FakeAutoScaling {
  readonly client = mockClient(AutoScalingClient);
  /** What enforcing ELB checks does: `holds`, or `collapses` (a broken health check path, AsgGroup.collapses). */
  afterEnforcing: 'holds' | 'collapses' = 'holds';
  /** The next this-many UpdateAutoScalingGroup calls are throttled. */
  throttledUpdates = 0;
  /** Called with each UpdateAutoScalingGroup (1-based): an error to answer with instead, or nothing. */
  updateFault?: (call: number, input: Record<string, unknown>) => Error | undefined;
  /** UpdateAutoScalingGroup calls that went through (throttled and refused ones excluded). */
  readonly updates: Array<Record<string, unknown>> = [];
  private updateCalls = 0;
  private model!: AutoScalingModel;

  constructor(private readonly clock: StepClock) {
    this.reset();
  }

  get groups(): Map<string, AsgGroup> {
    return this.model.groups;
  }

  reset(): void {
    this.client.reset();
    this.afterEnforcing = 'holds';
    this.throttledUpdates = 0;
    this.updateFault = undefined;
    this.updateCalls = 0;
    this.updates.length = 0;
    this.model = new AutoScalingModel(this.clock, TEST_ENV);
    bindOperations(this.client, this.model.operations, (operation, input, _mutating, answer) => {
      if (operation !== 'UpdateAutoScalingGroup') return answer();
      const call = ++this.updateCalls;
      const fault = this.updateFault?.(call, input);
      if (fault) throw fault;
      if (this.throttledUpdates > 0) {
        this.throttledUpdates -= 1;
        throw awsError('Throttling', 'Rate exceeded');
      }
      for (const group of this.model.groups.values()) group.collapses = this.afterEnforcing === 'collapses';
      const result = answer() as Record<string, unknown>;
      this.updates.push({ ...input });
      return { ...result, $metadata: { requestId: `asg-req-${call}`, httpStatusCode: 200 } };
    });
  }

  restore(): void {
    this.client.restore();
  }

  /** A group behind a target group, with EC2-only health checks, 2 of 2 healthy, MinSize 2, unless overridden. */
  addGroup(name: string, overrides: GroupOverrides = {}): AsgGroup {
    return this.model.addGroup({ name, ...overrides });
  }
}
