import {
  BatchExecuteStatementCommand,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AcceptedEvent, type BusEnvelope, toBusEntry } from '../../shared/bus/envelope.ts';
import { type DomainEvent, EventInput } from '../../shared/events/catalogue.ts';
import { type Delivery, recordDeliveries } from '../../shared/recorder/recorder.ts';
import { DynamoDBEventStore } from '../../shared/store/event-store.ts';
import type { Clock } from '../../shared/util/clock.ts';
import { createTestTables, type TestTables } from '../support/dynamo.ts';

const RECORDED_AT = '2025-05-01T12:00:00.000Z';
const clock: Clock = { now: () => new Date(RECORDED_AT) };

let tables: TestTables;
let store: DynamoDBEventStore;
let messages = 0;

// Every test gets tables of its own, so that the recorded count starts at zero.
beforeEach(async () => {
  tables = await createTestTables('recorder');
  store = new DynamoDBEventStore(tables.client, tables.names.events);
});
afterEach(() => tables.drop());

/** An event as the API hands it to the bus: validated, with its sender and acceptance time. */
function accepted(
  eventId: string,
  overrides: Partial<{ quantity: number; source: string; acceptedAt: string }> = {},
): AcceptedEvent {
  const parsed = EventInput.parse({
    eventId,
    type: 'shipment.dispatched',
    occurredAt: '2025-03-02T08:00:00+08:00',
    data: {
      shipmentId: `SH-${eventId}`,
      sku: 'H20',
      quantity: overrides.quantity ?? 128,
      exporter: 'nvidia',
      origin: { country: 'TW' },
      destination: { country: 'CN', providerId: 'alibaba-cloud' },
    },
  }) as DomainEvent;
  return {
    ...parsed,
    eventId,
    source: overrides.source ?? 'acme',
    acceptedAt: overrides.acceptedAt ?? '2025-05-01T11:59:00.000Z',
  };
}

/** EventBridge's envelope around an entry, as the rule's SQS target delivers it. */
function envelopeOf(event: AcceptedEvent, id = `bus-${event.eventId}`): BusEnvelope {
  const entry = toBusEntry(event, 'h20-tracker-test');
  return {
    version: '0',
    id,
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: '123456789012',
    time: '2025-05-01T11:59:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: JSON.parse(entry.Detail) as unknown,
  };
}

const delivery = (body: unknown): Delivery => ({
  messageId: `msg-${++messages}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const deliveryOf = (event: AcceptedEvent): Delivery => delivery(envelopeOf(event));

describe('recordDeliveries on DynamoDB', () => {
  it('records a delivered event once, with its stream derived and recordedAt set', async () => {
    const event = accepted('EV-1');

    const response = await recordDeliveries({ store, clock }, [deliveryOf(event)]);

    expect(response.batchItemFailures).toEqual([]);
    const found = await store.find('EV-1');
    expect(found.rejections).toEqual([]);
    expect(found.event).toMatchObject({
      eventId: 'EV-1',
      type: 'shipment.dispatched',
      occurredAt: '2025-03-02T00:00:00.000Z',
      source: 'acme',
      stream: 'shipment:SH-EV-1',
      recordedAt: RECORDED_AT,
      data: event.data,
    });
    // acceptedAt is transport metadata, not part of the recorded fact.
    expect(found.event).not.toHaveProperty('acceptedAt');
    const stats = await store.stats();
    expect(stats.eventsRecorded).toBe(1);
    expect(stats.lastRecordedAt).toBe(RECORDED_AT);
    expect(stats.months).toEqual(['2025-03']);
  });

  it('records an event accepted under earlier rules: control characters in free text are refused at the API only', async () => {
    // Before the API refused them, a site with a NUL or text of spaces only got a 202; a copy still on the bus
    // (or in the dead-letter queue) when the rule came must be recorded, not lost.
    const event = accepted('EV-OLD');
    const data = event.data as { destination: Record<string, unknown> };
    data.destination.site = 'Zhangbei\u0000 hall 2';

    const response = await recordDeliveries({ store, clock }, [deliveryOf(event)]);

    expect(response.batchItemFailures).toEqual([]);
    const found = await store.find('EV-OLD');
    expect(found.rejections).toEqual([]);
    expect(found.event?.data).toEqual(event.data);
  });

  it('records a message delivered twice in one batch once, and counts it once', async () => {
    const message = deliveryOf(accepted('EV-2'));

    const response = await recordDeliveries({ store, clock }, [
      message,
      { ...message, messageId: 'msg-again' },
    ]);

    expect(response.batchItemFailures).toEqual([]);
    expect((await store.find('EV-2')).rejections).toEqual([]);
    expect((await store.stats()).eventsRecorded).toBe(1);
  });

  it('records a message redelivered in a later batch once, and counts it once', async () => {
    const message = deliveryOf(accepted('EV-3'));

    await recordDeliveries({ store, clock }, [message]);
    const later: Clock = { now: () => new Date('2025-05-01T12:05:00.000Z') };
    const response = await recordDeliveries({ store, clock: later }, [message]);

    expect(response.batchItemFailures).toEqual([]);
    const found = await store.find('EV-3');
    expect(found.event?.recordedAt).toBe(RECORDED_AT);
    expect(found.rejections).toEqual([]);
    expect((await store.stats()).eventsRecorded).toBe(1);
  });

  it('treats a partner resending the same event (new bus id, new acceptedAt) as a duplicate', async () => {
    const first = envelopeOf(accepted('EV-4'), 'bus-a');
    const resent = envelopeOf(accepted('EV-4', { acceptedAt: '2025-05-01T11:59:30.000Z' }), 'bus-b');

    const response = await recordDeliveries({ store, clock }, [delivery(first), delivery(resent)]);

    expect(response.batchItemFailures).toEqual([]);
    expect((await store.find('EV-4')).rejections).toEqual([]);
    expect((await store.stats()).eventsRecorded).toBe(1);
  });

  it('stores a rejection with a reason for a reused eventId with other content, leaving the original untouched', async () => {
    const original = accepted('EV-5');
    await recordDeliveries({ store, clock }, [deliveryOf(original)]);

    const response = await recordDeliveries({ store, clock }, [
      deliveryOf(accepted('EV-5', { quantity: 999 })),
    ]);

    expect(response.batchItemFailures).toEqual([]);
    const found = await store.find('EV-5');
    expect(found.event?.data).toEqual(original.data);
    expect(found.event?.recordedAt).toBe(RECORDED_AT);
    expect(found.rejections).toHaveLength(1);
    expect(found.rejections[0]).toMatchObject({
      eventId: 'EV-5',
      reason: expect.stringMatching(/other content, or from another partner/),
      type: 'shipment.dispatched',
      source: 'acme',
      receivedAt: RECORDED_AT,
    });
    expect(found.rejections[0]?.data).toMatchObject({ quantity: 999 });
    expect((await store.stats()).eventsRecorded).toBe(1);
  });

  it('treats the same eventId from another partner as a conflict, never a silent merge', async () => {
    await recordDeliveries({ store, clock }, [deliveryOf(accepted('EV-6', { source: 'acme' }))]);

    await recordDeliveries({ store, clock }, [deliveryOf(accepted('EV-6', { source: 'globex' }))]);

    const found = await store.find('EV-6');
    expect(found.event?.source).toBe('acme');
    expect(found.rejections.map((r) => r.source)).toEqual(['globex']);
  });

  it('stores a redelivered conflicting message as one rejection', async () => {
    await recordDeliveries({ store, clock }, [deliveryOf(accepted('EV-7'))]);
    const conflicting = deliveryOf(accepted('EV-7', { quantity: 3 }));

    await recordDeliveries({ store, clock }, [conflicting]);
    await recordDeliveries({ store, clock }, [conflicting]);

    expect((await store.find('EV-7')).rejections).toHaveLength(1);
  });

  it('stores a rejection with a reason for an invalid payload that has an eventId, and does not fail the batch', async () => {
    const envelope = envelopeOf(accepted('EV-8'));
    const detail = envelope.detail as { data: Record<string, unknown> };
    detail.data.quantity = 0;
    const message = delivery(envelope);

    const response = await recordDeliveries({ store, clock }, [message]);

    expect(response.batchItemFailures).toEqual([]);
    const found = await store.find('EV-8');
    expect(found.event).toBeUndefined();
    expect(found.rejections).toHaveLength(1);
    expect(found.rejections[0]).toMatchObject({
      eventId: 'EV-8',
      reason: expect.stringMatching(/quantity/),
      type: 'shipment.dispatched',
      source: 'acme',
    });
    expect((await store.stats()).eventsRecorded).toBe(0);
  });

  it('stores a rejection for a detail whose source is missing, since anyone with PutEvents could send it', async () => {
    const envelope = envelopeOf(accepted('EV-9'));
    delete (envelope.detail as { source?: string }).source;

    const response = await recordDeliveries({ store, clock }, [delivery(envelope)]);

    expect(response.batchItemFailures).toEqual([]);
    const found = await store.find('EV-9');
    expect(found.event).toBeUndefined();
    expect(found.rejections[0]?.reason).toMatch(/source/);
  });

  it('reports a body that is not JSON as a batch item failure and still records the others', async () => {
    const garbage = delivery('{not json');
    const good = deliveryOf(accepted('EV-10'));

    const response = await recordDeliveries({ store, clock }, [garbage, good]);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: garbage.messageId }]);
    expect((await store.find('EV-10')).event).toBeDefined();
    expect((await store.stats()).eventsRecorded).toBe(1);
  });

  it('reports a message without a detail or an eventId as a batch item failure, for the dead-letter queue', async () => {
    const noDetail = delivery({ version: '0', id: 'x', source: 'h20-tracker.api' });
    const noId = delivery({ ...envelopeOf(accepted('EV-11')), detail: { type: 'shipment.released' } });

    const response = await recordDeliveries({ store, clock }, [noDetail, noId]);

    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: noDetail.messageId },
      { itemIdentifier: noId.messageId },
    ]);
  });
});

describe('recordDeliveries when writes fail', () => {
  /**
   * A client of its own on which DynamoDB throttles the write of one event (the statement's own error in a
   * `BatchExecuteStatement` answer, as DynamoDB reports it); every other write goes to DynamoDB Local.
   * Mocking a separate instance leaves the suite's client, used for the assertions, untouched.
   */
  function throttledStoreFor(throttledId: string): DynamoDBEventStore {
    const client = new DynamoDBClient({ region: 'local' });
    const mock = mockClient(client);
    mock
      .on(BatchExecuteStatementCommand)
      .callsFake(async (input: ConstructorParameters<typeof BatchExecuteStatementCommand>[0]) => {
        const statements = input.Statements ?? [];
        const throttled = statements.map((st) => st.Parameters?.[0]?.S === throttledId);
        const passed = statements.filter((_, i) => !throttled[i]);
        const out = passed.length
          ? await tables.client.send(new BatchExecuteStatementCommand({ Statements: passed }))
          : { Responses: [] };
        const answers = [...(out.Responses ?? [])];
        return {
          Responses: throttled.map((isThrottled) =>
            isThrottled
              ? { Error: { Code: 'ProvisionedThroughputExceeded', Message: 'Throughput exceeds the limit' } }
              : answers.shift(),
          ),
        };
      });
    mock
      .on(PutItemCommand)
      .callsFake((input: ConstructorParameters<typeof PutItemCommand>[0]) =>
        tables.client.send(new PutItemCommand(input)),
      );
    mock
      .on(GetItemCommand)
      .callsFake((input: ConstructorParameters<typeof GetItemCommand>[0]) =>
        tables.client.send(new GetItemCommand(input)),
      );
    mock
      .on(UpdateItemCommand)
      .callsFake((input: ConstructorParameters<typeof UpdateItemCommand>[0]) =>
        tables.client.send(new UpdateItemCommand(input)),
      );
    mock
      .on(QueryCommand)
      .callsFake((input: ConstructorParameters<typeof QueryCommand>[0]) =>
        tables.client.send(new QueryCommand(input)),
      );
    return new DynamoDBEventStore(client, tables.names.events);
  }

  it('reports only the throttled message for redelivery, records the others, and records it once when redelivered', async () => {
    const messages = ['EV-A', 'EV-B', 'EV-C'].map((id) => deliveryOf(accepted(id)));
    const throttled = messages[1]!;

    const response = await recordDeliveries({ store: throttledStoreFor('EV-B'), clock }, messages);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: throttled.messageId }]);
    expect((await store.find('EV-A')).event).toBeDefined();
    expect((await store.find('EV-B')).event).toBeUndefined();
    expect((await store.find('EV-C')).event).toBeDefined();
    expect((await store.stats()).eventsRecorded).toBe(2);

    // SQS redelivers only the failed message, and the throttling has passed.
    const retry = await recordDeliveries({ store, clock }, [throttled]);

    expect(retry.batchItemFailures).toEqual([]);
    const found = await store.find('EV-B');
    expect(found.event?.eventId).toBe('EV-B');
    expect(found.rejections).toEqual([]);
    expect((await store.stats()).eventsRecorded).toBe(3);

    // And a second redelivery of the whole batch changes nothing.
    await recordDeliveries({ store, clock }, messages);
    expect((await store.stats()).eventsRecorded).toBe(3);
  });

  it('records an event once when its write succeeded but the answer was lost, and SQS redelivered it', async () => {
    // A timeout after DynamoDB applied the put: the recorder cannot tell it from a failure, so SQS redelivers.
    const lostAnswer = {
      recordAll: async (events: Parameters<DynamoDBEventStore['recordAll']>[0]) => {
        await store.recordAll(events);
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      },
      reject: store.reject.bind(store),
      noteMonths: store.noteMonths.bind(store),
      countRecorded: store.countRecorded.bind(store),
    };
    const message = deliveryOf(accepted('EV-G'));

    const first = await recordDeliveries({ store: lostAnswer, clock }, [message]);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: message.messageId }]);
    await recordDeliveries({ store, clock }, [message]);

    const found = await store.find('EV-G');
    expect(found.event?.eventId).toBe('EV-G');
    expect(found.rejections).toEqual([]);
    // @debt the operational count is per batch and misses an event whose first answer was lost (the
    // redelivery sees a duplicate); it must never count one twice, which would hold status waiters forever.
    expect((await store.stats()).eventsRecorded).toBeLessThanOrEqual(1);
  });

  it('reports every message of a batch whose write call failed outright, and records them all when redelivered', async () => {
    const client = new DynamoDBClient({ region: 'local' });
    const mock = mockClient(client);
    mock
      .on(BatchExecuteStatementCommand)
      .rejects(Object.assign(new Error('down'), { name: 'ServiceUnavailable' }));
    mock
      .on(UpdateItemCommand)
      .callsFake((input: ConstructorParameters<typeof UpdateItemCommand>[0]) =>
        tables.client.send(new UpdateItemCommand(input)),
      );
    const messages = ['EV-H', 'EV-I', 'EV-J'].map((id) => deliveryOf(accepted(id)));

    const down = await recordDeliveries(
      { store: new DynamoDBEventStore(client, tables.names.events), clock },
      messages,
    );
    expect(down.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(messages.map((m) => m.messageId));
    expect((await store.find('EV-H')).event).toBeUndefined();

    const retry = await recordDeliveries({ store, clock }, messages);
    expect(retry.batchItemFailures).toEqual([]);
    for (const id of ['EV-H', 'EV-I', 'EV-J']) expect((await store.find(id)).event?.eventId).toBe(id);
    expect((await store.stats()).eventsRecorded).toBe(3);
  });

  it('fails the whole batch when the months cannot be noted, so that no event is recorded unlisted', async () => {
    const failing = {
      recordAll: store.recordAll.bind(store),
      reject: store.reject.bind(store),
      countRecorded: store.countRecorded.bind(store),
      noteMonths: async () => {
        throw new ProvisionedThroughputExceededException({ message: 'x', $metadata: {} });
      },
    };
    const messages = ['EV-D', 'EV-E'].map((id) => deliveryOf(accepted(id)));

    const response = await recordDeliveries({ store: failing, clock }, messages);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(messages.map((m) => m.messageId));
    expect((await store.find('EV-D')).event).toBeUndefined();
  });

  it('keeps recorded events recorded when only the count cannot be written', async () => {
    const failing = {
      recordAll: store.recordAll.bind(store),
      reject: store.reject.bind(store),
      noteMonths: store.noteMonths.bind(store),
      countRecorded: async () => {
        throw new ProvisionedThroughputExceededException({ message: 'x', $metadata: {} });
      },
    };

    const response = await recordDeliveries({ store: failing, clock }, [deliveryOf(accepted('EV-F'))]);

    expect(response.batchItemFailures).toEqual([]);
    expect((await store.find('EV-F')).event).toBeDefined();
  });
});
