import {
  type AttributeValue,
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { fromAttributes, toAttributes } from '../../shared/projector/rebuild.ts';
import { BatchWriter } from '../../shared/store/batch-io.ts';

const dynamo = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'eu-west-1' });
const TABLE = 'projections';

afterEach(() => dynamo.reset());

const item = (n: number): Record<string, AttributeValue> => ({
  pk: { S: `row#${n % 3}` },
  sk: { S: `s-${n}` },
});
const sentRequests = (): WriteRequest[][] =>
  dynamo
    .commandCalls(BatchWriteItemCommand)
    .map((call) => (call.args[0].input as BatchWriteItemCommandInput).RequestItems?.[TABLE] ?? []);

/** DynamoDB answering each call after `ms`, counting how many calls are open at once. */
function slowDynamo(ms: number) {
  let open = 0;
  const seen = { maxOpen: 0 };
  dynamo.on(BatchWriteItemCommand).callsFake(async () => {
    open++;
    seen.maxOpen = Math.max(seen.maxOpen, open);
    await new Promise((resolve) => setTimeout(resolve, ms));
    open--;
    return {};
  });
  return seen;
}

describe('BatchWriter', () => {
  it('sends batches of 25 as they fill, at most `concurrency` at once, every item once', async () => {
    const seen = slowDynamo(5);
    const writer = new BatchWriter(client, TABLE, 3);
    for (let n = 0; n < 110; n++) writer.put(item(n));
    expect(writer.backlog).toBe(110);
    await writer.flush();
    expect(sentRequests().map((r) => r.length)).toEqual([25, 25, 25, 25, 10]);
    const keys = sentRequests()
      .flat()
      .map((r) => r.PutRequest?.Item?.sk?.S);
    expect(new Set(keys).size).toBe(110);
    expect(writer.written).toBe(110);
    expect(writer.backlog).toBe(0);
    expect(seen.maxOpen).toBe(3);
  });

  it('holds a short batch back for more items until someone waits', async () => {
    slowDynamo(0);
    const writer = new BatchWriter(client, TABLE, 4);
    for (let n = 0; n < 30; n++) writer.put(item(n));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sentRequests().map((r) => r.length)).toEqual([25]);
    expect(writer.backlog).toBe(5);
    await writer.drained(0);
    expect(sentRequests().map((r) => r.length)).toEqual([25, 5]);
  });

  it('waits in `drained` until the backlog is down to what was asked', async () => {
    slowDynamo(5);
    const writer = new BatchWriter(client, TABLE, 1);
    for (let n = 0; n < 100; n++) writer.put(item(n));
    await writer.drained(50);
    expect(writer.backlog).toBeLessThanOrEqual(50);
    expect(writer.written).toBeGreaterThanOrEqual(50);
    // Wanting fewer waiting than a batch holds sends the rest however short.
    await writer.drained(10);
    expect(writer.written).toBeGreaterThanOrEqual(90);
    await writer.flush();
    expect(writer.written).toBe(100);
  });

  it('sends deletes as well as puts', async () => {
    slowDynamo(0);
    const writer = new BatchWriter(client, TABLE);
    writer.put(item(1));
    writer.delete(item(2));
    await writer.flush();
    expect(sentRequests()).toEqual([
      [{ PutRequest: { Item: item(1) } }, { DeleteRequest: { Key: item(2) } }],
    ]);
  });

  it('retries what DynamoDB leaves unprocessed', async () => {
    dynamo
      .on(BatchWriteItemCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: [{ PutRequest: { Item: item(7) } }] } })
      .resolves({});
    const writer = new BatchWriter(client, TABLE);
    for (let n = 0; n < 25; n++) writer.put(item(n));
    await writer.flush();
    expect(sentRequests()[1]).toEqual([{ PutRequest: { Item: item(7) } }]);
    expect(writer.written).toBe(25);
  });

  it('stops at the first failure: flush, drained and later puts all give it', async () => {
    const failure = Object.assign(new Error('no such table'), { name: 'ResourceNotFoundException' });
    dynamo.on(BatchWriteItemCommand).rejects(failure);
    const writer = new BatchWriter(client, TABLE, 2);
    for (let n = 0; n < 80; n++) writer.put(item(n));
    await expect(writer.flush()).rejects.toBe(failure);
    await expect(writer.drained()).rejects.toBe(failure);
    expect(() => writer.put(item(99))).toThrow(failure);
    // The two requests under way when it failed, and nothing after.
    expect(sentRequests()).toHaveLength(2);
  });

  it('flushes an empty writer at once', async () => {
    const writer = new BatchWriter(client, TABLE);
    await writer.flush();
    expect(sentRequests()).toEqual([]);
  });
});

/** What event items hold: strings, numbers `marshall` takes, booleans, nulls, and lists and maps of them. */
const { value: attributeValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 }),
  ),
}));

describe('fromAttributes and toAttributes', () => {
  it('read any event-like item exactly as unmarshall does', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), attributeValue, { minKeys: 1 }), (native) => {
        const item = marshall(native);
        expect(fromAttributes(item)).toStrictEqual(unmarshall(item));
      }),
      { numRuns: 500 },
    );
  });

  it('leave numbers beyond what a double holds exactly to unmarshall (which makes them BigInt)', () => {
    const item = { big: { N: '12345678901234567890' }, set: { SS: ['a', 'b'] } };
    expect(fromAttributes(item)).toStrictEqual(unmarshall(item));
  });

  it('read own attributes only, as unmarshall does (a "__proto__" key can give a map a prototype)', () => {
    const item: Record<string, AttributeValue> = Object.create({ inherited: { S: 'no' } });
    item.own = { S: 'yes' };
    expect(fromAttributes(item)).toStrictEqual({ own: 'yes' });
    expect(unmarshall(item)).toStrictEqual({ own: 'yes' });
  });

  it('write flat items of strings and numbers exactly as marshall does, and refuse what it refuses', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string(),
          fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
          { minKeys: 1 },
        ),
        (flat) => {
          let expected: unknown;
          try {
            expected = marshall(flat);
          } catch (error) {
            expect(() => toAttributes(flat)).toThrow((error as Error).message);
            return;
          }
          expect(toAttributes(flat)).toStrictEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, undefined]) {
      expect(() => toAttributes({ bad })).toThrow();
    }
  });
});
