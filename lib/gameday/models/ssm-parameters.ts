import { GetCalendarStateCommand, GetParametersCommand } from '@aws-sdk/client-ssm';
import type { ModelOperations } from './operations';

/**
 * Systems Manager Parameter Store (the kill switches, GetParameters) and Change Calendar
 * (GetCalendarState) as the runbooks read them. Used by the game-day world
 * (lib/gameday/services/core.ts) and the workflow tests (test/support/fake-aws.ts). Each behaviour
 * follows the SDK doc comment of @aws-sdk/client-ssm (dist-types) named beside it.
 */
export class SsmParametersModel {
  /**
   * @param parameters parameter values by name; a name missing here is a missing parameter
   * @param calendarState the change calendar's state now (OPEN or CLOSED)
   */
  constructor(
    readonly parameters: Map<string, string>,
    private readonly calendarState: () => 'OPEN' | 'CLOSED',
    private readonly unreadable: ReadonlySet<string> = new Set(),
  ) {}

  readonly operations: ModelOperations = {
    GetParameters: { command: GetParametersCommand, mutating: false, answer: (input: { Names: string[] }) => this.getParameters(input) },
    GetCalendarState: { command: GetCalendarStateCommand, mutating: false, answer: () => ({ State: this.calendarState() }) },
  };

  /** GetParametersResult.InvalidParameters: "A list of parameters that aren't formatted correctly or don't run during an execution" (missing ones are listed there, not thrown). */
  getParameters(input: { Names: string[] }) {
    // IAM authorizes GetParameters per parameter: one the caller may not read fails the whole call.
    const denied = input.Names.find((n) => this.unreadable.has(n));
    if (denied) {
      throw Object.assign(new Error(`User is not authorized to perform: ssm:GetParameters on resource: ${denied}`), {
        name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 },
      });
    }
    return {
      Parameters: input.Names.filter((n) => this.parameters.has(n)).map((n) => ({ Name: n, Value: this.parameters.get(n) })),
      InvalidParameters: input.Names.filter((n) => !this.parameters.has(n)),
    };
  }
}
