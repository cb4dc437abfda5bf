import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ensureTables, tableDefinitions } from '../../shared/store/create-tables.ts';
import { createDynamoClient } from '../../shared/store/dynamo.ts';
import { TABLES, tableNamesFor } from '../../shared/store/tables.ts';

const client = createDynamoClient({ endpoint: inject('dynamoEndpoint') });
const names = tableNamesFor(`upgrade-${randomUUID().slice(0, 8)}`);
afterAll(async () => {
  for (const table of Object.values(names))
    await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  client.destroy();
});

describe('ensureTables', () => {
  it('adds the listing indexes to a projections table made before them, and leaves current tables alone', async () => {
    // The projections table as versions before the listing index made it.
    const { GlobalSecondaryIndexes: _index, ...old } = tableDefinitions(names)[1] as NonNullable<
      ReturnType<typeof tableDefinitions>[number]
    >;
    await client.send(
      new CreateTableCommand({
        ...old,
        AttributeDefinitions: old.AttributeDefinitions?.filter((a) =>
          ['pk', 'sk'].includes(a.AttributeName as string),
        ),
      }),
    );

    expect((await ensureTables(client, names)).sort()).toEqual(
      [names.events, names.keys, names.projections].sort(),
    );
    const { Table } = await client.send(new DescribeTableCommand({ TableName: names.projections }));
    const indexes = Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.Projection?.NonKeyAttributes]);
    expect(indexes?.sort()).toEqual([
      [TABLES.projections.byKindIndex.name, ['summary']],
      [TABLES.projections.onTheWayIndex.name, ['summary']],
    ]);
    expect(await ensureTables(client, names)).toEqual([]);
  });
});
