import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { HmacKeyModel, StackFunctionsModel } from '../models/ledger-writer';
import { bindOperations } from '../models/operations';
import type { World } from '../world';

/**
 * What the ledger writer needs of AWS beyond DynamoDB: Lambda's Invoke (handlers append through
 * the writer function) and the KMS HMAC key of the ledger's MACs.
 */
export function installLedgerWriter(world: World, template: Record<string, unknown>): void {
  bindOperations(world.stub(LambdaClient), new StackFunctionsModel(template, world.env).operations, (operation, input, mutating, answer) =>
    world.answer('lambda', operation, input, mutating, answer));
  bindOperations(world.stub(KMSClient), new HmacKeyModel().operations, (operation, input, mutating, answer) =>
    world.answer('kms', operation, input, mutating, answer));
}
