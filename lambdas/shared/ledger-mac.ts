import { createHmac, timingSafeEqual } from 'node:crypto';
import { GenerateMacCommand, KMSClient, VerifyMacCommand } from '@aws-sdk/client-kms';

/**
 * Authenticates ledger entries: a MAC over each entry's hash (which covers the previous hash),
 * made with a key only the ledger writer may use. Recomputing the unkeyed chain after an edit
 * leaves MACs that no longer verify, and a reader cannot make new ones.
 */
export interface LedgerMac {
  /** A short name of the key, stored with each entry (`macKey`) so a verifier knows which to ask. */
  readonly keyName: string;
  sign(hash: string): Promise<string>;
  verify(hash: string, mac: string): Promise<boolean>;
}

const ALGORITHM = 'HMAC_SHA_256';

/**
 * An HMAC KMS key (KeySpec HMAC_256, KeyUsage GENERATE_VERIFY_MAC). GenerateMac never returns
 * the key; VerifyMac answers MacValid or throws KMSInvalidMacException when the MAC does not
 * match (KMS API reference: VerifyMac).
 */
export class KmsLedgerMac implements LedgerMac {
  constructor(readonly keyName: string, private readonly client: KMSClient = new KMSClient({})) {}

  async sign(hash: string): Promise<string> {
    const out = await this.client.send(new GenerateMacCommand({ KeyId: this.keyName, Message: Buffer.from(hash, 'utf8'), MacAlgorithm: ALGORITHM }));
    if (!out.Mac) throw new Error('KMS GenerateMac returned no MAC');
    return Buffer.from(out.Mac).toString('base64');
  }

  async verify(hash: string, mac: string): Promise<boolean> {
    try {
      const out = await this.client.send(new VerifyMacCommand({
        KeyId: this.keyName, Message: Buffer.from(hash, 'utf8'), Mac: Buffer.from(mac, 'base64'), MacAlgorithm: ALGORITHM,
      }));
      return out.MacValid === true;
    } catch (error) {
      if ((error as Error).name === 'KMSInvalidMacException') return false;
      throw error;
    }
  }
}

/**
 * The offline key of the game day, the local ledger and the tests: an HMAC with a secret held in
 * this process. It stands in for the KMS key where there is no AWS; it proves nothing about who
 * wrote a ledger outside this machine.
 */
export class LocalLedgerMac implements LedgerMac {
  readonly keyName = 'local';

  constructor(private readonly secret: string = LOCAL_MAC_SECRET) {}

  async sign(hash: string): Promise<string> {
    return createHmac('sha256', this.secret).update(hash, 'utf8').digest('base64');
  }

  async verify(hash: string, mac: string): Promise<boolean> {
    const expected = Buffer.from(await this.sign(hash), 'base64');
    const given = Buffer.from(mac, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** The offline secret; not a credential: it exists only where there is no AWS account. */
export const LOCAL_MAC_SECRET = 'medic offline ledger key';

/** The writer's MAC key from its environment: `MEDIC_LEDGER_MAC_KEY` (a KMS key ARN), or `local` offline. */
export function ledgerMacFromEnv(env: NodeJS.ProcessEnv = process.env): LedgerMac {
  const key = env.MEDIC_LEDGER_MAC_KEY;
  if (!key) throw new Error('environment variable MEDIC_LEDGER_MAC_KEY is not set (the ledger writer\'s HMAC key, or "local" offline)');
  return key === 'local' ? new LocalLedgerMac() : new KmsLedgerMac(key);
}
