import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { RecordedEvent } from '../events/catalogue.ts';
import { fromEventItem } from '../store/event-item.ts';
import { type ProjectorOptions, projectEvents, type UnitStore } from './projector.ts';

/**
 * How often a stream batch that the projector could not wholly project is tried again before its failed
 * records are set aside (to the failure queue in AWS, to a file locally) and the shard moves on.
 */
export const PROJECTOR_RETRY_ATTEMPTS = 10;

/** The new event in a stream record, or nothing for records the projector does not care about. */
export function eventOfRecord(
  record: Pick<DynamoDBRecord, 'eventName' | 'dynamodb'>,
): RecordedEvent | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  const item = unmarshall(image as Parameters<typeof unmarshall>[0]);
  if (item.kind !== 'event') return undefined;
  const { hash: _hash, ...event } = fromEventItem(item);
  return event as RecordedEvent;
}

/**
 * A Lambda stream batch through the projector. Records of streams that could not be projected are reported
 * as failures, so the event source mapping retries from the earliest of them (and bisects if need be).
 */
export async function projectStreamRecords(
  store: UnitStore,
  records: readonly DynamoDBRecord[],
  options: ProjectorOptions = {},
): Promise<DynamoDBBatchResponse> {
  const events: RecordedEvent[] = [];
  const sequenceOf = new Map<RecordedEvent, string>();
  for (const record of records) {
    const event = eventOfRecord(record);
    if (!event) continue;
    events.push(event);
    sequenceOf.set(event, record.dynamodb?.SequenceNumber ?? '');
  }
  const result = await projectEvents(store, events, options);
  return {
    batchItemFailures: events
      .filter((event) => result.failedStreams.has(event.stream))
      .map((event) => ({ itemIdentifier: sequenceOf.get(event) as string })),
  };
}
