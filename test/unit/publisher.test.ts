import {
  AccessDeniedException,
  EventBridgeClient,
  InternalException,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
  ThrottlingException,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BusEntry } from '../../shared/bus/envelope.ts';
import {
  chunk,
  EventBridgePublisher,
  entrySize,
  PUT_EVENTS_MAX_BYTES,
  type PublisherOptions,
} from '../../shared/bus/publisher.ts';

const eventBridge = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'eu-west-1' });

/** The publisher exactly as the API Lambda wires it, with a sleep that records its delays instead of waiting. */
function publisherWith(options: PublisherOptions = {}) {
  const delays: number[] = [];
  const publisher = new EventBridgePublisher(
    (entries) => client.send(new PutEventsCommand({ Entries: entries })),
    {
      sleep: async (ms) => {
        delays.push(ms);
      },
      ...options,
    },
  );
  return { publisher, delays };
}

const entry = (n: number, detail = `{"eventId":"E-${n}"}`): BusEntry => ({
  Source: 'h20-tracker.api',
  DetailType: 'shipment.dispatched',
  Detail: detail,
  EventBusName: 'h20-tracker-test',
});
const entries = (count: number): BusEntry[] => Array.from({ length: count }, (_, n) => entry(n));

const ok = (n: number): PutEventsResultEntry => ({ EventId: `bus-${n}` });
const fail = (code: string): PutEventsResultEntry => ({ ErrorCode: code, ErrorMessage: `${code} happened` });
const answer = (results: PutEventsResultEntry[]): PutEventsCommandOutput => ({
  FailedEntryCount: results.filter((r) => r.ErrorCode).length,
  Entries: results,
  $metadata: { httpStatusCode: 200 },
});
/** EventBridge accepting everything it is sent, whatever the size of the call. */
const acceptAll = (input: { Entries?: PutEventsRequestEntry[] }) =>
  answer((input.Entries ?? []).map((_, n) => ok(n)));

const sentEntries = (): PutEventsRequestEntry[][] =>
  eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);

const idOf = (e: PutEventsRequestEntry): string =>
  (JSON.parse(e.Detail ?? '{}') as { eventId: string }).eventId;

beforeEach(() => {
  eventBridge.reset();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('EventBridgePublisher: per-entry failures', () => {
  it('resends exactly the entries that failed with a passing code, and reports all accepted in index order', async () => {
    const batch = entries(5);
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce(answer([ok(0), fail('InternalFailure'), ok(2), fail('ThrottlingException'), ok(4)]))
      .callsFake(acceptAll);
    const { publisher } = publisherWith();

    const result = await publisher.publish(batch);

    const calls = sentEntries();
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual(batch);
    expect(calls[1]).toEqual([batch[1], batch[3]]);
    expect(result).toEqual({ accepted: [0, 1, 2, 3, 4], failed: [] });
  });

  it('keeps retrying an entry that keeps failing with a passing code, then reports it by index', async () => {
    eventBridge
      .on(PutEventsCommand)
      .callsFake((input: { Entries: PutEventsRequestEntry[] }) =>
        answer(input.Entries.map((e, n) => (idOf(e) === 'E-2' ? fail('ThrottlingException') : ok(n)))),
      );
    const { publisher } = publisherWith({ maxAttempts: 3 });

    const result = await publisher.publish(entries(4));

    expect(sentEntries().map((call) => call.map(idOf))).toEqual([
      ['E-0', 'E-1', 'E-2', 'E-3'],
      ['E-2'],
      ['E-2'],
    ]);
    expect(result.accepted).toEqual([0, 1, 3]);
    expect(result.failed).toEqual([
      { index: 2, code: 'ThrottlingException', message: 'ThrottlingException happened' },
    ]);
  });

  it('reports entries that failed with a permanent code by index without resending them', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce(answer([ok(0), ok(1), fail('MalformedDetail'), ok(3), fail('AccessDeniedException')]))
      .callsFake(acceptAll);
    const { publisher, delays } = publisherWith();

    const result = await publisher.publish(entries(5));

    expect(sentEntries()).toHaveLength(1);
    expect(delays).toEqual([]);
    expect(result.accepted).toEqual([0, 1, 3]);
    expect(result.failed).toEqual([
      { index: 2, code: 'MalformedDetail', message: 'MalformedDetail happened' },
      { index: 4, code: 'AccessDeniedException', message: 'AccessDeniedException happened' },
    ]);
  });

  it('retries the passing failures of a call while reporting its permanent ones at once', async () => {
    const batch = entries(3);
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce(answer([fail('MalformedDetail'), fail('InternalFailure'), ok(2)]))
      .callsFake(acceptAll);
    const { publisher } = publisherWith();

    const result = await publisher.publish(batch);

    expect(sentEntries()).toEqual([batch, [batch[1]]]);
    expect(result.accepted).toEqual([1, 2]);
    expect(result.failed).toEqual([
      { index: 0, code: 'MalformedDetail', message: 'MalformedDetail happened' },
    ]);
  });

  it('resends an entry the answer says nothing about instead of assuming it was taken', async () => {
    const batch = entries(3);
    // A truncated answer: no result for the last entry. Resending is safe, the recorder is idempotent.
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0, Entries: [ok(0), ok(1)], $metadata: {} })
      .callsFake(acceptAll);
    const { publisher } = publisherWith();

    const result = await publisher.publish(batch);

    expect(sentEntries()).toEqual([batch, [batch[2]]]);
    expect(result).toEqual({ accepted: [0, 1, 2], failed: [] });
  });

  it('does not count an entry as taken when its result has no EventId', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'bus-0' }, {}], $metadata: {} });
    const { publisher } = publisherWith({ maxAttempts: 2 });

    const result = await publisher.publish(entries(2));

    expect(result.accepted).toEqual([0]);
    expect(result.failed.map((f) => f.index)).toEqual([1]);
  });
});

describe('EventBridgePublisher: failed calls', () => {
  it('retries a call that throws ThrottlingException', async () => {
    const batch = entries(3);
    eventBridge
      .on(PutEventsCommand)
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }))
      .callsFake(acceptAll);
    const { publisher, delays } = publisherWith();

    const result = await publisher.publish(batch);

    expect(sentEntries()).toEqual([batch, batch]);
    expect(delays).toHaveLength(1);
    expect(result).toEqual({ accepted: [0, 1, 2], failed: [] });
  });

  it('retries a call that failed without an answer (a network error)', async () => {
    const reset = Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
    eventBridge.on(PutEventsCommand).rejectsOnce(reset).callsFake(acceptAll);
    const { publisher } = publisherWith();

    const result = await publisher.publish(entries(2));

    expect(sentEntries()).toHaveLength(2);
    expect(result).toEqual({ accepted: [0, 1], failed: [] });
  });

  it('in a full outage makes at most maxAttempts calls per chunk, then reports every entry with the error code', async () => {
    eventBridge
      .on(PutEventsCommand)
      .rejects(new InternalException({ message: 'internal detail', $metadata: { httpStatusCode: 500 } }));
    const { publisher, delays } = publisherWith({ maxAttempts: 3 });

    const result = await publisher.publish(entries(25));

    const calls = sentEntries();
    expect(calls).toHaveLength(9);
    const callsPerChunk = new Map<string, number>();
    for (const call of calls) callsPerChunk.set(idOf(call[0]!), (callsPerChunk.get(idOf(call[0]!)) ?? 0) + 1);
    expect(Object.fromEntries(callsPerChunk)).toEqual({ 'E-0': 3, 'E-10': 3, 'E-20': 3 });
    expect(delays).toHaveLength(6);
    expect(result.accepted).toEqual([]);
    expect(result.failed.map((f) => f.index)).toEqual(Array.from({ length: 25 }, (_, n) => n));
    expect(new Set(result.failed.map((f) => f.code))).toEqual(new Set(['InternalException']));
    // The caller may show these to a partner: the SDK's own message must not leak through.
    expect(JSON.stringify(result.failed)).not.toContain('internal detail');
  });

  it('reports a call refused for good (access denied) at once, without retrying', async () => {
    eventBridge
      .on(PutEventsCommand)
      .rejects(new AccessDeniedException({ message: 'not authorized', $metadata: { httpStatusCode: 400 } }));
    const { publisher, delays } = publisherWith();

    const result = await publisher.publish(entries(3));

    expect(sentEntries()).toHaveLength(1);
    expect(delays).toEqual([]);
    expect(result.accepted).toEqual([]);
    expect(result.failed.map((f) => [f.index, f.code])).toEqual([
      [0, 'AccessDeniedException'],
      [1, 'AccessDeniedException'],
      [2, 'AccessDeniedException'],
    ]);
  });

  it('keeps the entries a chunk got through when a later chunk is in an outage', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      if (idOf(input.Entries[0]!) === 'E-10')
        throw new InternalException({ message: 'x', $metadata: { httpStatusCode: 500 } });
      return acceptAll(input);
    });
    const { publisher } = publisherWith({ maxAttempts: 2 });

    const result = await publisher.publish(entries(15));

    expect(result.accepted).toEqual(Array.from({ length: 10 }, (_, n) => n));
    expect(result.failed.map((f) => f.index)).toEqual([10, 11, 12, 13, 14]);
  });
});

describe('EventBridgePublisher: chunking', () => {
  it('sends 25 entries in 3 calls of at most 10, each entry once', async () => {
    eventBridge.on(PutEventsCommand).callsFake(acceptAll);
    const { publisher } = publisherWith();

    const result = await publisher.publish(entries(25));

    const calls = sentEntries();
    expect(calls.map((c) => c.length).sort((a, b) => b - a)).toEqual([10, 10, 5]);
    expect(calls.flat().map(idOf).sort()).toEqual(entries(25).map(idOf).sort());
    expect(result.accepted).toEqual(Array.from({ length: 25 }, (_, n) => n));
  });

  it('splits entries whose total passes 256 KiB into calls that each stay within it', async () => {
    const big = (n: number) => entry(n, JSON.stringify({ eventId: `E-${n}`, pad: 'x'.repeat(100 * 1024) }));
    const batch = [0, 1, 2, 3, 4].map(big);
    eventBridge.on(PutEventsCommand).callsFake(acceptAll);
    const { publisher } = publisherWith();

    const result = await publisher.publish(batch);

    const calls = sentEntries();
    expect(calls).toHaveLength(3);
    for (const call of calls) {
      const bytes = call.reduce((sum, e) => sum + entrySize(e as BusEntry), 0);
      expect(bytes).toBeLessThanOrEqual(PUT_EVENTS_MAX_BYTES);
    }
    expect(result.accepted).toEqual([0, 1, 2, 3, 4]);
  });

  it('publishes nothing and calls nothing for no entries', async () => {
    const { publisher } = publisherWith();

    expect(await publisher.publish([])).toEqual({ accepted: [], failed: [] });
    expect(sentEntries()).toHaveLength(0);
  });
});

describe('chunk', () => {
  /** An entry of exactly `size` bytes as EventBridge counts them. */
  const sized = (size: number): BusEntry => {
    const base = entrySize({ Source: 'h20-tracker.api', DetailType: 'x', Detail: '' });
    return { Source: 'h20-tracker.api', DetailType: 'x', Detail: 'd'.repeat(size - base) };
  };

  it('keeps entries that fill 256 KiB exactly in one group', () => {
    const half = PUT_EVENTS_MAX_BYTES / 2;
    expect(chunk([sized(half), sized(half)])).toEqual([[0, 1]]);
  });

  it('starts a new group when one more byte would pass 256 KiB', () => {
    const half = PUT_EVENTS_MAX_BYTES / 2;
    expect(chunk([sized(half), sized(half + 1)])).toEqual([[0], [1]]);
  });

  it('counts UTF-8 bytes, not characters', () => {
    // 'é' is 2 bytes: 100,000 of them are 200,000 bytes, so two such entries cannot share a call.
    const accented: BusEntry = { Source: 's', DetailType: 't', Detail: 'é'.repeat(100_000) };
    expect(entrySize(accented)).toBe(1 + 1 + 200_000 + 14);
    expect(chunk([accented, accented])).toEqual([[0], [1]]);
  });

  it('gives an entry larger than the limit a group of its own rather than looping or dropping it', () => {
    expect(chunk([sized(100), sized(PUT_EVENTS_MAX_BYTES + 1), sized(100)])).toEqual([[0], [1], [2]]);
  });

  it('groups by ten and keeps index order', () => {
    expect(chunk(entries(21))).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
      [20],
    ]);
  });
});

describe('EventBridgePublisher: backoff', () => {
  it('waits between attempts, never before the first, and never longer than maxDelayMs', async () => {
    // The largest jitter there is, so the cap itself is what is measured.
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    eventBridge
      .on(PutEventsCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));
    const { publisher, delays } = publisherWith({ maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 250 });

    await publisher.publish(entries(1));

    expect(sentEntries()).toHaveLength(8);
    expect(delays).toHaveLength(7);
    for (const ms of delays) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(250);
    }
    // Exponential growth from the base, then held at the cap.
    expect(delays[0]).toBeCloseTo(100, 0);
    expect(delays[1]).toBeCloseTo(200, 0);
    expect(delays.slice(2).every((ms) => ms > 249)).toBe(true);
  });

  it('draws every delay from [0, cap) with full jitter', async () => {
    const draws = [0, 0.5, 0.25];
    vi.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? 0);
    eventBridge
      .on(PutEventsCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));
    const { publisher, delays } = publisherWith({ maxAttempts: 4, baseDelayMs: 40, maxDelayMs: 1000 });

    await publisher.publish(entries(1));

    expect(delays).toEqual([0, 40, 40]);
  });
});
