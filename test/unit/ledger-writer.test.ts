import { GenerateMacCommand, KMSClient, VerifyMacCommand } from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as writer } from '../../lambdas/ledger-writer/index';
import { appendEntry, readIncident, verifyIncident, type AppendInput } from '../../lambdas/shared/ledger';
import { KmsLedgerMac, LocalLedgerMac } from '../../lambdas/shared/ledger-mac';
import { LocalDynamo } from '../../lib/local/dynalite';
import { freshTables } from '../support/tables';

/*
 * The one ledger writer: the function that puts ledger items and makes their MACs, and the
 * client every other handler appends through (Lambda Invoke, errors passed back by name).
 */

const local = new LocalDynamo();
const KEY = 'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555';
const localMac = new LocalLedgerMac();
let tables: { ledger: string; limiter: string };

beforeAll(async () => {
  await local.start();
});
afterAll(async () => local.stop());
beforeEach(async () => {
  tables = await freshTables(local, 'writer');
});
afterEach(() => {
  delete process.env.MEDIC_LEDGER_WRITER;
  process.env.MEDIC_LEDGER_MAC_KEY = 'local';
});

const append = (incidentId: string, extra: Partial<AppendInput> = {}): AppendInput => ({
  table: 'a-table-the-caller-names', incidentId, phase: 'received', runbook: 'api-restart', actor: 'test', detail: { n: 1 }, ...extra,
});

describe('the ledger writer function', () => {
  test('writes to its own table whatever the caller names, signs the entry, and the chain verifies', async () => {
    const entry = await writer({ append: { ...append('inc-1'), now: '2026-11-29T10:00:00.000Z' } } as never);
    expect(entry).toMatchObject({ incidentId: 'inc-1', seq: 1, at: '2026-11-29T10:00:00.000Z', macKey: 'local' });
    expect(entry.mac).toBe(await localMac.sign(entry.hash));
    expect(await readIncident(tables.ledger, 'inc-1')).toEqual([JSON.parse(JSON.stringify(entry))]);
    await expect(verifyIncident(tables.ledger, 'inc-1', localMac)).resolves.toMatchObject({ ok: true, entries: 1 });
  });

  test('a request that is not an append, or a bad time, is refused by name and writes nothing', async () => {
    await expect(writer({} as never)).rejects.toMatchObject({ name: 'Medic.InvalidAppend' });
    await expect(writer({ append: { ...append('inc-2'), now: 'yesterday' } } as never)).rejects.toMatchObject({ name: 'Medic.InvalidAppend' });
    expect(await readIncident(tables.ledger, 'inc-2')).toEqual([]);
  });

  test('signs with the KMS HMAC key of MEDIC_LEDGER_MAC_KEY: GenerateMac over the entry hash; no MAC, no entry', async () => {
    process.env.MEDIC_LEDGER_MAC_KEY = KEY;
    const kms = mockClient(KMSClient);
    try {
      kms.on(GenerateMacCommand).resolves({ Mac: Buffer.from('mac-bytes'), KeyId: KEY, MacAlgorithm: 'HMAC_SHA_256' });
      const entry = await writer({ append: append('inc-3') } as never);
      const call = kms.commandCalls(GenerateMacCommand)[0].args[0].input;
      expect(call).toMatchObject({ KeyId: KEY, MacAlgorithm: 'HMAC_SHA_256' });
      expect(Buffer.from(call.Message as Uint8Array).toString('utf8')).toBe(entry.hash);
      expect(entry).toMatchObject({ mac: Buffer.from('mac-bytes').toString('base64'), macKey: KEY });

      kms.on(GenerateMacCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
      await expect(writer({ append: append('inc-4') } as never)).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect(await readIncident(tables.ledger, 'inc-4')).toEqual([]);
    } finally {
      kms.restore();
    }
  });
});

describe('KmsLedgerMac.verify', () => {
  test('VerifyMac: MacValid is valid, KMSInvalidMacException is invalid, any other error is thrown (cannot verify is not "tampered")', async () => {
    const kms = mockClient(KMSClient);
    try {
      const mac = new KmsLedgerMac(KEY);
      kms.on(VerifyMacCommand).resolves({ MacValid: true });
      await expect(mac.verify('abc', Buffer.from('m').toString('base64'))).resolves.toBe(true);
      expect(kms.commandCalls(VerifyMacCommand)[0].args[0].input).toMatchObject({ KeyId: KEY, MacAlgorithm: 'HMAC_SHA_256' });
      kms.on(VerifyMacCommand).rejects(Object.assign(new Error('no match'), { name: 'KMSInvalidMacException' }));
      await expect(mac.verify('abc', 'bQ==')).resolves.toBe(false);
      kms.on(VerifyMacCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
      await expect(mac.verify('abc', 'bQ==')).rejects.toMatchObject({ name: 'ThrottlingException' });
    } finally {
      kms.restore();
    }
  });
});

describe('appending through the writer (MEDIC_LEDGER_WRITER)', () => {
  test('invokes the writer with the append and returns its entry; the caller never writes the table', async () => {
    process.env.MEDIC_LEDGER_WRITER = 'medic-ledger-writer';
    const lambda = mockClient(LambdaClient);
    try {
      lambda.on(InvokeCommand).callsFake(async (input: { Payload: Uint8Array }) => {
        const entry = await writer(JSON.parse(Buffer.from(input.Payload).toString('utf8')));
        return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(entry)) };
      });
      const entry = await appendEntry(append('inc-5', { now: new Date('2026-11-29T11:00:00Z') }));
      const request = JSON.parse(Buffer.from(lambda.commandCalls(InvokeCommand)[0].args[0].input.Payload as Uint8Array).toString('utf8'));
      expect(lambda.commandCalls(InvokeCommand)[0].args[0].input.FunctionName).toBe('medic-ledger-writer');
      expect(request).toEqual({ append: { incidentId: 'inc-5', phase: 'received', runbook: 'api-restart', actor: 'test', detail: { n: 1 }, now: '2026-11-29T11:00:00.000Z' } });
      expect(entry).toMatchObject({ incidentId: 'inc-5', at: '2026-11-29T11:00:00.000Z' });
      expect(await readIncident(tables.ledger, 'inc-5')).toHaveLength(1);
    } finally {
      lambda.restore();
    }
  });

  test('the writer\'s error comes back by name (a fork, a DynamoDB failure), and an unreadable one as Medic.LedgerWriterFailed', async () => {
    process.env.MEDIC_LEDGER_WRITER = 'medic-ledger-writer';
    const lambda = mockClient(LambdaClient);
    try {
      lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from(JSON.stringify({ errorType: 'ConditionalCheckFailedException', errorMessage: 'The conditional request failed' })) as never });
      await expect(appendEntry(append('inc-6'))).rejects.toMatchObject({ name: 'ConditionalCheckFailedException', message: 'The conditional request failed' });
      lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('not json') as never });
      await expect(appendEntry(append('inc-6'))).rejects.toMatchObject({ name: 'Medic.LedgerWriterFailed', message: 'not json' });
      lambda.on(InvokeCommand).rejects(Object.assign(new Error('rate exceeded'), { name: 'TooManyRequestsException' }));
      await expect(appendEntry(append('inc-6'))).rejects.toMatchObject({ name: 'TooManyRequestsException' });
      expect(await readIncident(tables.ledger, 'inc-6')).toEqual([]);
    } finally {
      lambda.restore();
    }
  });
});
