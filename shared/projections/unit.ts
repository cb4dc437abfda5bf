import { compareEvents, type DomainEvent } from '../events/catalogue.ts';
import { type CounterName, type Counters, zeroCounters } from './counters.ts';
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
  const { asOf, knownAt } = horizon;
  const visible =
    asOf === undefined && knownAt === undefined
      ? events.slice()
      : events.filter(
          (e) =>
            (asOf === undefined || e.occurredAt <= asOf) &&
            (knownAt === undefined || e.recordedAt <= knownAt),
        );
  return inOrder(visible) ? visible : visible.sort(compareEvents);
}

/** Streams mostly arrive in order; checking is cheaper than sorting. */
function inOrder(events: readonly UnitEvent[]): boolean {
  for (let i = 1; i < events.length; i++) {
    if (compareEvents(events[i - 1] as UnitEvent, events[i] as UnitEvent) > 0) return false;
  }
  return true;
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

/** The counter a shipment's goods count in, by its status: none once cancelled, or while never dispatched. */
const SHIPMENT_COUNTER: Record<ShipmentView['status'], CounterName | undefined> = {
  dispatched: 'inTransit',
  released: 'inTransit',
  held: 'held',
  delivered: 'delivered',
  installed: 'installed',
  cancelled: undefined,
  unknown: undefined,
};

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
 * so that a row appears in a listing as soon as anything names it. One pass over the sorted events; this is
 * the projector's and every replay's inner loop, so it allocates only the map and its counters.
 */
export function contributionOf(events: readonly UnitEvent[], horizon: Horizon = NOW): Map<RowKey, Counters> {
  const sorted = visibleAt(events, horizon);
  const contribution = new Map<RowKey, Counters>();
  let dispatchRow: RowKey | undefined;
  let quantity = 0;
  let status: ShipmentView['status'] = 'unknown';
  let createdRow: RowKey | undefined;
  let allocated = 0;
  let released = false;
  for (const e of sorted) {
    switch (e.type) {
      case 'shipment.dispatched':
        dispatchRow = rowKey(e.data.destination.providerId, e.data.sku);
        name(contribution, dispatchRow);
        quantity = e.data.quantity;
        status = 'dispatched';
        break;
      case 'shipment.held':
      case 'shipment.released':
      case 'shipment.delivered':
      case 'shipment.installed':
      case 'shipment.cancelled':
        status = e.type.slice(9) as ShipmentStatus;
        break;
      case 'allocation.created':
        createdRow = rowKey(e.data.providerId, e.data.sku);
        name(contribution, createdRow);
        allocated = e.data.quantity;
        break;
      case 'allocation.released':
        released = true;
        break;
      case 'inventory.adjusted':
        name(contribution, rowKey(e.data.providerId, e.data.sku)).installed += e.data.delta;
        break;
    }
  }
  const counter = dispatchRow ? SHIPMENT_COUNTER[status] : undefined;
  if (dispatchRow && counter) name(contribution, dispatchRow)[counter] += quantity;
  if (createdRow && !released) name(contribution, createdRow).allocated += allocated;
  return contribution;
}

/** The row's counters in a contribution, created at zero the first time the row is named. */
function name(contribution: Map<RowKey, Counters>, row: RowKey): Counters {
  let counters = contribution.get(row);
  if (!counters) {
    counters = zeroCounters();
    contribution.set(row, counters);
  }
  return counters;
}
