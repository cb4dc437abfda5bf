import type { StoredUnit } from './plan.ts';
import { rowKey } from './rows.ts';
import { type Dispatched, foldShipment, NOW, type ShipmentStatus, visibleAt } from './unit.ts';

/**
 * Units the API lists (shipments, regulations, licences) carry index attributes on their own item, so that
 * the projections table's sparse `by-kind` index lists them without another write: the unit's item is
 * written anyway, in the same transaction as its counters, so its entry can never disagree with it.
 */
export type ListedKind = 'shipment' | 'regulation' | 'licence';

/**
 * Shipments spread over shards, so that no index partition takes every new shipment; a listing reads all
 * shards and merges them by id. Regulations and licences are few.
 */
export const SHIPMENT_SHARDS = 4;

/** A shipment as listings show it and filter on: what `GET /v1/shipments/{id}` shows, without the timeline. */
export interface ShipmentSummary {
  shipmentId: string;
  sku: string | null;
  quantity: number | null;
  exporter: string | null;
  origin: { country: string } | null;
  destination: { country: string; providerId: string; site?: string } | null;
  licenceId?: string;
  status: ShipmentStatus | 'unknown';
  statusAt: string | null;
  /** When its (latest) dispatch happened: the time its compliance is judged at. */
  dispatchedAt: string | null;
  /** When that dispatch was recorded: a `knownAt` read leaves out shipments not known by then. */
  dispatchRecordedAt?: string;
}

export interface ListingEntry {
  kpk: string;
  ksk: string;
  summary?: string;
  /** A shipment on its way (in transit or held): the (sku, provider) row it is bound for. */
  wpk?: string;
}

/** The statuses whose goods are on their way: in transit (dispatched or released) or held. */
export const ON_THE_WAY: ReadonlySet<string> = new Set(['dispatched', 'released', 'held']);

/** FNV-1a of a string, for a stable shard. */
function shardOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % SHIPMENT_SHARDS;
}

/** The index partitions of a kind. */
export function partitionsOf(kind: ListedKind): string[] {
  return kind === 'shipment'
    ? Array.from({ length: SHIPMENT_SHARDS }, (_, shard) => `shipment#${shard}`)
    : [kind];
}

export function summariseShipment(shipmentId: string, unit: StoredUnit): ShipmentSummary {
  const view = foldShipment(visibleAt(unit.events, NOW));
  return summaryOf(shipmentId, view.dispatch, view.status, view.statusAt);
}

/** A shipment's summary from its latest dispatch and its status: what a fold of its events gives. */
export function summaryOf(
  shipmentId: string,
  dispatch: Dispatched | undefined,
  status: ShipmentStatus | 'unknown',
  statusAt: string | undefined,
): ShipmentSummary {
  return {
    shipmentId,
    sku: dispatch?.data.sku ?? null,
    quantity: dispatch?.data.quantity ?? null,
    exporter: dispatch?.data.exporter ?? null,
    origin: dispatch?.data.origin ?? null,
    destination: dispatch?.data.destination ?? null,
    ...(dispatch?.data.licenceId ? { licenceId: dispatch.data.licenceId } : {}),
    status: dispatch ? status : 'unknown',
    statusAt: statusAt ?? null,
    dispatchedAt: dispatch?.occurredAt ?? null,
    ...(dispatch ? { dispatchRecordedAt: dispatch.recordedAt } : {}),
  };
}

/** The index attributes of a unit's item, or none for kinds that are not listed. */
export function listingOf(unit: StoredUnit): ListingEntry | undefined {
  const at = unit.stream.indexOf(':');
  const kind = unit.stream.slice(0, at);
  const id = unit.stream.slice(at + 1);
  if (kind === 'shipment') {
    const summary = summariseShipment(id, unit);
    const onTheWay = ON_THE_WAY.has(summary.status) && summary.sku && summary.destination;
    return {
      kpk: `shipment#${shardOf(id)}`,
      ksk: id,
      summary: JSON.stringify(summary),
      ...(onTheWay ? { wpk: rowKey(summary.destination?.providerId as string, summary.sku as string) } : {}),
    };
  }
  if (kind === 'regulation' || kind === 'licence') return { kpk: kind, ksk: id };
  return undefined;
}
