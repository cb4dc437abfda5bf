import { compareEvents, type DomainEvent, LIFECYCLE_RANK } from '../events/catalogue.ts';
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
  const fold = new UnitFold();
  const { asOf, knownAt } = horizon;
  for (const event of events) if (isVisible(event, asOf, knownAt)) fold.add(event);
  return fold.contributeTo(new Map());
}

/**
 * Availability from a flat list of events of many streams, at a horizon: each stream folded by a `UnitFold`,
 * the contributions summed per row. What a rebuild or any replay of a whole history computes. The events
 * are a set, each once (as the store holds them): inventory deltas are sums, so a duplicate would count twice.
 */
export function foldAvailability(
  events: Iterable<UnitEvent & { stream: string }>,
  horizon: Horizon = NOW,
): Map<RowKey, Counters> {
  const { asOf, knownAt } = horizon;
  const folds = new Map<string, UnitFold>();
  for (const event of events) {
    if (!isVisible(event, asOf, knownAt)) continue;
    let fold = folds.get(event.stream);
    if (!fold) {
      fold = new UnitFold();
      folds.set(event.stream, fold);
    }
    fold.add(event);
  }
  const rows = new Map<RowKey, Counters>();
  for (const fold of folds.values()) fold.contributeTo(rows);
  return rows;
}

function isVisible(e: UnitEvent, asOf: string | undefined, knownAt: string | undefined): boolean {
  return (asOf === undefined || e.occurredAt <= asOf) && (knownAt === undefined || e.recordedAt <= knownAt);
}

/** Whether `a` comes after `b` in the fold's order (`compareEvents`), without building anything. */
function isLater(a: UnitEvent, b: UnitEvent): boolean {
  if (a.occurredAt !== b.occurredAt) return a.occurredAt > b.occurredAt;
  const rank = LIFECYCLE_RANK[a.type] - LIFECYCLE_RANK[b.type];
  if (rank !== 0) return rank > 0;
  return a.eventId >= b.eventId;
}

export type Dispatched = Extract<UnitEvent, { type: 'shipment.dispatched' }>;
type Created = Extract<UnitEvent, { type: 'allocation.created' }>;

/**
 * One unit's contribution, folded one event at a time in ANY order. Every input of the sorted fold is a
 * maximum or a sum: a shipment counts its latest dispatch's goods under its latest event's status, an
 * allocation its latest creation unless any release is known, an inventory stream the sum of its deltas. So
 * keeping the latest events and the sums gives exactly what folding the sorted stream would, with no sort,
 * no copy of the events and O(1) work per event: the inner loop of the projector, of every replay and of a
 * rebuild. It folds what it is given: the caller leaves out the events beyond its horizon.
 */
export class UnitFold {
  /**
   * The rows named so far, with what inventory adjustments add to each. Nearly every unit names one row,
   * held in three fields; a map is made only for another (a shipment re-dispatched elsewhere).
   */
  private provider: string | undefined;
  private sku = '';
  private installed = 0;
  private otherRows: Map<RowKey, number> | undefined;
  private dispatch: Dispatched | undefined;
  private latest: UnitEvent | undefined;
  private created: Created | undefined;
  private released = false;

  add(e: UnitEvent): void {
    switch (e.type) {
      case 'shipment.dispatched':
        this.nameRow(e.data.destination.providerId, e.data.sku, 0);
        if (this.dispatch === undefined || isLater(e, this.dispatch)) this.dispatch = e;
        if (this.latest === undefined || isLater(e, this.latest)) this.latest = e;
        break;
      case 'shipment.held':
      case 'shipment.released':
      case 'shipment.delivered':
      case 'shipment.installed':
      case 'shipment.cancelled':
        if (this.latest === undefined || isLater(e, this.latest)) this.latest = e;
        break;
      case 'allocation.created':
        this.nameRow(e.data.providerId, e.data.sku, 0);
        if (this.created === undefined || isLater(e, this.created)) this.created = e;
        break;
      case 'allocation.released':
        this.released = true;
        break;
      case 'inventory.adjusted':
        this.nameRow(e.data.providerId, e.data.sku, e.data.delta);
        break;
    }
  }

  /** A shipment's latest dispatch and the status its latest event gives, as folded so far. */
  shipment(): { dispatch: Dispatched; status: ShipmentStatus; statusAt: string } | undefined {
    if (!this.dispatch || !this.latest) return undefined;
    const status = this.latest.type.slice('shipment.'.length) as ShipmentStatus;
    return { dispatch: this.dispatch, status, statusAt: this.latest.occurredAt };
  }

  /** Adds this unit's contribution into `rows` (every named row gets an entry) and returns `rows`. */
  contributeTo(rows: Map<RowKey, Counters>): Map<RowKey, Counters> {
    if (this.provider === undefined) return rows;
    const counters = name(rows, rowKey(this.provider, this.sku));
    counters.installed += this.installed;
    for (const [row, installed] of this.otherRows ?? []) name(rows, row).installed += installed;
    const counter = this.dispatch && this.latest ? counterOf(this.latest.type) : undefined;
    if (this.dispatch && counter)
      this.countIn(rows, counters, this.dispatch.data.destination.providerId, this.dispatch.data.sku)[
        counter
      ] += this.dispatch.data.quantity;
    if (this.created && !this.released)
      this.countIn(rows, counters, this.created.data.providerId, this.created.data.sku).allocated +=
        this.created.data.quantity;
    return rows;
  }

  /** The counters of a row: those of the unit's first row when it is that one, without building its key. */
  private countIn(rows: Map<RowKey, Counters>, first: Counters, provider: string, sku: string): Counters {
    return provider === this.provider && sku === this.sku ? first : name(rows, rowKey(provider, sku));
  }

  private nameRow(provider: string, sku: string, installed: number): void {
    if (this.provider === undefined) {
      this.provider = provider;
      this.sku = sku;
    }
    if (provider === this.provider && sku === this.sku) {
      this.installed += installed;
      return;
    }
    const row = rowKey(provider, sku);
    this.otherRows ??= new Map();
    this.otherRows.set(row, (this.otherRows.get(row) ?? 0) + installed);
  }
}

/**
 * The counter a shipment's goods count in, by its latest event: none once cancelled. A switch, not a lookup
 * table: indexing an object by a string read from an event makes V8 look the string up in its string table.
 */
function counterOf(type: UnitEvent['type']): CounterName | undefined {
  switch (type) {
    case 'shipment.dispatched':
    case 'shipment.released':
      return 'inTransit';
    case 'shipment.held':
      return 'held';
    case 'shipment.delivered':
      return 'delivered';
    case 'shipment.installed':
      return 'installed';
    default:
      return undefined;
  }
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
