import type { RecordedEvent } from '../events/catalogue.ts';
import { TABLES } from './tables.ts';

/** What the events table holds beside the event: its content hash, for idempotency. */
export type StoredEvent = RecordedEvent & { hash: string };

export const EVENT_SK = 'event';
export const REJECTION_SK_PREFIX = 'rejection#';
const { partitionKey, sortKey, byTimeIndex } = TABLES.events;

/** Month buckets spread the time index over partitions while keeping a month's events in one ordered run. */
export const monthBucket = (occurredAt: string): string => `m#${occurredAt.slice(0, 7)}`;
export const timeSortKey = (occurredAt: string, eventId: string): string => `${occurredAt}#${eventId}`;

export function toEventItem(event: StoredEvent): Record<string, unknown> {
  return {
    [partitionKey]: event.eventId,
    [sortKey]: EVENT_SK,
    kind: 'event',
    eventId: event.eventId,
    type: event.type,
    stream: event.stream,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    source: event.source,
    data: event.data,
    hash: event.hash,
    [byTimeIndex.partitionKey]: monthBucket(event.occurredAt),
    [byTimeIndex.sortKey]: timeSortKey(event.occurredAt, event.eventId),
  };
}

/** The inverse of `toEventItem`; the store is trusted, so the shape is taken as written. */
export function fromEventItem(item: Record<string, unknown>): StoredEvent {
  return {
    eventId: item.eventId,
    type: item.type,
    stream: item.stream,
    occurredAt: item.occurredAt,
    recordedAt: item.recordedAt,
    source: item.source,
    data: item.data,
    hash: item.hash,
  } as StoredEvent;
}

export interface Rejection {
  eventId: string;
  reason: string;
  receivedAt: string;
  hash: string;
  type?: string;
  occurredAt?: string;
  source?: string;
  data?: unknown;
}

export function toRejectionItem(rejection: Rejection): Record<string, unknown> {
  return {
    [partitionKey]: rejection.eventId,
    [sortKey]: `${REJECTION_SK_PREFIX}${rejection.hash}`,
    kind: 'rejection',
    ...rejection,
  };
}
