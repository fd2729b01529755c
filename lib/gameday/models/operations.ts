import type { AnyStub } from '../world';

// SDK commands and their inputs are typed per service; a model table holds any of them.
/** One API operation of a model: the SDK command it answers, whether it changes anything, and its answer. */
export interface ModelOperation {
  readonly command: new (input: any) => any;
  readonly mutating: boolean;
  readonly answer: (input: any) => unknown;
}

/** A model's operations by API operation name (`DescribeDBInstances`), as IAM and CloudTrail name them. */
export type ModelOperations = Readonly<Record<string, ModelOperation>>;

/**
 * How a caller runs a model's answer: the game day through World.answer (faults, recorded calls),
 * tests directly (with their own fault knobs and request ids).
 */
export type Answerer = (operation: string, input: Record<string, unknown>, mutating: boolean, answer: () => unknown) => unknown;

/** Answers each of `operations` on `stub` through `answerer`. */
export function bindOperations(stub: AnyStub, operations: ModelOperations, answerer: Answerer): void {
  for (const [name, operation] of Object.entries(operations)) {
    stub.on(operation.command).callsFake((input: Record<string, unknown>) => answerer(name, input, operation.mutating, () => operation.answer(input)));
  }
}

/**
 * An error as the SDK throws it for an AWS error response: `name` is the error code, `$fault`
 * and `$metadata.httpStatusCode` as the service answered (the SDK's ServiceException shape).
 */
export function awsError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });
}
