import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
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
