import {
  type AvailabilityRow,
  addCounters,
  type Counters,
  toRow,
  zeroCounters,
} from '../projections/counters.ts';
import { summariseShipment } from '../projections/listing.ts';
import type { StoredUnit } from '../projections/plan.ts';
import { parseRowKey, type RowKey, rowKey } from '../projections/rows.ts';
import { contributionOf, type Horizon, rowsNamed, visibleAt } from '../projections/unit.ts';
import type { CountersRow } from '../store/projection-store.ts';
import { blockedPerRow, ComplianceQueries, type ComplianceReader } from './compliance.ts';
import { type HistoryPoint, historyOf } from './history.ts';

/** What availability reads need of the projections store. */
export interface AvailabilityReader {
  countersForSku(sku: string): Promise<CountersRow[]>;
  countersForRows(rows: readonly RowKey[]): Promise<CountersRow[]>;
  membersOf(row: RowKey): Promise<string[]>;
  getUnits(streams: readonly string[]): Promise<StoredUnit[]>;
  skusOf(providerId: string): Promise<string[]>;
}

const byProvider = (a: AvailabilityRow, b: AvailabilityRow) => (a.providerId < b.providerId ? -1 : 1);
const bySku = (a: AvailabilityRow, b: AvailabilityRow) => (a.sku < b.sku ? -1 : 1);

/**
 * Availability rows, either as projected now (O(1) reads in the history's length) or replayed at a horizon
 * from the units of the rows asked for (O(their events), never a scan). `blocked` comes from compliance
 * (`ComplianceQueries.blockingJudge`) and is zero, without a read, while no regulation is known.
 */
export class AvailabilityQueries {
  private readonly compliance: ComplianceQueries;

  constructor(private readonly store: AvailabilityReader & ComplianceReader) {
    this.compliance = new ComplianceQueries(store);
  }

  /** `now` is when "now" is: `blocked` counts the import bans in force then. */
  async forSku(
    sku: string,
    options: { provider?: string; horizon?: Horizon; now: string },
  ): Promise<AvailabilityRow[]> {
    const { horizon, now } = options;
    if (options.provider) {
      const row = rowKey(options.provider, sku);
      if (horizon) return this.replay([row], horizon, now);
      return this.projected(await this.store.countersForRows([row]), now);
    }
    const counters = await this.store.countersForSku(sku);
    if (!horizon) return (await this.projected(counters, now)).sort(byProvider);
    const rows = counters.map((c) => rowKey(c.providerId, sku));
    return (await this.replay(rows, horizon, now)).sort(byProvider);
  }

  async forProvider(
    providerId: string,
    options: { horizon?: Horizon; now: string },
  ): Promise<{ skus: string[]; rows: AvailabilityRow[] }> {
    const skus = await this.store.skusOf(providerId);
    const rows = skus.map((sku) => rowKey(providerId, sku));
    if (!options.horizon) {
      const counters = await this.store.countersForRows(rows);
      return { skus, rows: (await this.projected(counters, options.now)).sort(bySku) };
    }
    return { skus, rows: (await this.replay(rows, options.horizon, options.now)).sort(bySku) };
  }

  /**
   * Projected counters as rows, with what is blocked among the goods on their way now: read from the
   * on-the-way index, O(those goods) and not O(history).
   */
  private async projected(counters: readonly CountersRow[], now: string): Promise<AvailabilityRow[]> {
    const judge = await this.compliance.blockingJudge();
    const rows = counters.map((c) => rowKey(c.providerId, c.sku));
    const blocked = judge
      ? blockedPerRow(judge, await this.store.onTheWay(rows), new Set(rows), now)
      : new Map<RowKey, number>();
    return counters.map((c) => toRow(c.providerId, c.sku, c, blocked.get(rowKey(c.providerId, c.sku)) ?? 0));
  }

  /**
   * Availability of a SKU (summed over its providers, or one provider's) at each of `points`, ascending:
   * one read of the units that ever named its rows, then one sweep (`historyOf`).
   */
  async history(
    sku: string,
    options: { provider?: string; points: readonly string[]; knownAt?: string },
  ): Promise<HistoryPoint[]> {
    const rows = options.provider
      ? [rowKey(options.provider, sku)]
      : (await this.store.countersForSku(sku)).map((c) => rowKey(c.providerId, sku));
    const [units, blocking] = await Promise.all([
      this.unitsOf(rows),
      this.compliance.blockingJudge(options.knownAt),
    ]);
    return historyOf(units, rows, options.points, options.knownAt, blocking);
  }

  /** Every unit that ever named one of these rows. */
  private async unitsOf(rows: readonly RowKey[]): Promise<StoredUnit[]> {
    const members = await Promise.all(rows.map((row) => this.store.membersOf(row)));
    // A unit re-dispatched between rows is a member of each: read and fold it once.
    return this.store.getUnits([...new Set(members.flat())]);
  }

  /** Folds every unit that ever named one of these rows, seeing only the events within the horizon. */
  private async replay(rows: readonly RowKey[], horizon: Horizon, now: string): Promise<AvailabilityRow[]> {
    const [units, blocking] = await Promise.all([
      this.unitsOf(rows),
      this.compliance.blockingJudge(horizon.knownAt),
    ]);
    // The shipments as they stood at the horizon: the goods on their way then are the ones that can be blocked.
    const shipments = units
      .filter((unit) => unit.stream.startsWith('shipment:'))
      .map((unit) =>
        summariseShipment(unit.stream.slice('shipment:'.length), {
          ...unit,
          events: visibleAt(unit.events, horizon),
        }),
      );
    const blocked = blocking
      ? blockedPerRow(blocking, shipments, new Set(rows), horizon.asOf ?? now)
      : new Map<RowKey, number>();
    const totals = new Map<RowKey, Counters>();
    const present = new Set<RowKey>();
    for (const unit of units) {
      for (const row of rowsNamed(visibleAt(unit.events, horizon))) present.add(row);
      for (const [row, counters] of contributionOf(unit.events, horizon)) {
        totals.set(row, addCounters(totals.get(row) ?? zeroCounters(), counters));
      }
    }
    return rows
      .filter((row) => present.has(row))
      .map((row) => {
        const { providerId, sku } = parseRowKey(row);
        return toRow(providerId, sku, totals.get(row) ?? zeroCounters(), blocked.get(row) ?? 0);
      });
  }
}
