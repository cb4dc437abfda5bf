import { compareEvents, type DomainEvent } from '../events/catalogue.ts';
import { addCounters, type Counters, zeroCounters } from './counters.ts';
import { type RowKey, rowKey } from './rows.ts';

/**
 * A projection unit is one stream: a shipment, an allocation, a provider's inventory of one SKU, a provider,
 * a regulation or a licence. Its contribution to the availability rows is a pure function of its events,
 * so a unit is projected by folding all its known events again, never by applying one event to a state:
 * that is what makes the projection indifferent to arrival order and duplicates.
 */
export type UnitEvent = DomainEvent & { recordedAt: string; source: string };

/** "About when" (`asOf`, on `occurredAt`) and "what did we know then" (`knownAt`, on `recordedAt`). */
export interface Horizon {
  asOf?: string;
  knownAt?: string;
}

export const NOW: Horizon = {};

export function visibleAt(events: readonly UnitEvent[], horizon: Horizon): UnitEvent[] {
  return events
    .filter(
      (e) =>
        (horizon.asOf === undefined || e.occurredAt <= horizon.asOf) &&
        (horizon.knownAt === undefined || e.recordedAt <= horizon.knownAt),
    )
    .sort(compareEvents);
}

export type ShipmentStatus = 'dispatched' | 'held' | 'released' | 'delivered' | 'installed' | 'cancelled';

export interface ShipmentView {
  dispatch?: Extract<UnitEvent, { type: 'shipment.dispatched' }>;
  status: ShipmentStatus | 'unknown';
  statusAt?: string;
  timeline: UnitEvent[];
}

/** A shipment's status is set by its latest event; its goods and destination by its latest dispatch. */
export function foldShipment(sorted: readonly UnitEvent[]): ShipmentView {
  const view: ShipmentView = { status: 'unknown', timeline: [...sorted] };
  for (const event of sorted) {
    if (!event.type.startsWith('shipment.')) continue;
    if (event.type === 'shipment.dispatched') view.dispatch = event;
    view.status = event.type.slice('shipment.'.length) as ShipmentStatus;
    view.statusAt = event.occurredAt;
  }
  if (!view.dispatch) view.status = 'unknown';
  return view;
}

function shipmentCounters(status: ShipmentView['status'], quantity: number): Counters {
  const c = zeroCounters();
  if (status === 'dispatched' || status === 'released') c.inTransit = quantity;
  else if (status === 'held') c.held = quantity;
  else if (status === 'delivered') c.delivered = quantity;
  else if (status === 'installed') c.installed = quantity;
  return c;
}

/** The rows a unit names at a horizon: the contract lists a row once a dispatch, adjustment or allocation names it. */
export function rowsNamed(sorted: readonly UnitEvent[]): Set<RowKey> {
  const rows = new Set<RowKey>();
  for (const e of sorted) {
    if (e.type === 'shipment.dispatched') rows.add(rowKey(e.data.destination.providerId, e.data.sku));
    else if (e.type === 'allocation.created' || e.type === 'inventory.adjusted')
      rows.add(rowKey(e.data.providerId, e.data.sku));
  }
  return rows;
}

/**
 * What a unit adds to each row it names, at a horizon. Every row named gets an entry (zero if nothing counts),
 * so that a row appears in a listing as soon as anything names it.
 */
export function contributionOf(events: readonly UnitEvent[], horizon: Horizon = NOW): Map<RowKey, Counters> {
  const sorted = visibleAt(events, horizon);
  const contribution = new Map<RowKey, Counters>();
  for (const row of rowsNamed(sorted)) contribution.set(row, zeroCounters());
  const add = (row: RowKey, counters: Counters) =>
    contribution.set(row, addCounters(contribution.get(row) ?? zeroCounters(), counters));

  const first = sorted[0];
  if (!first) return contribution;
  if (first.type.startsWith('shipment.')) {
    const view = foldShipment(sorted);
    if (view.dispatch) {
      const { destination, sku, quantity } = view.dispatch.data;
      add(rowKey(destination.providerId, sku), shipmentCounters(view.status, quantity));
    }
  } else if (first.type.startsWith('allocation.')) {
    let created: Extract<UnitEvent, { type: 'allocation.created' }> | undefined;
    let released = false;
    for (const e of sorted) {
      if (e.type === 'allocation.created') created = e;
      else if (e.type === 'allocation.released') released = true;
    }
    if (created && !released) {
      add(rowKey(created.data.providerId, created.data.sku), {
        ...zeroCounters(),
        allocated: created.data.quantity,
      });
    }
  } else {
    for (const e of sorted) {
      if (e.type === 'inventory.adjusted') {
        add(rowKey(e.data.providerId, e.data.sku), { ...zeroCounters(), installed: e.data.delta });
      }
    }
  }
  return contribution;
}
