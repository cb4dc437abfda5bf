import { type DomainEvent, type RecordedEvent, streamOf } from '../../shared/events/catalogue.ts';

/**
 * Synthetic, deterministic supply events for the benchmarks. The k-th event is a pure function of `k`, so a
 * load generator in another process can make unique, valid events without coordination. Every block of six
 * events is one shipment's lifecycle (five events, as the product sees them) and one allocation.
 */
export const BENCH_PROVIDERS = [
  'alibaba-cloud',
  'baidu-ai',
  'tencent-cloud',
  'bytedance-volc',
  'huawei-cloud',
  'high-flyer',
  'zhipu-ai',
  'moonshot-ai',
] as const;
export const BENCH_SKUS = ['H20', 'H800', 'L20'] as const;

export const EVENTS_PER_BLOCK = 6;
const STEPS = ['dispatched', 'held', 'released', 'delivered', 'installed'] as const;
/** Old enough that no bench event lies in the future, which would make "now" a replay. */
const BASE_MS = Date.UTC(2023, 0, 1);
const STEP_MS = 60_000;

export const occurredAtOf = (k: number): string => new Date(BASE_MS + k * STEP_MS).toISOString();

/** Where a block's goods go: providers vary fastest, so every row fills evenly. */
function goodsOf(block: number): { providerId: string; sku: string; quantity: number } {
  return {
    providerId: BENCH_PROVIDERS[block % BENCH_PROVIDERS.length] as string,
    sku: BENCH_SKUS[Math.floor(block / BENCH_PROVIDERS.length) % BENCH_SKUS.length] as string,
    quantity: 8 + (block % 57),
  };
}

/** The k-th event of the endless sequence named by `prefix` (which must start with a letter or digit). */
export function eventAt(k: number, prefix: string): DomainEvent {
  const block = Math.floor(k / EVENTS_PER_BLOCK);
  const slot = k % EVENTS_PER_BLOCK;
  const eventId = `${prefix}-${k}`;
  const occurredAt = occurredAtOf(k);
  const goods = goodsOf(block);
  const shipmentId = `${prefix}-SH-${block}`;
  const step = STEPS[slot];
  switch (step) {
    case 'dispatched':
      return {
        eventId,
        occurredAt,
        type: 'shipment.dispatched',
        data: {
          shipmentId,
          sku: goods.sku,
          quantity: goods.quantity,
          exporter: 'nvidia',
          origin: { country: 'TW' },
          destination: { country: 'CN', providerId: goods.providerId, site: 'Zhangbei data centre' },
          eccn: '3A090',
        },
      };
    case 'held':
      return {
        eventId,
        occurredAt,
        type: 'shipment.held',
        data: { shipmentId, authority: 'CN-GACC', reason: 'customs inspection of declared GPUs' },
      };
    case 'released':
    case 'delivered':
      return { eventId, occurredAt, type: `shipment.${step}`, data: { shipmentId } };
    case 'installed':
      // One lot in ten never arrives: the counters then carry cancellations as well as installs.
      return block % 10 === 9
        ? { eventId, occurredAt, type: 'shipment.cancelled', data: { shipmentId, disposition: 'seized' } }
        : { eventId, occurredAt, type: 'shipment.installed', data: { shipmentId } };
    default:
      return {
        eventId,
        occurredAt,
        type: 'allocation.created',
        data: {
          allocationId: `${prefix}-AL-${block}`,
          providerId: goods.providerId,
          sku: goods.sku,
          quantity: 1 + (block % 8),
          tenant: 'acme-research',
        },
      };
  }
}

/** The event as the store holds it: recorded a second after it happened, by the bench partner. */
export function recordedEventAt(k: number, prefix: string): RecordedEvent {
  return recorded(eventAt(k, prefix));
}

function recorded(event: DomainEvent): RecordedEvent {
  const recordedAt = new Date(Date.parse(event.occurredAt) + 1_000).toISOString();
  return { ...event, recordedAt, source: 'bench-partner', stream: streamOf(event) };
}

/** One opening balance per (provider, sku): the installed base the shipments add to. */
export function openingBalances(prefix: string): RecordedEvent[] {
  return BENCH_PROVIDERS.flatMap((providerId) =>
    BENCH_SKUS.map((sku) =>
      recorded({
        eventId: `${prefix}-opening-${providerId}-${sku}`,
        occurredAt: new Date(BASE_MS - 86_400_000).toISOString(),
        type: 'inventory.adjusted',
        data: { providerId, sku, delta: 1_000, reason: 'opening-balance' },
      }),
    ),
  );
}

/** The recorded events `from` (inclusive) to `to` (exclusive) of the sequence. */
export function recordedRange(from: number, to: number, prefix: string): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (let k = from; k < to; k++) events.push(recordedEventAt(k, prefix));
  return events;
}

/** A history of `count` recorded events: the opening balances, then lifecycles. */
export function recordedHistory(count: number, prefix: string): RecordedEvent[] {
  const openings = openingBalances(prefix).slice(0, count);
  return [...openings, ...recordedRange(0, count - openings.length, prefix)];
}
