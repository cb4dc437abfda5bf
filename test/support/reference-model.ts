import type { RecordedEvent } from '../../shared/events/catalogue.ts';

/*
 * An independent reading of the contract's "Availability: what the numbers mean", for the property tests to
 * hold the projector to. It is written from the contract's text and shares no code with shared/projections
 * (not even the tie order, nor the row key format), so that a slip there is not copied here. It is also
 * written the plain way, one event at a time in the decider style, where the product re-folds whole units
 * and moves counters by differences: two different routes to the same numbers.
 *
 * Where the contract is silent, this model decides as follows (and the report names each):
 * - an allocation created more than once counts with its latest `allocation.created` (as a shipment's goods
 *   follow its latest dispatch);
 * - an `allocation.released` releases the allocation whatever its `occurredAt` relative to the creation, as
 *   long as it is within the horizon (events of one stream may arrive in any order, and a release names no
 *   new allocation), and a creation after a release does not revive it;
 * - `overAllocated` follows the formula literally, so a negative `installed` (more decommissioned than
 *   installed) shows as over-allocation even with nothing allocated;
 * - a superseded dispatch still names its provider's row (the contract lists "a known dispatch to it").
 */

export interface ReferenceRow {
  providerId: string;
  sku: string;
  installed: number;
  allocated: number;
  available: number;
  overAllocated: number;
  delivered: number;
  inTransit: number;
  held: number;
  blocked: number;
  expectedInbound: number;
}

export interface ReferenceHorizon {
  asOf?: string;
  knownAt?: string;
}

type Step = 'dispatched' | 'held' | 'released' | 'delivered' | 'installed' | 'cancelled';

/** The contract's tie order for events of one shipment at the same `occurredAt`. */
const STEP_ORDER: readonly Step[] = ['dispatched', 'held', 'released', 'delivered', 'installed', 'cancelled'];

interface Goods {
  providerId: string;
  sku: string;
  quantity: number;
}

interface ShipmentState {
  /** From the latest dispatch; absent while no dispatch is known, and then the shipment counts nowhere. */
  goods?: Goods;
  step: Step;
}

interface AllocationState {
  goods?: Goods;
  released: boolean;
}

/** A place is a (provider, sku) pair; its key is private to this model. */
type Place = string;
const placeOf = (providerId: string, sku: string): Place => JSON.stringify([providerId, sku]);

export interface ReferenceState {
  shipments: ReadonlyMap<string, ShipmentState>;
  allocations: ReadonlyMap<string, AllocationState>;
  adjustments: ReadonlyMap<Place, number>;
  /** Places some event named: a dispatch to it, an adjustment of it, an allocation on it. */
  named: ReadonlySet<Place>;
}

export const initialState = (): ReferenceState => ({
  shipments: new Map(),
  allocations: new Map(),
  adjustments: new Map(),
  named: new Set(),
});

const withEntry = <K, V>(map: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> =>
  new Map(map).set(key, value);

const withPlace = (named: ReadonlySet<Place>, providerId: string, sku: string): ReadonlySet<Place> =>
  new Set(named).add(placeOf(providerId, sku));

function stepped(state: ReferenceState, shipmentId: string, step: Step): ReferenceState {
  const previous = state.shipments.get(shipmentId);
  return { ...state, shipments: withEntry(state.shipments, shipmentId, { goods: previous?.goods, step }) };
}

/** One event's effect on the state; the events must come in the contract's order. */
export function evolve(state: ReferenceState, event: RecordedEvent): ReferenceState {
  switch (event.type) {
    case 'shipment.dispatched': {
      const { shipmentId, sku, quantity, destination } = event.data;
      const goods = { providerId: destination.providerId, sku, quantity };
      return {
        ...state,
        shipments: withEntry(state.shipments, shipmentId, { goods, step: 'dispatched' }),
        named: withPlace(state.named, goods.providerId, sku),
      };
    }
    case 'shipment.held':
      return stepped(state, event.data.shipmentId, 'held');
    case 'shipment.released':
      return stepped(state, event.data.shipmentId, 'released');
    case 'shipment.delivered':
      return stepped(state, event.data.shipmentId, 'delivered');
    case 'shipment.installed':
      return stepped(state, event.data.shipmentId, 'installed');
    case 'shipment.cancelled':
      return stepped(state, event.data.shipmentId, 'cancelled');
    case 'allocation.created': {
      const { allocationId, providerId, sku, quantity } = event.data;
      const released = state.allocations.get(allocationId)?.released ?? false;
      return {
        ...state,
        allocations: withEntry(state.allocations, allocationId, {
          goods: { providerId, sku, quantity },
          released,
        }),
        named: withPlace(state.named, providerId, sku),
      };
    }
    case 'allocation.released': {
      const { allocationId } = event.data;
      const goods = state.allocations.get(allocationId)?.goods;
      return { ...state, allocations: withEntry(state.allocations, allocationId, { goods, released: true }) };
    }
    case 'inventory.adjusted': {
      const { providerId, sku, delta } = event.data;
      const place = placeOf(providerId, sku);
      return {
        ...state,
        adjustments: withEntry(state.adjustments, place, (state.adjustments.get(place) ?? 0) + delta),
        named: withPlace(state.named, providerId, sku),
      };
    }
    default:
      // Providers, regulations and licences move no availability counter.
      return state;
  }
}

function tieRank(event: RecordedEvent): number {
  if (event.type.startsWith('shipment.'))
    return STEP_ORDER.indexOf(event.type.slice('shipment.'.length) as Step);
  if (event.type === 'allocation.released') return 1;
  return 0;
}

/** (occurredAt as an instant, lifecycle rank, eventId). */
function contractOrder(a: RecordedEvent, b: RecordedEvent): number {
  const time = Date.parse(a.occurredAt) - Date.parse(b.occurredAt);
  if (time !== 0) return time;
  const rank = tieRank(a) - tieRank(b);
  if (rank !== 0) return rank;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

function within(event: RecordedEvent, horizon: ReferenceHorizon): boolean {
  if (horizon.asOf !== undefined && Date.parse(event.occurredAt) > Date.parse(horizon.asOf)) return false;
  if (horizon.knownAt !== undefined && Date.parse(event.recordedAt) > Date.parse(horizon.knownAt))
    return false;
  return true;
}

/** The state after the distinct events within the horizon, folded in the contract's order. */
export function referenceState(
  events: readonly RecordedEvent[],
  horizon: ReferenceHorizon = {},
): ReferenceState {
  const distinct = new Map<string, RecordedEvent>();
  for (const event of events) if (!distinct.has(event.eventId)) distinct.set(event.eventId, event);
  return [...distinct.values()]
    .filter((event) => within(event, horizon))
    .sort(contractOrder)
    .reduce(evolve, initialState());
}

interface Tally {
  installed: number;
  allocated: number;
  delivered: number;
  inTransit: number;
  held: number;
}

const COUNTER_OF_STEP: Record<Step, keyof Tally | undefined> = {
  dispatched: 'inTransit',
  released: 'inTransit',
  held: 'held',
  delivered: 'delivered',
  installed: 'installed',
  cancelled: undefined,
};

/** The availability rows of a SKU at a horizon, sorted by provider, as the contract describes them. */
export function referenceAvailability(
  events: readonly RecordedEvent[],
  sku: string,
  horizon: ReferenceHorizon = {},
): ReferenceRow[] {
  const state = referenceState(events, horizon);
  const tallies = new Map<Place, Tally>();
  for (const place of state.named) {
    tallies.set(place, { installed: 0, allocated: 0, delivered: 0, inTransit: 0, held: 0 });
  }
  const count = (goods: Goods, counter: keyof Tally, units: number) => {
    const tally = tallies.get(placeOf(goods.providerId, goods.sku));
    if (!tally) throw new Error(`reference model: ${goods.providerId}/${goods.sku} counted but never named`);
    tally[counter] += units;
  };
  for (const shipment of state.shipments.values()) {
    const counter = COUNTER_OF_STEP[shipment.step];
    if (shipment.goods && counter) count(shipment.goods, counter, shipment.goods.quantity);
  }
  for (const allocation of state.allocations.values()) {
    if (allocation.goods && !allocation.released)
      count(allocation.goods, 'allocated', allocation.goods.quantity);
  }
  for (const [place, delta] of state.adjustments) {
    const [providerId, placeSku] = JSON.parse(place) as [string, string];
    count({ providerId, sku: placeSku, quantity: delta }, 'installed', delta);
  }

  const rows: ReferenceRow[] = [];
  for (const [place, t] of tallies) {
    const [providerId, placeSku] = JSON.parse(place) as [string, string];
    if (placeSku !== sku) continue;
    rows.push({
      providerId,
      sku,
      installed: t.installed,
      allocated: t.allocated,
      available: Math.max(0, t.installed - t.allocated),
      overAllocated: Math.max(0, t.allocated - t.installed),
      delivered: t.delivered,
      inTransit: t.inTransit,
      held: t.held,
      // The model's histories hold no regulations, so nothing is ever blocked.
      blocked: 0,
      expectedInbound: t.inTransit + t.held,
    });
  }
  return rows.sort((a, b) => (a.providerId < b.providerId ? -1 : a.providerId > b.providerId ? 1 : 0));
}
