import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  type ScanCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLES } from '../store/tables.ts';
import type { ApiKeyRecord } from './keys.ts';

const PK = TABLES.keys.partitionKey;

export interface KeyReader {
  get(keyId: string): Promise<ApiKeyRecord | undefined>;
}

/** API keys in their own small table, so that only the key CLI and the API's read touch them. */
export class DynamoDBKeyStore implements KeyReader {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async get(keyId: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall({ [PK]: keyId }) }),
    );
    return out.Item ? (unmarshall(out.Item) as ApiKeyRecord) : undefined;
  }

  /** Creates or replaces a key (replacing is how the local runtime keeps its dev keys' scopes current). */
  async put(record: ApiKeyRecord): Promise<void> {
    await this.client.send(
      new PutItemCommand({ TableName: this.table, Item: marshall(record, { removeUndefinedValues: true }) }),
    );
  }

  /** Admin listing: a scan is fine for a table of a few keys, and it is never on a request path. */
  async list(): Promise<ApiKeyRecord[]> {
    const records: ApiKeyRecord[] = [];
    let startKey: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const out: ScanCommandOutput = await this.client.send(
        new ScanCommand({ TableName: this.table, ExclusiveStartKey: startKey }),
      );
      for (const item of out.Items ?? []) records.push(unmarshall(item) as ApiKeyRecord);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Returns false when there is no such key. */
  async revoke(keyId: string, at: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ [PK]: keyId }),
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: marshall({ ':at': at.toISOString() }),
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
