import {
  type AttributeValue,
  type DynamoDBClient,
  ScanCommand,
  type ScanCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { listingOf } from '../projections/listing.ts';
import { decodeUnit } from './projection-store.ts';
import { TABLES } from './tables.ts';

const {
  partitionKey: PK,
  sortKey: SK,
  byKindIndex: BY_KIND,
  onTheWayIndex: ON_THE_WAY_INDEX,
} = TABLES.projections;

/**
 * Gives the unit items written before the listing index existed their index attributes, so that shipments,
 * regulations and licences projected by an older version are listed without a rebuild. Each update is
 * conditional on the unit's version: a unit the projector rewrote meanwhile already carries them. Safe to
 * run while the projector runs, and again.
 */
export async function backfillListing(
  client: DynamoDBClient,
  table: string,
): Promise<{ scanned: number; updated: number }> {
  let scanned = 0;
  let updated = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const out: ScanCommandOutput = await client.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(#pk, :unit) AND attribute_not_exists(#kpk)',
        ExpressionAttributeNames: { '#pk': PK, '#kpk': BY_KIND.partitionKey },
        ExpressionAttributeValues: marshall({ ':unit': 'unit#' }),
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) {
      scanned++;
      const native = unmarshall(item);
      const unit = decodeUnit(native);
      const entry = listingOf(unit);
      if (!entry) continue;
      try {
        const attributes: Record<string, string> = {
          [BY_KIND.partitionKey]: entry.kpk,
          [BY_KIND.sortKey]: entry.ksk,
          ...(entry.summary ? { summary: entry.summary } : {}),
          ...(entry.wpk ? { [ON_THE_WAY_INDEX.partitionKey]: entry.wpk } : {}),
        };
        const names = Object.keys(attributes);
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: marshall({ [PK]: native[PK], [SK]: native[SK] }),
            UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :a${i}`).join(', ')}`,
            ConditionExpression: '#v = :v',
            ExpressionAttributeNames: {
              '#v': 'version',
              ...Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
            },
            ExpressionAttributeValues: marshall({
              ':v': unit.version,
              ...Object.fromEntries(names.map((name, i) => [`:a${i}`, attributes[name]])),
            }),
          }),
        );
        updated++;
      } catch (error) {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      }
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return { scanned, updated };
}
