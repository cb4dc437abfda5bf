import { compareEvents } from '../events/catalogue.ts';
import type { ShipmentSummary } from './listing.ts';
import type { UnitEvent } from './unit.ts';

type Issued = Extract<UnitEvent, { type: 'regulation.issued' }>;
type Granted = Extract<UnitEvent, { type: 'licence.granted' }>;

export type RegulationStatus = 'scheduled' | 'in-force' | 'rescinded';

/** A regulation as it stood at a time: its issue with the amendments made by then. */
export interface RegulationView {
  regulationId: string;
  authority: string;
  jurisdiction: string;
  direction: 'export' | 'import' | 'use';
  title: string;
  policy: 'licence-required' | 'prohibited' | 'case-by-case' | 'discouraged';
  skus: string[];
  destinations: string[];
  effectiveFrom: string;
  status: RegulationStatus;
  rescindedAt?: string;
  sourceType?: string;
  reference?: string;
  confidence?: string;
}

/**
 * A regulation's stream read at time `at`: the latest issue, with every amendment whose `occurredAt` is at
 * or before `at` applied in order, and its status then (in force from `effectiveFrom` until rescinded; a
 * rescission counts from its `occurredAt`). Undefined while no issue is known.
 */
export function regulationAt(events: readonly UnitEvent[], at: string): RegulationView | undefined {
  const sorted = [...events].sort(compareEvents);
  const issued = sorted.filter((e): e is Issued => e.type === 'regulation.issued').at(-1);
  if (!issued) return undefined;
  const { data } = issued;
  const view: RegulationView = {
    ...data,
    skus: [...data.skus],
    destinations: [...data.destinations],
    status: 'scheduled',
  };
  for (const e of sorted) {
    if (e.type !== 'regulation.amended' || e.occurredAt > at) continue;
    if (e.data.title !== undefined) view.title = e.data.title;
    if (e.data.policy !== undefined) view.policy = e.data.policy;
    if (e.data.skus !== undefined) view.skus = [...e.data.skus];
    if (e.data.destinations !== undefined) view.destinations = [...e.data.destinations];
  }
  const rescinded = sorted.find((e) => e.type === 'regulation.rescinded' && e.occurredAt <= at);
  if (rescinded) {
    view.status = 'rescinded';
    view.rescindedAt = rescinded.occurredAt;
  } else if (data.effectiveFrom <= at) view.status = 'in-force';
  return view;
}

export type LicenceStatus = 'pending' | 'valid' | 'expired' | 'revoked';

export interface LicenceView {
  licenceId: string;
  regulationId: string;
  exporter: string;
  skus: string[];
  providerId?: string;
  quantity?: number;
  validFrom: string;
  validUntil?: string;
  conditions?: string;
  status: LicenceStatus;
  revokedAt?: string;
}

export type LicenceTerms = Granted['data'];

/** A licence's terms (its latest grant) and its first revocation, if any: what covering depends on. */
export function licenceTerms(
  events: readonly UnitEvent[],
): { terms: LicenceTerms; revokedAt?: string } | undefined {
  const sorted = [...events].sort(compareEvents);
  const granted = sorted.filter((e): e is Granted => e.type === 'licence.granted').at(-1);
  if (!granted) return undefined;
  const revoked = sorted.find((e) => e.type === 'licence.revoked');
  return { terms: granted.data, ...(revoked ? { revokedAt: revoked.occurredAt } : {}) };
}

/** A licence read at time `at`: its terms, and its status then. */
export function licenceAt(events: readonly UnitEvent[], at: string): LicenceView | undefined {
  const licence = licenceTerms(events);
  if (!licence) return undefined;
  const data = licence.terms;
  const revokedAt =
    licence.revokedAt !== undefined && licence.revokedAt <= at ? licence.revokedAt : undefined;
  let status: LicenceStatus = 'valid';
  if (revokedAt) status = 'revoked';
  else if (data.validFrom > at) status = 'pending';
  else if (data.validUntil !== undefined && at >= data.validUntil) status = 'expired';
  return {
    licenceId: data.licenceId,
    regulationId: data.regulationId,
    exporter: data.exporter,
    skus: [...data.skus],
    ...(data.providerId ? { providerId: data.providerId } : {}),
    ...(data.quantity !== undefined ? { quantity: data.quantity } : {}),
    validFrom: data.validFrom,
    ...(data.validUntil ? { validUntil: data.validUntil } : {}),
    ...(data.conditions ? { conditions: data.conditions } : {}),
    status,
    ...(revokedAt ? { revokedAt } : {}),
  };
}

/** A shipment that has been dispatched: one whose compliance can be judged. */
export type Dispatched = ShipmentSummary & {
  sku: string;
  quantity: number;
  exporter: string;
  destination: NonNullable<ShipmentSummary['destination']>;
  dispatchedAt: string;
};

export const isDispatched = (s: ShipmentSummary): s is Dispatched =>
  s.dispatchedAt !== null && s.sku !== null;
