import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { ensureTables } from '../../shared/store/create-tables.ts';
import { createDynamoClient } from '../../shared/store/dynamo.ts';
import { type TableNames, tableNamesFor } from '../../shared/store/tables.ts';

export interface TestTables {
  client: DynamoDBClient;
  endpoint: string;
  names: TableNames;
  prefix: string;
  drop(): Promise<void>;
}

/** Fresh tables on the run's DynamoDB Local, under a prefix no other test uses. */
export async function createTestTables(label = 'test'): Promise<TestTables> {
  const endpoint = inject('dynamoEndpoint');
  const client = createDynamoClient({ endpoint });
  const prefix = `${label}-${randomUUID().slice(0, 8)}`;
  const names = tableNamesFor(prefix);
  await ensureTables(client, names);
  return {
    client,
    endpoint,
    names,
    prefix,
    async drop() {
      for (const table of Object.values(names)) {
        await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
      }
      client.destroy();
    },
  };
}
