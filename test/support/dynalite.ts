import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => import('node:http').Server;

/**
 * A real DynamoDB API (dynalite, in memory) on loopback. The handlers reach it through the
 * SDK's standard `AWS_ENDPOINT_URL_DYNAMODB` setting, so their code is unchanged.
 */
export class LocalDynamo {
  private server?: import('node:http').Server;
  public endpoint = '';

  async start(): Promise<void> {
    this.server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.endpoint = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = this.endpoint;
  }

  client(): DynamoDBClient {
    return new DynamoDBClient({ endpoint: this.endpoint });
  }

  /** Creates a table and returns once it is ACTIVE (dynalite answers CreateTable while the table is still CREATING). */
  async createTable(input: CreateTableCommandInput): Promise<void> {
    const client = this.client();
    try {
      await client.send(new CreateTableCommand(input));
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
