import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandInput,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { batchGet } from '../../shared/store/batch-io.ts';

const dynamo = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'eu-west-1' });
const TABLE = 'projections';

afterEach(() => dynamo.reset());

const keyOf = (n: number): Record<string, AttributeValue> => ({ pk: { S: `unit#${n}` }, sk: { S: 'unit' } });
const keysOf = (input: unknown) => (input as BatchGetItemCommandInput).RequestItems?.[TABLE]?.Keys ?? [];
/** An item for every key asked for, as DynamoDB would find them. */
const found = (keys: Record<string, AttributeValue>[]) => keys.map((key) => ({ ...key, v: { N: '1' } }));

describe('batchGet', () => {
  it('reads any number of keys in chunks of 100, several chunks in flight at once', async () => {
    let open = 0;
    let maxOpen = 0;
    dynamo.on(BatchGetItemCommand).callsFake(async (input) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      await new Promise((resolve) => setTimeout(resolve, 10));
      open--;
      return { Responses: { [TABLE]: found(keysOf(input)) } };
    });
    const keys = Array.from({ length: 1_250 }, (_, n) => keyOf(n));

    const items = await batchGet(client, TABLE, keys);

    const sizes = dynamo.commandCalls(BatchGetItemCommand).map((call) => keysOf(call.args[0].input).length);
    expect(sizes).toEqual([...Array(12).fill(100), 50]);
    expect(items.map((item) => item.pk).sort()).toEqual(keys.map((key) => key.pk?.S).sort());
    // Side by side, but bounded: a replay of a large row must not open hundreds of calls at once.
    expect(maxOpen).toBe(8);
  });

  it('asks again for the keys DynamoDB left unprocessed, until every one is read', async () => {
    dynamo.on(BatchGetItemCommand).callsFake(async (input) => {
      const keys = keysOf(input);
      // Under load DynamoDB answers part of a batch and hands back the rest, without an error.
      const half = Math.ceil(keys.length / 2);
      return {
        Responses: { [TABLE]: found(keys.slice(0, half)) },
        UnprocessedKeys: keys.length > 1 ? { [TABLE]: { Keys: keys.slice(half) } } : {},
      };
    });
    const keys = Array.from({ length: 8 }, (_, n) => keyOf(n));

    const items = await batchGet(client, TABLE, keys);

    expect(items).toHaveLength(8);
    expect(new Set(items.map((item) => item.pk)).size).toBe(8);
    expect(dynamo.commandCalls(BatchGetItemCommand).map((call) => keysOf(call.args[0].input).length)).toEqual(
      [8, 4, 2, 1],
    );
  });

  it('reads nothing for no keys', async () => {
    expect(await batchGet(client, TABLE, [])).toEqual([]);
    expect(dynamo.commandCalls(BatchGetItemCommand)).toHaveLength(0);
  });
});
