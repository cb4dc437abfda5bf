import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  UpdateTableCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type TableNames } from './tables.ts';

/**
 * The three tables as `CreateTable` inputs, for DynamoDB Local and the tests; the CDK stack declares the
 * same keys from the same constants.
 */
export function tableDefinitions(names: TableNames): CreateTableCommandInput[] {
  const { events, projections, keys } = TABLES;
  return [
    {
      TableName: names.events,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: events.partitionKey, AttributeType: 'S' },
        { AttributeName: events.sortKey, AttributeType: 'S' },
        { AttributeName: events.byTimeIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: events.byTimeIndex.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: events.partitionKey, KeyType: 'HASH' },
        { AttributeName: events.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: events.byTimeIndex.name,
          KeySchema: [
            { AttributeName: events.byTimeIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: events.byTimeIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    },
    {
      TableName: names.projections,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: projections.partitionKey, AttributeType: 'S' },
        { AttributeName: projections.sortKey, AttributeType: 'S' },
        { AttributeName: projections.byKindIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: projections.byKindIndex.sortKey, AttributeType: 'S' },
        { AttributeName: projections.onTheWayIndex.partitionKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: projections.partitionKey, KeyType: 'HASH' },
        { AttributeName: projections.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        includeIndex(projections.byKindIndex),
        includeIndex(projections.onTheWayIndex),
      ],
    },
    {
      TableName: names.keys,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: keys.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: keys.partitionKey, KeyType: 'HASH' }],
    },
  ];
}

/** A sparse index of the projections table that projects only its keys and `summary`. */
function includeIndex(index: {
  name: string;
  partitionKey: string;
  sortKey: string;
  projected: readonly string[];
}): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' },
      { AttributeName: index.sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projected] },
  };
}

async function untilIndexActive(client: DynamoDBClient, table: string, index: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    const status = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index)?.IndexStatus;
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline)
      throw new Error(`index ${index} of ${table} is still ${status} after 2 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Creates whichever of the tables is missing, and adds any index a table made by an earlier version lacks
 * (a local `.data/` from before the index); returns the names it created or changed.
 */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const created: string[] = [];
  for (const definition of tableDefinitions(names)) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
      const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
      const missing = (definition.GlobalSecondaryIndexes ?? []).filter(
        (index) => !existing.has(index.IndexName),
      );
      for (const index of missing) {
        await client.send(
          new UpdateTableCommand({
            TableName: definition.TableName,
            AttributeDefinitions: definition.AttributeDefinitions,
            GlobalSecondaryIndexUpdates: [{ Create: index }],
          }),
        );
        // A table takes one index change at a time, and fills a new index from its items first.
        await untilIndexActive(client, definition.TableName as string, index.IndexName as string);
      }
      if (missing.length > 0) created.push(definition.TableName as string);
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
      try {
        await client.send(new CreateTableCommand(definition));
      } catch (createError) {
        // Another process made it between our look and our create: that is what we wanted.
        if ((createError as { name?: string }).name !== 'ResourceInUseException') throw createError;
      }
      await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: definition.TableName });
      created.push(definition.TableName as string);
    }
  }
  return created;
}
