import { COUNTER_NAMES, type Counters } from '../../shared/projections/counters.ts';
import { listingOf, type ShipmentSummary, summariseShipment } from '../../shared/projections/listing.ts';
import type { StoredUnit, UnitPlan } from '../../shared/projections/plan.ts';
import { parseRowKey, type RowKey } from '../../shared/projections/rows.ts';
import type { UnitStore } from '../../shared/projector/projector.ts';
import type { AvailabilityReader } from '../../shared/queries/availability.ts';
import type { ComplianceReader } from '../../shared/queries/compliance.ts';
import {
  type CountersRow,
  type ProjectorStats,
  StaleUnitError,
} from '../../shared/store/projection-store.ts';

/** DynamoDB's cap on the items of one TransactWriteItems call. */
const MAX_TRANSACTION_ITEMS = 100;

class ValidationException extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationException';
  }
}

export interface MemorySnapshot {
  counters: CountersRow[];
  members: Record<RowKey, string[]>;
  providerSkus: Record<string, string[]>;
  units: Record<string, { version: number; applied: StoredUnit['applied'] }>;
}

const sorted = (values: Iterable<string>): string[] => [...values].sort();

/**
 * The projections store in memory, with the DynamoDB store's semantics: a write of several units is atomic and
 * conditional on each unit's version; row counters move by the sum of the plans' deltas; memberships are
 * written before (and regardless of) the conditional write, as DynamoDBProjectionStore does; every read and
 * write copies, so a test can never reach into the store's state through an object it holds.
 */
export class MemoryUnitStore implements UnitStore, AvailabilityReader, ComplianceReader {
  private readonly units = new Map<string, StoredUnit>();
  private readonly counters = new Map<RowKey, Counters>();
  private readonly members = new Map<RowKey, Set<string>>();
  private readonly providerSkus = new Map<string, Set<string>>();
  private projected: ProjectorStats = { eventsProjected: 0 };
  private future: string | undefined;

  async getUnits(streams: readonly string[]): Promise<StoredUnit[]> {
    // Distinct, like a BatchGetItem: AvailabilityQueries asks for a unit once per row it named.
    return [...new Set(streams)].flatMap((stream) => {
      const unit = this.units.get(stream);
      return unit ? [structuredClone(unit)] : [];
    });
  }

  async applyAll(plans: readonly UnitPlan[]): Promise<void> {
    const copies = structuredClone([...plans]);
    for (const plan of copies) {
      for (const row of plan.newRows) {
        const { providerId, sku } = parseRowKey(row);
        this.addTo(this.members, row, plan.next.stream);
        this.addTo(this.providerSkus, providerId, sku);
      }
    }

    const streams = copies.map((plan) => plan.next.stream);
    if (new Set(streams).size !== streams.length) {
      throw new ValidationException('Transaction request cannot include multiple operations on one item');
    }
    const rowDeltas = new Map<RowKey, Counters>();
    for (const plan of copies) {
      for (const [row, delta] of plan.deltas) {
        const sum = rowDeltas.get(row);
        rowDeltas.set(row, sum ? add(sum, delta) : delta);
      }
    }
    if (copies.length + rowDeltas.size > MAX_TRANSACTION_ITEMS) {
      throw new ValidationException(`a transaction holds at most ${MAX_TRANSACTION_ITEMS} items`);
    }
    // All conditions first: a transaction applies everything or nothing.
    const stale = copies.filter(
      (plan) => (this.units.get(plan.next.stream)?.version ?? 0) !== plan.expectedVersion,
    );
    if (stale.length > 0) throw new StaleUnitError(stale.map((plan) => plan.next.stream).join(', '));

    for (const plan of copies) this.units.set(plan.next.stream, plan.next);
    for (const [row, delta] of rowDeltas) {
      const current = this.counters.get(row);
      this.counters.set(row, current ? add(current, delta) : delta);
    }
  }

  async countProjected(count: number, lastEventRecordedAt: string, now: string): Promise<void> {
    if (count === 0) return;
    this.projected = {
      eventsProjected: this.projected.eventsProjected + count,
      lastProjectedAt: now,
      lastEventRecordedAt,
    };
  }

  async noteFuture(occurredAt: string): Promise<void> {
    if (this.future === undefined || this.future < occurredAt) this.future = occurredAt;
  }

  async futureUntil(): Promise<string | undefined> {
    return this.future;
  }

  async stats(): Promise<ProjectorStats> {
    return { ...this.projected };
  }

  async countersForSku(sku: string): Promise<CountersRow[]> {
    // A DynamoDB query returns the rows of a SKU ordered by their sort key, the provider.
    const rows = [...this.counters.keys()].filter((row) => parseRowKey(row).sku === sku);
    return this.countersForRows(
      rows.sort((a, b) => compare(parseRowKey(a).providerId, parseRowKey(b).providerId)),
    );
  }

  async countersForRows(rows: readonly RowKey[]): Promise<CountersRow[]> {
    return rows.flatMap((row) => {
      const counters = this.counters.get(row);
      return counters ? [{ ...parseRowKey(row), ...counters }] : [];
    });
  }

  async membersOf(row: RowKey): Promise<string[]> {
    return sorted(this.members.get(row) ?? []);
  }

  async skusOf(providerId: string): Promise<string[]> {
    return sorted(this.providerSkus.get(providerId) ?? []);
  }

  async idsOf(kind: 'regulation' | 'licence'): Promise<string[]> {
    return sorted(
      [...this.units.keys()].filter((s) => s.startsWith(`${kind}:`)).map((s) => s.slice(kind.length + 1)),
    );
  }

  async onTheWay(rows: readonly RowKey[]): Promise<ShipmentSummary[]> {
    const wanted = new Set(rows);
    return [...this.units.values()].flatMap((unit) => {
      const entry = listingOf(unit);
      return entry?.wpk && wanted.has(entry.wpk)
        ? [JSON.parse(entry.summary as string) as ShipmentSummary]
        : [];
    });
  }

  async listShipments(options: {
    after?: string;
    limit: number;
    keep: (summary: ShipmentSummary) => boolean;
  }): Promise<{ items: ShipmentSummary[]; more: boolean }> {
    const all = [...this.units.values()]
      .filter((unit) => unit.stream.startsWith('shipment:'))
      .map((unit) => summariseShipment(unit.stream.slice('shipment:'.length), unit))
      .filter((s) => (options.after === undefined || s.shipmentId > options.after) && options.keep(s))
      .sort((a, b) => compare(a.shipmentId, b.shipmentId));
    return { items: all.slice(0, options.limit), more: all.length > options.limit };
  }

  /** Everything that must not depend on arrival order (unit event lists do, so only their versions show). */
  snapshot(): MemorySnapshot {
    const entries = <V>(map: Map<string, V>) => [...map.entries()].sort(([a], [b]) => compare(a, b));
    return structuredClone({
      counters: entries(this.counters).map(([row, counters]) => ({ ...parseRowKey(row), ...counters })),
      members: Object.fromEntries(entries(this.members).map(([row, set]) => [row, sorted(set)])),
      providerSkus: Object.fromEntries(entries(this.providerSkus).map(([p, set]) => [p, sorted(set)])),
      units: Object.fromEntries(
        entries(this.units).map(([stream, unit]) => [
          stream,
          { version: unit.version, applied: unit.applied },
        ]),
      ),
    });
  }

  private addTo(map: Map<string, Set<string>>, key: string, value: string): void {
    const set = map.get(key) ?? new Set<string>();
    set.add(value);
    map.set(key, set);
  }
}

function add(a: Counters, b: Counters): Counters {
  const sum = { ...a };
  for (const name of COUNTER_NAMES) sum[name] = a[name] + b[name];
  return sum;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
