import { DescribeExecutionCommand, GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import type { LocalExecutionRecord } from '../../local/template-workflow';
import { awsError, type ModelOperations } from './operations';

/** Events per GetExecutionHistory page when the caller gives no maxResults (the API's default is 100). */
const DEFAULT_PAGE = 100;

/**
 * Step Functions' execution reads over the executions the local runner ran
 * (lib/local/template-workflow.ts keeps each one's record and history events). Used by the game
 * day (the reconciler reads them) and by `medic ledger reconcile --local` (from the saved copy).
 */
export class StepFunctionsModel {
  /** @param lookup the execution with this ARN, if one ran */
  constructor(private readonly lookup: (executionArn: string) => LocalExecutionRecord | undefined) {}

  readonly operations: ModelOperations = {
    DescribeExecution: { command: DescribeExecutionCommand, mutating: false, answer: (input: { executionArn: string }) => this.describeExecution(input) },
    GetExecutionHistory: {
      command: GetExecutionHistoryCommand, mutating: false,
      answer: (input: { executionArn: string; maxResults?: number; nextToken?: string; reverseOrder?: boolean }) => this.getExecutionHistory(input),
    },
  };

  private execution(executionArn: string): LocalExecutionRecord {
    const record = this.lookup(executionArn);
    // Step Functions API reference, DescribeExecution: ExecutionDoesNotExist "The specified execution does not exist."
    if (!record) throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  /** API reference, DescribeExecution: status RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED, startDate, stopDate once stopped. */
  describeExecution(input: { executionArn: string }): Record<string, unknown> {
    const record = this.execution(input.executionArn);
    return {
      executionArn: record.executionArn, stateMachineArn: record.stateMachineArn, name: record.name, status: record.status,
      startDate: new Date(record.startDate), ...(record.stopDate ? { stopDate: new Date(record.stopDate) } : {}),
    };
  }

  /** API reference, GetExecutionHistory: events oldest first (reverseOrder false), paged with nextToken and maxResults (default 100, at most 1000). */
  getExecutionHistory(input: { executionArn: string; maxResults?: number; nextToken?: string; reverseOrder?: boolean }): Record<string, unknown> {
    const record = this.execution(input.executionArn);
    const events = input.reverseOrder ? [...record.events].reverse() : record.events;
    const size = Math.min(Math.max(input.maxResults || DEFAULT_PAGE, 1), 1000);
    const start = input.nextToken ? Number(input.nextToken) : 0;
    if (!Number.isInteger(start) || start < 0) throw awsError('InvalidToken', 'Invalid token');
    const page = events.slice(start, start + size).map((e) => ({ ...e, timestamp: new Date(String(e.timestamp)) }));
    return { events: page, ...(start + size < events.length ? { nextToken: String(start + size) } : {}) };
  }
}
