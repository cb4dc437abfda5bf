import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
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
      ],
      KeySchema: [
        { AttributeName: projections.partitionKey, KeyType: 'HASH' },
        { AttributeName: projections.sortKey, KeyType: 'RANGE' },
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

/** Creates whichever of the tables is missing; returns the names it created. */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const created: string[] = [];
  for (const definition of tableDefinitions(names)) {
    try {
      await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
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
