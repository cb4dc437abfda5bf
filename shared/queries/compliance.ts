import { compareEvents } from '../events/catalogue.ts';
import { ComplianceJudge } from '../projections/compliance.ts';
import type { ShipmentSummary } from '../projections/listing.ts';
import type { StoredUnit } from '../projections/plan.ts';
import {
  type LicenceView,
  licenceAt,
  licenceTerms,
  type RegulationView,
  regulationAt,
} from '../projections/regulation.ts';
import { type RowKey, rowKey } from '../projections/rows.ts';
import type { UnitEvent } from '../projections/unit.ts';

/** What regulation and compliance reads need of the projections store. */
export interface ComplianceReader {
  idsOf(kind: 'regulation' | 'licence'): Promise<string[]>;
  onTheWay(rows: readonly RowKey[]): Promise<ShipmentSummary[]>;
  getUnits(streams: readonly string[]): Promise<StoredUnit[]>;
  listShipments(options: {
    after?: string;
    limit: number;
    keep: (summary: ShipmentSummary) => boolean;
  }): Promise<{ items: ShipmentSummary[]; more: boolean }>;
}

export interface TimelineEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  data: unknown;
}

export interface RegulationItem extends RegulationView {
  licences: number;
}

/**
 * Regulations, licences and shipment compliance, read from the projections: every regulation and licence
 * unit (they are few), and every shipment's summary only when some licence caps its units.
 *
 * @debt a capped licence makes each judgement read every shipment's summary (one listing-index query per
 * shard): fine for the thousands of lots a year the domain knows, not for millions.
 */
export class ComplianceQueries {
  constructor(private readonly store: ComplianceReader) {}

  private async unitsOf(kind: 'regulation' | 'licence'): Promise<StoredUnit[]> {
    const ids = await this.store.idsOf(kind);
    return this.store.getUnits(ids.map((id) => `${kind}:${id}`));
  }

  /**
   * Everything a judgement needs: the regulations and licences (only those recorded by `knownAt`, when
   * given; their own dates say when they are in force) and, when some licence caps its units, every
   * shipment's summary (only those dispatched on record by `knownAt`). `shipment` joins the shipments: the
   * index may not show it yet.
   */
  async judge(options: { knownAt?: string; shipment?: ShipmentSummary } = {}): Promise<ComplianceJudge> {
    return (await this.load(options)).judge;
  }

  /**
   * A judge for availability's `blocked`; undefined when no regulation is known, so that reads of a history
   * without any skip it all.
   *
   * @debt a capped licence's uses are counted from every shipment's summary (a query per listing shard):
   * O(shipments) while a capped licence exists, where an index by exporter and dispatch time would bound it by
   * the licence's scope.
   */
  async blockingJudge(knownAt?: string): Promise<ComplianceJudge | undefined> {
    const { judge, regulations } = await this.load({ knownAt });
    return regulations > 0 ? judge : undefined;
  }

  private async load(options: {
    knownAt?: string;
    shipment?: ShipmentSummary;
  }): Promise<{ judge: ComplianceJudge; regulations: number }> {
    const { knownAt, shipment } = options;
    const known = (units: readonly StoredUnit[]) =>
      units.map((u) => (knownAt === undefined ? u.events : u.events.filter((e) => e.recordedAt <= knownAt)));
    const regulationUnits = await this.unitsOf('regulation');
    // Without regulations every shipment is clear: nothing else needs reading.
    if (regulationUnits.length === 0) return { judge: new ComplianceJudge([], []), regulations: 0 };
    const regulations = known(regulationUnits);
    const licences = known(await this.unitsOf('licence'));
    let shipments: ShipmentSummary[] = [];
    if (ComplianceJudge.needsShipments(licences)) {
      const listed = await this.store.listShipments({
        limit: Number.POSITIVE_INFINITY,
        // A summary from before `dispatchRecordedAt` existed counts as known.
        keep: (s) => knownAt === undefined || (s.dispatchRecordedAt ?? '') <= knownAt,
      });
      shipments = listed.items;
      if (shipment) shipments = [...shipments.filter((s) => s.shipmentId !== shipment.shipmentId), shipment];
    }
    return {
      judge: new ComplianceJudge(regulations, licences, shipments),
      regulations: regulationUnits.length,
    };
  }

  /** Every regulation as it stood at `at`, sorted by id; only those in force then when `inForceOnly`. */
  async regulations(at: string, inForceOnly: boolean): Promise<RegulationItem[]> {
    const [regulations, licences] = await Promise.all([this.unitsOf('regulation'), this.unitsOf('licence')]);
    const count = licenceCounts(licences.map((u) => u.events));
    return regulations
      .flatMap((unit) => {
        const view = regulationAt(unit.events, at);
        if (!view || (inForceOnly && view.status !== 'in-force')) return [];
        return [{ ...view, licences: count.get(view.regulationId) ?? 0 }];
      })
      .sort((a, b) => (a.regulationId < b.regulationId ? -1 : 1));
  }

  /** One regulation at `at`, with its events and the licences granted under it; undefined if never issued. */
  async regulation(
    regulationId: string,
    at: string,
  ): Promise<(RegulationView & { events: TimelineEvent[]; licences: LicenceView[] }) | undefined> {
    const [units, licences] = await Promise.all([
      this.store.getUnits([`regulation:${regulationId}`]),
      this.unitsOf('licence'),
    ]);
    const unit = units[0];
    const view = unit && regulationAt(unit.events, at);
    if (!unit || !view) return undefined;
    return {
      ...view,
      events: [...unit.events]
        .sort(compareEvents)
        .map(({ eventId, type, occurredAt, data }) => ({ eventId, type, occurredAt, data })),
      licences: licences
        .flatMap((l) => licenceAt(l.events, at) ?? [])
        .filter((l) => l.regulationId === regulationId)
        .sort((a, b) => (a.licenceId < b.licenceId ? -1 : 1)),
    };
  }
}

function licenceCounts(licences: readonly (readonly UnitEvent[])[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const events of licences) {
    const licence = licenceTerms(events);
    if (licence) counts.set(licence.terms.regulationId, (counts.get(licence.terms.regulationId) ?? 0) + 1);
  }
  return counts;
}

/** Units of `shipments` that count as blocked at `at`, per row, for the rows wanted. */
export function blockedPerRow(
  judge: ComplianceJudge,
  shipments: Iterable<ShipmentSummary>,
  rows: ReadonlySet<RowKey>,
  at: string,
): Map<RowKey, number> {
  const blocked = new Map<RowKey, number>();
  for (const s of shipments) {
    if (!s.sku || !s.destination || !s.quantity) continue;
    const row = rowKey(s.destination.providerId, s.sku);
    if (!rows.has(row) || !judge.blocks(s, at)) continue;
    blocked.set(row, (blocked.get(row) ?? 0) + s.quantity);
  }
  return blocked;
}
