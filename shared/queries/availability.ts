import {
  type AvailabilityRow,
  addCounters,
  type Counters,
  toRow,
  zeroCounters,
} from '../projections/counters.ts';
import type { StoredUnit } from '../projections/plan.ts';
import { parseRowKey, type RowKey, rowKey } from '../projections/rows.ts';
import { contributionOf, type Horizon, rowsNamed, visibleAt } from '../projections/unit.ts';
import type { CountersRow } from '../store/projection-store.ts';
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
 * from the units of the rows asked for (O(their events), never a scan).
 */
export class AvailabilityQueries {
  constructor(private readonly store: AvailabilityReader) {}

  async forSku(sku: string, options: { provider?: string; horizon?: Horizon }): Promise<AvailabilityRow[]> {
    if (options.provider) {
      const row = rowKey(options.provider, sku);
      if (options.horizon) return this.replay([row], options.horizon);
      return (await this.store.countersForRows([row])).map((c) => toRow(c.providerId, c.sku, c));
    }
    const counters = await this.store.countersForSku(sku);
    if (!options.horizon) return counters.map((c) => toRow(c.providerId, c.sku, c)).sort(byProvider);
    const rows = counters.map((c) => rowKey(c.providerId, sku));
    return (await this.replay(rows, options.horizon)).sort(byProvider);
  }

  async forProvider(
    providerId: string,
    horizon?: Horizon,
  ): Promise<{ skus: string[]; rows: AvailabilityRow[] }> {
    const skus = await this.store.skusOf(providerId);
    const rows = skus.map((sku) => rowKey(providerId, sku));
    if (!horizon) {
      const counters = await this.store.countersForRows(rows);
      return { skus, rows: counters.map((c) => toRow(c.providerId, c.sku, c)).sort(bySku) };
    }
    return { skus, rows: (await this.replay(rows, horizon)).sort(bySku) };
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
    return historyOf(await this.unitsOf(rows), rows, options.points, options.knownAt);
  }

  /** Every unit that ever named one of these rows. */
  private async unitsOf(rows: readonly RowKey[]): Promise<StoredUnit[]> {
    const members = await Promise.all(rows.map((row) => this.store.membersOf(row)));
    // A unit re-dispatched between rows is a member of each: read and fold it once.
    return this.store.getUnits([...new Set(members.flat())]);
  }

  /** Folds every unit that ever named one of these rows, seeing only the events within the horizon. */
  private async replay(rows: readonly RowKey[], horizon: Horizon): Promise<AvailabilityRow[]> {
    const units = await this.unitsOf(rows);
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
        return toRow(providerId, sku, totals.get(row) ?? zeroCounters());
      });
  }
}
