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
  /** Per regulation with a capped licence, the licence each shipment was covered by: computed on demand. */
  private readonly allocations = new Map<string, Map<string, string>>();
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

  /**
   * The licence that covers the shipment under the regulation, if any: the first by id whose terms hold
   * and, where it caps its units, whose units are not all spent on the shipments it covered before.
   */
  private coveringLicence(regulation: RegulationView, s: Dispatched): string | undefined {
    const candidates = this.licencesUnder(regulation.regulationId);
    if (candidates.every((l) => l.grant.quantity === undefined)) {
      return candidates.find((l) => this.termsHold(l, s))?.grant.licenceId;
    }
    return this.allocation(regulation.regulationId, candidates).get(s.shipmentId);
  }

  private licencesUnder(regulationId: string): Licence[] {
    return this.licences
      .filter((l) => l.grant.regulationId === regulationId)
      .sort((a, b) => (a.grant.licenceId < b.grant.licenceId ? -1 : 1));
  }

  /**
   * Which licence covered each shipment the regulation applies to, when some licence under it is capped:
   * the shipments in dispatch order (then id), each given the first licence by id whose terms hold and whose
   * units, spent only on the shipments it did cover, still suffice. Worked out once per regulation.
   */
  private allocation(regulationId: string, candidates: readonly Licence[]): Map<string, string> {
    let chosen = this.allocations.get(regulationId);
    if (chosen) return chosen;
    chosen = new Map();
    const spent = new Map<string, number>();
    for (const other of this.shipments) {
      const applying = this.applyingExports(other).find((r) => r.regulationId === regulationId);
      if (!applying || applying.policy === 'prohibited') continue;
      const licence = candidates.find((l) => {
        const cap = l.grant.quantity;
        const used = spent.get(l.grant.licenceId) ?? 0;
        return this.termsHold(l, other) && (cap === undefined || used + other.quantity <= cap);
      });
      if (!licence) continue;
      spent.set(licence.grant.licenceId, (spent.get(licence.grant.licenceId) ?? 0) + other.quantity);
      chosen.set(other.shipmentId, licence.grant.licenceId);
    }
    this.allocations.set(regulationId, chosen);
    return chosen;
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
}
