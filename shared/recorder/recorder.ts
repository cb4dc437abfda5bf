import type { SQSBatchResponse } from 'aws-lambda';
import { type ParsedDelivery, parseDelivery } from '../bus/envelope.ts';
import { streamOf } from '../events/catalogue.ts';
import { contentHash } from '../events/fingerprint.ts';
import type { Rejection, StoredEvent } from '../store/event-item.ts';
import type { RecordOutcome } from '../store/event-store.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import { errorFields, type Logger } from '../util/logger.ts';

/** One message as SQS hands it to a Lambda (and as the local bus imitates it). */
export interface Delivery {
  messageId: string;
  body: string;
}

export interface EventWriter {
  record(event: StoredEvent): Promise<RecordOutcome>;
  reject(rejection: Rejection): Promise<void>;
  noteMonths(occurredAts: readonly string[]): Promise<void>;
  countRecorded(count: number, lastRecordedAt: string): Promise<void>;
}

export interface RecorderDeps {
  store: EventWriter;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Writes a batch of bus deliveries to the event store, each exactly once. A delivery that fails for a
 * passing reason (throttling, an outage) is reported back so that only it is delivered again; a delivery
 * that can never be recorded is stored as a rejection, so that its sender can see why.
 */
export async function recordDeliveries(
  deps: RecorderDeps,
  deliveries: readonly Delivery[],
): Promise<SQSBatchResponse> {
  const clock = deps.clock ?? systemClock;
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  const parsed = deliveries.map((d) => ({ delivery: d, parsed: parseDelivery(d.body) }));

  try {
    await deps.store.noteMonths(parsed.flatMap(({ parsed: p }) => (p.ok ? [p.event.occurredAt] : [])));
  } catch (error) {
    deps.logger?.warn('recorder could not note months; the whole batch will be retried', errorFields(error));
    return { batchItemFailures: deliveries.map((d) => ({ itemIdentifier: d.messageId })) };
  }

  // Messages are independent (each write is conditional on its own key), so the batch is written at once.
  const outcomes = await Promise.all(
    parsed.map(({ delivery, parsed: p }) => recordOne(deps, clock, delivery, p)),
  );
  let recorded = 0;
  let lastRecordedAt = '';
  outcomes.forEach((outcome, i) => {
    if (outcome === 'failed') failures.push({ itemIdentifier: (deliveries[i] as Delivery).messageId });
    else if (outcome !== 'done') {
      recorded += 1;
      if (outcome.recordedAt > lastRecordedAt) lastRecordedAt = outcome.recordedAt;
    }
  });
  if (recorded > 0) {
    try {
      await deps.store.countRecorded(recorded, lastRecordedAt);
    } catch (error) {
      // @debt the count is operational only: it can miss events (this failure, or a write whose answer was
      // lost and whose redelivery is then a duplicate) but never counts one twice. Exact counts would need a
      // transaction per event, doubling the recorder's write cost.
      deps.logger?.error('could not count recorded events', errorFields(error));
    }
  }
  return { batchItemFailures: failures };
}

/** Records one delivery: its new `recordedAt`, `done` (duplicate, rejection) or `failed` (to be redelivered). */
async function recordOne(
  deps: RecorderDeps,
  clock: Clock,
  delivery: Delivery,
  p: ParsedDelivery,
): Promise<{ recordedAt: string } | 'done' | 'failed'> {
  const now = clock.now().toISOString();
  try {
    if (!p.ok) {
      if (!p.eventId) {
        // Nothing to file it under: let it fail through to the dead-letter queue, where an operator sees it.
        deps.logger?.error('undeliverable message without an event id', { messageId: delivery.messageId });
        return 'failed';
      }
      const raw = p.raw ?? {};
      await deps.store.reject({
        eventId: p.eventId,
        reason: p.reason,
        receivedAt: now,
        hash: contentHash({
          type: String(raw.type),
          occurredAt: String(raw.occurredAt),
          data: raw.data,
          source: String(raw.source),
        }),
        type: typeof raw.type === 'string' ? raw.type : undefined,
        source: typeof raw.source === 'string' ? raw.source : undefined,
      });
      return 'done';
    }
    const { acceptedAt: _acceptedAt, ...event } = p.event;
    const hash = contentHash(event);
    const stored = { ...event, stream: streamOf(event), recordedAt: now, hash } as StoredEvent;
    const outcome = await deps.store.record(stored);
    if (outcome.kind === 'recorded') return { recordedAt: now };
    if (outcome.kind === 'conflict') {
      await deps.store.reject({
        eventId: event.eventId,
        reason: 'eventId was already recorded with different content',
        receivedAt: now,
        hash,
        type: event.type,
        occurredAt: event.occurredAt,
        source: event.source,
        data: event.data,
      });
    }
  } catch (error) {
    deps.logger?.warn('recording failed; will be redelivered', {
      messageId: delivery.messageId,
      ...errorFields(error),
    });
    return 'failed';
  }
  return 'done';
}
