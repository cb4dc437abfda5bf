import { type AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUnits, itemBytes, transactionIndexUnits } from '../../scripts/bench/capacity-meter.ts';
import { openingBalances, recordedRange } from '../../scripts/bench/events.ts';
import { contentHash } from '../../shared/events/fingerprint.ts';
import type { UnitEvent } from '../../shared/projections/unit.ts';
import { toEventItem } from '../../shared/store/event-item.ts';
import { encodeUnit } from '../../shared/store/projection-store.ts';
import { createTestTables, type TestTables } from '../support/dynamo.ts';

/*
 * DynamoDB Local reports no consumed capacity for PartiQL batches, so the bench counts the recorder's INSERTs
 * itself. Checked here against what DynamoDB Local reports for a PutItem of the same items.
 */

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables('capacity');
});
afterAll(() => tables.drop());

const items = [...openingBalances('CAP').slice(0, 2), ...recordedRange(0, 12, 'CAP')].map((event) =>
  marshall(toEventItem({ ...event, hash: contentHash(event) }), { removeUndefinedValues: true }),
);
// A large item too: a 3 KiB note spills over into more units.
items.push({ ...(items[0] as Record<string, never>), pk: { S: 'CAP-big' }, note: { S: 'x'.repeat(3_000) } });

describe('the bench capacity meter', () => {
  it('counts the write units of an INSERT as DynamoDB charges a PutItem of the same item', async () => {
    for (const item of items) {
      const out = await tables.client.send(
        new PutItemCommand({ TableName: tables.names.events, Item: item, ReturnConsumedCapacity: 'TOTAL' }),
      );
      const names = Object.keys(item);
      const statement = {
        Statement: `INSERT INTO "t" VALUE {${names.map((n) => `'${n}': ?`).join(', ')}}`,
        Parameters: names.map((n) => item[n] as AttributeValue),
      };
      const estimated = insertUnits({ Statements: [statement] }, { Responses: [{}], $metadata: {} });
      expect(estimated, `${item.pk?.S}: ${itemBytes(item)} bytes`).toBe(out.ConsumedCapacity?.CapacityUnits);
    }
  });

  it("counts a transaction's index writes as DynamoDB Local reports them for a PutItem", async () => {
    const dispatched = recordedRange(0, 1, 'CAP').map(({ stream: _, ...event }) => event as UnitEvent);
    const units = [
      encodeUnit({ stream: 'shipment:CAP-SH-0', version: 1, events: dispatched, applied: {} }), // on its way
      encodeUnit({ stream: 'shipment:CAP-1', version: 1, events: [], applied: {} }), // listed only
      encodeUnit({ stream: 'allocation:CAP-1', version: 1, events: [], applied: {} }), // in no index
    ];
    const reported: number[] = [];
    for (const unit of units) {
      const item = marshall(unit, { removeUndefinedValues: true });
      const put = await tables.client.send(
        new PutItemCommand({
          TableName: tables.names.projections,
          Item: item,
          ReturnConsumedCapacity: 'INDEXES',
        }),
      );
      const indexes = Object.values(put.ConsumedCapacity?.GlobalSecondaryIndexes ?? {});
      reported.push(indexes.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0));
      const estimated = transactionIndexUnits({ TransactItems: [{ Put: { TableName: 'p', Item: item } }] });
      expect(estimated, unit.stream as string).toBe(reported.at(-1));
    }
    expect(reported).toEqual([2, 1, 0]);
  });

  it('charges nothing for a statement that failed', () => {
    const statement = { Statement: `INSERT INTO "t" VALUE {'pk': ?}`, Parameters: [{ S: 'a' }] };
    const failed = { Responses: [{ Error: { Code: 'DuplicateItem' as const } }], $metadata: {} };
    expect(insertUnits({ Statements: [statement] }, failed)).toBe(0);
  });
});
