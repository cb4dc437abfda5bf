import { ON_THE_WAY, type ShipmentSummary } from './listing.ts';
import {
  type Dispatched,
  isDispatched,
  type LicenceTerms,
  licenceTerms,
  type RegulationView,
  regulationAt,
} from './regulation.ts';
import type { UnitEvent } from './unit.ts';

export type ComplianceStatus = 'clear' | 'licensed' | 'violation';

export interface RegulationOutcome {
  regulationId: string;
  outcome: 'licensed' | 'violation' | 'blocked';
  licenceId?: string;
}

export interface Compliance {
  status: ComplianceStatus;
  regulations: RegulationOutcome[];
}

/** A licence's grant as it was made, with its first revocation: what covering a shipment depends on. */
interface Licence {
  grant: LicenceTerms;
  revokedAt?: string;
}

const byDispatch = (a: Dispatched, b: Dispatched) =>
  a.dispatchedAt < b.dispatchedAt
    ? -1
    : a.dispatchedAt > b.dispatchedAt
      ? 1
      : a.shipmentId < b.shipmentId
        ? -1
        : a.shipmentId > b.shipmentId
          ? 1
          : 0;

/**
 * Judges shipments against the regulations and licences, as the contract's "Analysis" section defines it.
 * Built from every regulation's and licence's events and, when some licence caps its units, every
 * dispatched shipment (a capped licence covers shipments in dispatch order until its units run out, so
 * whether it covers one depends on those before it). Pure: the caller loads what it needs.
 */
export class ComplianceJudge {
  private readonly licences: Licence[];
  /** Per capped licence (and regulation), the ids of the shipments it covers: computed once, on demand. */
  private readonly covered = new Map<string, Set<string>>();
  private readonly shipments: Dispatched[];
  private readonly views = new Map<string, RegulationView[]>();
  /** Per shipment (and dispatch), whether an export regulation is violated: it does not change with time. */
  private readonly violations = new Map<string, boolean>();

  constructor(
    private readonly regulations: readonly (readonly UnitEvent[])[],
    licences: readonly (readonly UnitEvent[])[],
    shipments: readonly ShipmentSummary[] = [],
  ) {
    this.licences = licences.flatMap((events) => {
      const licence = licenceTerms(events);
      return licence
        ? [{ grant: licence.terms, ...(licence.revokedAt ? { revokedAt: licence.revokedAt } : {}) }]
        : [];
    });
    this.shipments = shipments.filter(isDispatched).sort(byDispatch);
  }

  /** Whether judging may need every shipment: some licence caps its units. */
  static needsShipments(licences: readonly (readonly UnitEvent[])[]): boolean {
    return licences.some((events) =>
      events.some((e) => e.type === 'licence.granted' && e.data.quantity !== undefined),
    );
  }

  /**
   * A shipment's compliance: each export regulation that applies at its dispatch, licensed or violated, and
   * each prohibiting import regulation that blocks it `now`. A shipment not dispatched yet is `clear` with
   * nothing listed, as no regulation can apply to it yet.
   */
  judge(shipment: ShipmentSummary, now: string): Compliance {
    if (!isDispatched(shipment)) return { status: 'clear', regulations: [] };
    const outcomes: RegulationOutcome[] = [];
    let status: ComplianceStatus = 'clear';
    for (const regulation of this.applyingExports(shipment)) {
      const licenceId =
        regulation.policy === 'prohibited' ? undefined : this.coveringLicence(regulation, shipment);
      if (licenceId) {
        outcomes.push({ regulationId: regulation.regulationId, outcome: 'licensed', licenceId });
        if (status === 'clear') status = 'licensed';
      } else {
        outcomes.push({ regulationId: regulation.regulationId, outcome: 'violation' });
        status = 'violation';
      }
    }
    for (const regulation of this.blockingImports(shipment, now)) {
      outcomes.push({ regulationId: regulation.regulationId, outcome: 'blocked' });
    }
    outcomes.sort((a, b) => (a.regulationId < b.regulationId ? -1 : a.regulationId > b.regulationId ? 1 : 0));
    return { status, regulations: outcomes };
  }

  /**
   * Whether the shipment's units count as `blocked` at `at`: they are in transit or held (as its summary
   * says), and it is in violation or an import ban blocks it then.
   */
  blocks(shipment: ShipmentSummary, at: string): boolean {
    if (!isDispatched(shipment) || !ON_THE_WAY.has(shipment.status)) return false;
    const key = `${shipment.shipmentId}\u0000${shipment.dispatchedAt}\u0000${shipment.licenceId ?? ''}`;
    let violates = this.violations.get(key);
    if (violates === undefined) {
      violates = this.judge(shipment, shipment.dispatchedAt).status === 'violation';
      this.violations.set(key, violates);
    }
    return violates || this.blockingImports(shipment, at).length > 0;
  }

  /** Every regulation as it stood at `at`, worked out once per time: a history asks at every point. */
  private regulationsAt(at: string): RegulationView[] {
    let views = this.views.get(at);
    if (!views) {
      views = this.regulations.flatMap((events) => regulationAt(events, at) ?? []);
      this.views.set(at, views);
    }
    return views;
  }

  private applyingExports(s: Dispatched): RegulationView[] {
    return this.regulationsAt(s.dispatchedAt).filter((r) => {
      const applies =
        r.direction === 'export' &&
        r.policy !== 'discouraged' &&
        r.status === 'in-force' &&
        r.skus.includes(s.sku) &&
        r.destinations.includes(s.destination.country);
      return applies;
    });
  }

  private blockingImports(s: Dispatched, at: string): RegulationView[] {
    if (!ON_THE_WAY.has(s.status)) return [];
    return this.regulationsAt(at).filter((r) => {
      const blocks =
        r.direction === 'import' &&
        r.policy === 'prohibited' &&
        r.status === 'in-force' &&
        r.skus.includes(s.sku) &&
        r.destinations.includes(s.destination.country);
      return blocks;
    });
  }

  /** The first licence (by id) that covers the shipment under the regulation, if any. */
  private coveringLicence(regulation: RegulationView, s: Dispatched): string | undefined {
    const candidates = this.licences
      .filter((l) => l.grant.regulationId === regulation.regulationId)
      .filter((l) => s.licenceId === undefined || l.grant.licenceId === s.licenceId)
      .sort((a, b) => (a.grant.licenceId < b.grant.licenceId ? -1 : 1));
    return candidates.find((l) => this.covers(l, regulation, s))?.grant.licenceId;
  }

  /** The licence's terms hold for the shipment at its dispatch, its cap aside. */
  private termsHold(l: Licence, s: Dispatched): boolean {
    const { grant } = l;
    const at = s.dispatchedAt;
    return (
      (s.licenceId === undefined || s.licenceId === grant.licenceId) &&
      grant.exporter === s.exporter &&
      grant.skus.includes(s.sku) &&
      (grant.providerId === undefined || grant.providerId === s.destination.providerId) &&
      grant.validFrom <= at &&
      (grant.validUntil === undefined || at < grant.validUntil) &&
      (l.revokedAt === undefined || l.revokedAt > at)
    );
  }

  private covers(l: Licence, regulation: RegulationView, s: Dispatched): boolean {
    if (!this.termsHold(l, s)) return false;
    const cap = l.grant.quantity;
    if (cap === undefined) return true;
    const key = `${l.grant.licenceId}\u0000${regulation.regulationId}`;
    let covered = this.covered.get(key);
    if (!covered) {
      // The licence's units go to the shipments it covers in dispatch order (then id), while they last; a
      // shipment the regulation does not apply to does not use the licence.
      covered = new Set();
      let used = 0;
      for (const other of this.shipments) {
        if (!this.termsHold(l, other)) continue;
        if (!this.applyingExports(other).some((r) => r.regulationId === regulation.regulationId)) continue;
        if (used + other.quantity > cap) continue;
        used += other.quantity;
        covered.add(other.shipmentId);
      }
      this.covered.set(key, covered);
    }
    return covered.has(s.shipmentId);
  }
}
