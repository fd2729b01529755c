import type { LedgerEntry } from '../../lambdas/shared/ledger';
import { runbookNames, type MedicConfig } from '../../lib/config';
import { LocalDynamo, tableFromTemplate } from '../../lib/local/dynalite';
import { FakeAws } from '../support/fake-aws';
import { StepClock } from '../support/step-clock';
import { readLedger } from '../support/ledger-reader';
import { LocalWorkflow, stateMachineId, type LocalWorkflowOptions } from '../../lib/local/template-workflow';
import { alarmEvent, alarmTimestamp, synthStack, testConfig } from '../support/synth';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { HmacKeyModel, StackFunctionsModel } from '../../lib/gameday/models/ledger-writer';
import { bindOperations } from '../../lib/gameday/models/operations';
import { functionVariable } from '../../lib/local/local-lambda';

const ENV = { account: '111111111111', region: 'eu-west-1' };

/**
 * Everything a workflow test needs: the synthesized test stack, its state machines run
 * locally, DynamoDB on dynalite (fresh tables per test) and a simulated AWS for the rest. The
 * workflows' Wait states advance {@link clock}, the time of the service models (FakeAws here,
 * FakeRds and FakeAutoScaling made with it), so a database or a deployment takes as long as the
 * runbook waits for it.
 */
export class WorkflowHarness {
  readonly synthesized: ReturnType<typeof synthStack>;
  readonly dynamo = new LocalDynamo();
  readonly clock = new StepClock();
  readonly aws = new FakeAws(this.clock);
  /** The stack's functions (handlers append through the ledger writer) and the ledger's HMAC key. */
  readonly lambda = mockClient(LambdaClient);
  readonly kms = mockClient(KMSClient);
  private tableCounter = 0;
  private workflows = new Map<string, LocalWorkflow>();
  ledgerTable = '';
  limiterTable = '';

  /** `config`: the stack to run (the test config unless a test needs runbooks it does not have). */
  constructor(private readonly config: MedicConfig = testConfig) {
    this.synthesized = synthStack(config);
  }

  workflow(runbook: string): LocalWorkflow {
    let wf = this.workflows.get(runbook);
    if (!wf) {
      wf = new LocalWorkflow(this.synthesized.template, stateMachineId(this.synthesized.stack, runbook), { simulatedWait: this.simulatedWait });
      this.workflows.set(runbook, wf);
    }
    return wf;
  }

  /** The runbook's workflow with the given runner options (faults injected around task invocations): a fresh runner each call. */
  workflowWith(runbook: string, options: LocalWorkflowOptions): LocalWorkflow {
    return new LocalWorkflow(this.synthesized.template, stateMachineId(this.synthesized.stack, runbook), { simulatedWait: this.simulatedWait, ...options });
  }

  /** Each Wait state moves the models' clock by its seconds (at once, in real time). */
  private readonly simulatedWait = async (seconds: number): Promise<void> => this.clock.advance(seconds);

  async start(): Promise<void> {
    await this.dynamo.start();
    const template = this.synthesized.template.toJSON();
    Object.assign(process.env, this.workflow('api-restart').functionEnvironment(), {
      // The writer's own variable (it is not a task of any workflow): the simulated KMS key.
      MEDIC_LEDGER_MAC_KEY: functionVariable(template, ENV, 'MEDIC_LEDGER_MAC_KEY') ?? 'local',
    });
    const direct = (_operation: string, _input: unknown, _mutating: boolean, answer: () => unknown) => answer();
    bindOperations(this.lambda, new StackFunctionsModel(template, ENV).operations, direct);
    bindOperations(this.kms, new HmacKeyModel().operations, direct);
  }

  /** New empty tables, shaped as the template declares them, and a fresh simulated world. */
  async freshWorld(): Promise<void> {
    const tables = this.synthesized.template.findResources('AWS::DynamoDB::Table');
    const n = ++this.tableCounter;
    for (const [id, resource] of Object.entries(tables)) {
      const name = `${id}-${n}`;
      await this.dynamo.createTable(tableFromTemplate(name, resource.Properties));
      if (id.includes('Ledger')) this.ledgerTable = name;
      if (id.includes('Limiter')) this.limiterTable = name;
    }
    process.env.MEDIC_LEDGER_TABLE = this.ledgerTable;
    process.env.MEDIC_LIMITER_TABLE = this.limiterTable;
    this.clock.reset();
    this.aws.reset();
    this.aws.killSwitchesOff(this.config.stackName, runbookNames(this.config));
  }

  /**
   * The alarm goes to ALARM at `at` (default now) in the simulated CloudWatch, and the event
   * EventBridge delivers for that change.
   */
  fire(alarm: string, options: Omit<Parameters<typeof alarmEvent>[0], 'alarm' | 'timestamp'> & { at?: Date } = {}): Record<string, unknown> {
    const at = options.at ?? new Date();
    if ((options.state ?? 'ALARM') === 'ALARM') this.aws.setAlarm(alarm, 'ALARM', at);
    return alarmEvent({ ...options, alarm, timestamp: alarmTimestamp(at) });
  }

  async ledger(): Promise<Map<string, LedgerEntry[]>> {
    return readLedger(this.dynamo.client(), this.ledgerTable);
  }

  /** The one incident whose id starts with `prefix`. */
  async incident(prefix: string): Promise<LedgerEntry[]> {
    const matches = [...(await this.ledger()).entries()].filter(([id]) => id.startsWith(prefix) && !id.includes('.duplicate.'));
    if (matches.length !== 1) throw new Error(`expected one incident starting ${prefix}, found ${matches.map(([id]) => id).join(', ') || 'none'}`);
    return matches[0][1];
  }

  async stop(): Promise<void> {
    this.aws.restore();
    this.lambda.restore();
    this.kms.restore();
    process.env.MEDIC_LEDGER_MAC_KEY = 'local';
    await this.dynamo.stop();
  }
}
