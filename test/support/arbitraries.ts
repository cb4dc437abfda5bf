import fc from 'fast-check';
import { type DomainEvent, type RecordedEvent, streamOf } from '../../shared/events/catalogue.ts';

/*
 * Event builders for hand-written scenarios, and fast-check arbitraries of valid recorded events over a
 * universe small enough that events collide: the same shipment touched many times, ties at one `occurredAt`,
 * shipments re-dispatched to another provider, allocations released before they are created.
 */

export const PROVIDERS = ['alibaba-cloud', 'baidu-ai', 'tencent-cloud'] as const;
export const SKUS = ['H20', 'H800'] as const;
const SHIPMENT_IDS = ['SH-1', 'SH-2', 'SH-3', 'SH-4'] as const;
const ALLOCATION_IDS = ['AL-1', 'AL-2', 'AL-3'] as const;

/** A time on a day of March 2025, at an hour (UTC), as the store holds times. */
export const day = (n: number, hour = 0): string => new Date(Date.UTC(2025, 2, n, hour)).toISOString();

/** Few distinct times, so that ties are frequent, both on `occurredAt` and on `recordedAt`. */
export const EVENT_TIMES = [day(1), day(2), day(3), day(4), day(5)] as const;

/** Horizons on, between, before and after the event times: the boundaries are where `<=` and `<` differ. */
export const HORIZON_TIMES = [
  day(0),
  day(1),
  day(2),
  day(2, 12),
  day(3),
  day(4),
  day(4, 12),
  day(6),
] as const;

// ---------------------------------------------------------------------------------------------------------------
// Builders

export interface EventMeta {
  eventId: string;
  occurredAt: string;
  /** Defaults to `occurredAt`: known as soon as it happened. */
  recordedAt?: string;
}

export interface Goods {
  providerId: string;
  sku: string;
  quantity: number;
}

export type ShipmentStep = 'held' | 'released' | 'delivered' | 'installed' | 'cancelled';

function record(meta: EventMeta, event: DomainEvent): RecordedEvent {
  return {
    ...event,
    recordedAt: meta.recordedAt ?? meta.occurredAt,
    source: 'test-partner',
    stream: streamOf(event),
  };
}

const envelope = (meta: EventMeta) => ({ eventId: meta.eventId, occurredAt: meta.occurredAt });

export function dispatchedEvent(meta: EventMeta, shipmentId: string, goods: Goods): RecordedEvent {
  return record(meta, {
    ...envelope(meta),
    type: 'shipment.dispatched',
    data: {
      shipmentId,
      sku: goods.sku,
      quantity: goods.quantity,
      exporter: 'nvidia',
      origin: { country: 'TW' },
      destination: { country: 'CN', providerId: goods.providerId },
    },
  });
}

export function shipmentEvent(meta: EventMeta, shipmentId: string, step: ShipmentStep): RecordedEvent {
  switch (step) {
    case 'held':
      return record(meta, {
        ...envelope(meta),
        type: 'shipment.held',
        data: { shipmentId, authority: 'CN-GACC', reason: 'customs inspection' },
      });
    case 'released':
      return record(meta, { ...envelope(meta), type: 'shipment.released', data: { shipmentId } });
    case 'delivered':
      return record(meta, { ...envelope(meta), type: 'shipment.delivered', data: { shipmentId } });
    case 'installed':
      return record(meta, { ...envelope(meta), type: 'shipment.installed', data: { shipmentId } });
    case 'cancelled':
      return record(meta, {
        ...envelope(meta),
        type: 'shipment.cancelled',
        data: { shipmentId, disposition: 'cancelled' },
      });
  }
}

export function allocationCreatedEvent(meta: EventMeta, allocationId: string, goods: Goods): RecordedEvent {
  return record(meta, {
    ...envelope(meta),
    type: 'allocation.created',
    data: {
      allocationId,
      providerId: goods.providerId,
      sku: goods.sku,
      quantity: goods.quantity,
      tenant: 'acme',
    },
  });
}

export function allocationReleasedEvent(meta: EventMeta, allocationId: string): RecordedEvent {
  return record(meta, { ...envelope(meta), type: 'allocation.released', data: { allocationId } });
}

export function inventoryAdjustedEvent(
  meta: EventMeta,
  place: { providerId: string; sku: string },
  delta: number,
): RecordedEvent {
  return record(meta, {
    ...envelope(meta),
    type: 'inventory.adjusted',
    data: {
      providerId: place.providerId,
      sku: place.sku,
      delta,
      reason: delta > 0 ? 'opening-balance' : 'audit',
    },
  });
}

export function providerRegisteredEvent(meta: EventMeta, providerId: string): RecordedEvent {
  return record(meta, {
    ...envelope(meta),
    type: 'provider.registered',
    data: { providerId, name: providerId, country: 'CN', kind: 'cloud' },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

interface DraftMeta {
  /** Randomises the eventId's sort position, so eventId order says nothing about generation order. */
  tag: number;
  occurredAt: string;
  recordedAt: string;
}

type Draft = DraftMeta &
  (
    | { kind: 'dispatch'; shipmentId: string; goods: Goods }
    | { kind: 'step'; shipmentId: string; step: ShipmentStep }
    | { kind: 'allocate'; allocationId: string; goods: Goods }
    | { kind: 'deallocate'; allocationId: string }
    | { kind: 'adjust'; providerId: string; sku: string; delta: number }
    | { kind: 'register'; providerId: string }
  );

const metaArb: fc.Arbitrary<DraftMeta> = fc.record({
  tag: fc.integer({ min: 10, max: 99 }),
  occurredAt: fc.constantFrom(...EVENT_TIMES),
  recordedAt: fc.constantFrom(...EVENT_TIMES),
});

function draftArb(providers: readonly string[]): fc.Arbitrary<Draft> {
  const provider = fc.constantFrom(...providers);
  const sku = fc.constantFrom(...SKUS);
  const goods = fc.record({ providerId: provider, sku, quantity: fc.integer({ min: 1, max: 64 }) });
  const shipmentId = fc.constantFrom(...SHIPMENT_IDS);
  const allocationId = fc.constantFrom(...ALLOCATION_IDS);
  const step = fc.constantFrom<ShipmentStep>('held', 'released', 'delivered', 'installed', 'cancelled');
  const delta = fc.oneof(fc.integer({ min: -40, max: -1 }), fc.integer({ min: 1, max: 200 }));
  return fc
    .oneof(
      // Several dispatches drawn for one shipment id are re-dispatches, often to another provider or SKU.
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('dispatch' as const), shipmentId, goods }) },
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('step' as const), shipmentId, step }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('allocate' as const), allocationId, goods }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('deallocate' as const), allocationId }) },
      {
        weight: 3,
        arbitrary: fc.record({ kind: fc.constant('adjust' as const), providerId: provider, sku, delta }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('register' as const), providerId: provider }) },
    )
    .chain((body) => metaArb.map((meta): Draft => ({ ...meta, ...body })));
}

function eventOf(draft: Draft, index: number): RecordedEvent {
  // The index keeps ids unique; the tag in front scatters their order.
  const meta: EventMeta = {
    eventId: `E${draft.tag}-${index}`,
    occurredAt: draft.occurredAt,
    recordedAt: draft.recordedAt,
  };
  switch (draft.kind) {
    case 'dispatch':
      return dispatchedEvent(meta, draft.shipmentId, draft.goods);
    case 'step':
      return shipmentEvent(meta, draft.shipmentId, draft.step);
    case 'allocate':
      return allocationCreatedEvent(meta, draft.allocationId, draft.goods);
    case 'deallocate':
      return allocationReleasedEvent(meta, draft.allocationId);
    case 'adjust':
      return inventoryAdjustedEvent(meta, draft, draft.delta);
    case 'register':
      return providerRegisteredEvent(meta, draft.providerId);
  }
}

/** A set of valid recorded events with distinct eventIds, over 2 or 3 providers and 2 SKUs. */
export function eventSetArb(options: { maxEvents?: number } = {}): fc.Arbitrary<RecordedEvent[]> {
  return fc
    .integer({ min: 2, max: PROVIDERS.length })
    .chain((count) =>
      fc.array(draftArb(PROVIDERS.slice(0, count)), { maxLength: options.maxEvents ?? 30, size: 'max' }),
    )
    .map((drafts) => drafts.map(eventOf));
}

export interface Horizon {
  asOf?: string;
  knownAt?: string;
}

export const horizonArb: fc.Arbitrary<Horizon> = fc.record({
  asOf: fc.option(fc.constantFrom(...HORIZON_TIMES), { nil: undefined }),
  knownAt: fc.option(fc.constantFrom(...HORIZON_TIMES), { nil: undefined }),
});

/**
 * How a set of events may reach the projector: in any order, some more than once, cut into batches, and
 * some batches delivered again later (at-least-once delivery), as a stream-triggered projector sees them.
 */
export function arrivalsArb(events: readonly RecordedEvent[]): fc.Arbitrary<RecordedEvent[][]> {
  const n = events.length;
  return fc
    .record({
      order: fc.shuffledSubarray([...events.keys()], { minLength: n, maxLength: n }),
      duplicates: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
      cuts: fc.uniqueArray(fc.nat({ max: 40 }), { maxLength: 6 }),
      redeliveries: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }),
    })
    .map(({ order, duplicates, cuts, redeliveries }) => {
      const sequence = order.map((i) => events[i] as RecordedEvent);
      if (n > 0) {
        for (const [pick, at] of duplicates) {
          sequence.splice(at % (sequence.length + 1), 0, structuredClone(events[pick % n] as RecordedEvent));
        }
      }
      const bounds = [...new Set(cuts.map((c) => c % (sequence.length + 1)))].sort((a, b) => a - b);
      const batches: RecordedEvent[][] = [];
      let start = 0;
      for (const end of [...bounds, sequence.length]) {
        if (end > start) batches.push(sequence.slice(start, end));
        start = Math.max(start, end);
      }
      for (const [which, after] of redeliveries) {
        if (batches.length === 0) break;
        const original = which % batches.length;
        const again = structuredClone(batches[original] as RecordedEvent[]);
        batches.splice(original + 1 + (after % (batches.length - original)), 0, again);
      }
      return batches;
    });
}
