import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => import('node:http').Server;

export interface LocalDynamoOptions {
  /** Keep the tables in this folder (LevelDB) between runs. @default - in memory */
  readonly path?: string;
  /** Point every SDK client of this process at it (`AWS_ENDPOINT_URL_DYNAMODB`). @default true */
  readonly setEndpointEnv?: boolean;
}

/**
 * A real DynamoDB API (dynalite) on loopback, in memory or persisted in a folder. The handlers
 * reach it through the SDK's standard `AWS_ENDPOINT_URL_DYNAMODB` setting, so their code is
 * unchanged. Used by the tests, the benchmark and the offline game day.
 */
export class LocalDynamo {
  private server?: import('node:http').Server;
  public endpoint = '';

  constructor(private readonly options: LocalDynamoOptions = {}) {}

  async start(): Promise<void> {
    this.server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(this.options.path ? { path: this.options.path } : {}) });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.endpoint = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    if (this.options.setEndpointEnv !== false) process.env.AWS_ENDPOINT_URL_DYNAMODB = this.endpoint;
  }

  /** A client of this endpoint; dynalite takes any credentials, so none are needed from the environment. */
  client(): DynamoDBClient {
    return new DynamoDBClient({ endpoint: this.endpoint, region: process.env.AWS_REGION ?? 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  }

  /**
   * Creates a table and returns once it is ACTIVE (dynalite answers CreateTable while the table
   * is still CREATING). With `ifMissing`, a persisted table that already exists is kept.
   */
  async createTable(input: CreateTableCommandInput, ifMissing = false): Promise<void> {
    const client = this.client();
    try {
      try {
        await client.send(new CreateTableCommand(input));
      } catch (error) {
        if (!ifMissing || (error as Error).name !== 'ResourceInUseException') throw error;
      }
      for (let attempt = 0; ; attempt++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
        if (Table?.TableStatus === 'ACTIVE') return;
        if (attempt >= 200) throw new Error(`table ${input.TableName} still ${Table?.TableStatus} after 200 polls`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      client.destroy();
    }
  }

  /** Deletes the named tables where they exist, and returns once they are gone. */
  async deleteTables(names: string[]): Promise<void> {
    const client = this.client();
    try {
      for (const TableName of names) {
        try {
          await client.send(new DeleteTableCommand({ TableName }));
        } catch (error) {
          if ((error as Error).name !== 'ResourceNotFoundException') throw error;
        }
        // dynalite answers DeleteTable while the table is still DELETING: wait until it is gone.
        for (let attempt = 0; ; attempt++) {
          try {
            await client.send(new DescribeTableCommand({ TableName }));
          } catch (error) {
            if ((error as Error).name === 'ResourceNotFoundException') break;
            throw error;
          }
          if (attempt >= 200) throw new Error(`table ${TableName} still there after 200 polls`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    } finally {
      client.destroy();
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

type CfnTableProps = {
  KeySchema: CreateTableCommandInput['KeySchema'];
  AttributeDefinitions: CreateTableCommandInput['AttributeDefinitions'];
  GlobalSecondaryIndexes?: Array<{ IndexName: string; KeySchema: unknown; Projection: unknown }>;
};

/** CreateTable input for a table as the synthesized template declares it (keys and indexes). */
export function tableFromTemplate(name: string, props: CfnTableProps): CreateTableCommandInput {
  return {
    TableName: name,
    KeySchema: props.KeySchema,
    AttributeDefinitions: props.AttributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: props.GlobalSecondaryIndexes?.map((gsi) => ({
      IndexName: gsi.IndexName,
      KeySchema: gsi.KeySchema as never,
      Projection: gsi.Projection as never,
    })),
  };
}

/**
 * The ledger and limiter tables' shapes, for tests that do not synthesize the stack; a template
 * test (test/constructs/platform.test.ts) keeps them equal to what the platform declares.
 */
export function ledgerTableInput(name: string): CreateTableCommandInput {
  const index = (indexName: string, hash: string) => ({
    IndexName: indexName,
    KeySchema: [{ AttributeName: hash, KeyType: 'HASH' as const }, { AttributeName: 'at', KeyType: 'RANGE' as const }],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: ['pk', 'sk', 'targetArn', 'day', 'at'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    GlobalSecondaryIndexes: [index('byTarget', 'targetArn'), index('byDay', 'day')],
  };
}

export function limiterTableInput(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  };
}
