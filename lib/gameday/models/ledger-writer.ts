import { createHmac } from 'node:crypto';
import { GenerateMacCommand, VerifyMacCommand } from '@aws-sdk/client-kms';
import { InvokeCommand, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import { LOCAL_MAC_SECRET } from '../../../lambdas/shared/ledger-mac';
import { localLambda } from '../../local/local-lambda';
import type { LocalEnv } from '../../local/template-workflow';
import { awsError, type ModelOperations } from './operations';

/**
 * A KMS HMAC key (HMAC_256) for the ledger's MACs. Its secret is the offline one, so
 * `medic ledger verify --local` can check what a game day wrote. Used by the game-day world
 * (lib/gameday/services/ledger-writer.ts) and the workflow tests (test/support/fake-aws.ts).
 */
export class HmacKeyModel {
  readonly operations: ModelOperations = {
    GenerateMac: { command: GenerateMacCommand, mutating: false, answer: (input: MacInput) => this.generateMac(input) },
    VerifyMac: { command: VerifyMacCommand, mutating: false, answer: (input: MacInput & { Mac: Uint8Array }) => this.verifyMac(input) },
  };

  private mac(message: Uint8Array): Buffer {
    return createHmac('sha256', LOCAL_MAC_SECRET).update(message).digest();
  }

  /** KMS API reference, GenerateMac: the HMAC of Message under the key (the key never leaves KMS). */
  generateMac(input: MacInput): { Mac: Uint8Array; KeyId: string; MacAlgorithm: string } {
    return { Mac: this.mac(input.Message), KeyId: input.KeyId, MacAlgorithm: input.MacAlgorithm };
  }

  /** KMS API reference, VerifyMac: MacValid true, or KMSInvalidMacException when the MAC does not match. */
  verifyMac(input: MacInput & { Mac: Uint8Array }): { KeyId: string; MacValid: boolean; MacAlgorithm: string } {
    if (!this.mac(input.Message).equals(Buffer.from(input.Mac))) throw awsError('KMSInvalidMacException', 'The MAC does not match the message and key');
    return { KeyId: input.KeyId, MacValid: true, MacAlgorithm: input.MacAlgorithm };
  }
}

interface MacInput {
  readonly KeyId: string;
  readonly Message: Uint8Array;
  readonly MacAlgorithm: string;
}

/**
 * Lambda's Invoke for the stack's own functions (the ledger writer), run in this process
 * (lib/local/local-lambda.ts). Lambda API reference, Invoke: RequestResponse returns the
 * function's result, or FunctionError with its error.
 */
export class StackFunctionsModel {
  readonly operations: ModelOperations;

  constructor(template: Record<string, unknown>, env: LocalEnv) {
    const invoke = localLambda(template, env);
    this.operations = { InvokeFunction: { command: InvokeCommand, mutating: false, answer: (input: InvokeCommandInput) => invoke(input) } };
  }
}
