import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { sleep } from '../util/clock.ts';

/**
 * BatchGetItem over any number of keys: chunks of 100, and unprocessed keys retried with backoff, since
 * DynamoDB may return part of a batch under load without raising an error.
 */
export async function batchGet(
  client: DynamoDBClient,
  table: string,
  keys: Record<string, AttributeValue>[],
  options: { consistent?: boolean; projection?: string; names?: Record<string, string> } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += 100) {
    let pending: Record<string, AttributeValue>[] | undefined = keys.slice(start, start + 100);
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
      if (attempt > 8) throw new Error('BatchGetItem left keys unprocessed after 8 retries');
      const out: BatchGetItemCommandOutput = await client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ConsistentRead: options.consistent,
              ProjectionExpression: options.projection,
              ExpressionAttributeNames: options.names,
            },
          },
        }),
      );
      for (const item of out.Responses?.[table] ?? []) items.push(unmarshall(item));
      pending = out.UnprocessedKeys?.[table]?.Keys;
    }
  }
  return items;
}

/** BatchWriteItem puts in chunks of 25 (duplicate keys dropped, as DynamoDB refuses them), unprocessed retried. */
export async function batchPut(
  client: DynamoDBClient,
  table: string,
  items: Record<string, unknown>[],
): Promise<void> {
  const unique = new Map(items.map((item) => [JSON.stringify([item.pk, item.sk]), item]));
  const all = [...unique.values()];
  for (let start = 0; start < all.length; start += 25) {
    let pending: WriteRequest[] | undefined = all
      .slice(start, start + 25)
      .map((item) => ({ PutRequest: { Item: marshall(item) } }));
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
      if (attempt > 8) throw new Error('BatchWriteItem left items unprocessed after 8 retries');
      const out: BatchWriteItemCommandOutput = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
      );
      pending = out.UnprocessedItems?.[table];
    }
  }
}
