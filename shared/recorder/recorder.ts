import type { SQSBatchResponse } from 'aws-lambda';
import { type ParsedDelivery, parseDelivery } from '../bus/envelope.ts';
import { streamOf } from '../events/catalogue.ts';
import { contentHash } from '../events/fingerprint.ts';
import type { Rejection, StoredEvent } from '../store/event-item.ts';
import type { BatchRecordOutcome } from '../store/event-store.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import { errorFields, type Logger } from '../util/logger.ts';

/** One message as SQS hands it to a Lambda (and as the local bus imitates it). */
export interface Delivery {
  messageId: string;
  body: string;
}

export interface EventWriter {
  recordAll(events: readonly StoredEvent[]): Promise<BatchRecordOutcome[]>;
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
  const outcomes = await recordAll(deps, clock, parsed);
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

type Outcome = { recordedAt: string } | 'done' | 'failed';

/**
 * Per delivery: its new `recordedAt`, `done` (a duplicate or a rejection) or `failed` (to be redelivered).
 * Valid events go to the store together; invalid ones are filed as rejections meanwhile.
 */
async function recordAll(
  deps: RecorderDeps,
  clock: Clock,
  parsed: readonly { delivery: Delivery; parsed: ParsedDelivery }[],
): Promise<Outcome[]> {
  const now = clock.now().toISOString();
  const outcomes: Promise<Outcome>[] = [];
  const events: StoredEvent[] = [];
  const positions: number[] = [];
  parsed.forEach(({ delivery, parsed: p }, index) => {
    if (!p.ok) {
      outcomes[index] = rejectInvalid(deps, delivery, p, now);
      return;
    }
    const { acceptedAt: _acceptedAt, ...event } = p.event;
    const stored = { ...event, stream: streamOf(event), recordedAt: now, hash: contentHash(event) };
    events.push(stored as StoredEvent);
    positions.push(index);
  });
  const written: BatchRecordOutcome[] =
    events.length === 0
      ? []
      : await deps.store
          .recordAll(events)
          .catch((error: unknown) => events.map(() => ({ kind: 'failed', error })));
  written.forEach((outcome, i) => {
    const index = positions[i] as number;
    outcomes[index] = settle(
      deps,
      parsed[index]?.delivery as Delivery,
      events[i] as StoredEvent,
      outcome,
      now,
    );
  });
  return Promise.all(outcomes);
}

/** What a write's outcome means for its delivery; a conflict is filed as a rejection of the newcomer. */
async function settle(
  deps: RecorderDeps,
  delivery: Delivery,
  event: StoredEvent,
  outcome: BatchRecordOutcome,
  now: string,
): Promise<Outcome> {
  try {
    if (outcome.kind === 'failed') throw outcome.error;
    if (outcome.kind === 'recorded') return { recordedAt: now };
    if (outcome.kind === 'conflict') {
      await deps.store.reject({
        eventId: event.eventId,
        reason: 'eventId was already recorded with other content, or from another partner',
        receivedAt: now,
        hash: event.hash,
        type: event.type,
        occurredAt: event.occurredAt,
        source: event.source,
        data: event.data,
      });
    }
    return 'done';
  } catch (error) {
    return failed(deps, delivery, error);
  }
}

/** Files a delivery that can never be recorded as a rejection, so that its sender can see why. */
async function rejectInvalid(
  deps: RecorderDeps,
  delivery: Delivery,
  p: Extract<ParsedDelivery, { ok: false }>,
  now: string,
): Promise<Outcome> {
  if (!p.eventId) {
    // Nothing to file it under: let it fail through to the dead-letter queue, where an operator sees it.
    deps.logger?.error('undeliverable message without an event id', { messageId: delivery.messageId });
    return 'failed';
  }
  const raw = p.raw ?? {};
  try {
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
  } catch (error) {
    return failed(deps, delivery, error);
  }
}

function failed(deps: RecorderDeps, delivery: Delivery, error: unknown): 'failed' {
  deps.logger?.warn('recording failed; will be redelivered', {
    messageId: delivery.messageId,
    ...errorFields(error),
  });
  return 'failed';
}
