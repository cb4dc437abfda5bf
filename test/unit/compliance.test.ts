import { describe, expect, it } from 'vitest';
import { EventInput } from '../../shared/events/catalogue.ts';
import { ComplianceJudge } from '../../shared/projections/compliance.ts';
import type { ShipmentSummary } from '../../shared/projections/listing.ts';
import { licenceAt, regulationAt } from '../../shared/projections/regulation.ts';
import type { UnitEvent } from '../../shared/projections/unit.ts';
import { h20Rule } from '../support/fixtures.ts';

let sequence = 0;
function event(type: string, occurredAt: string, data: Record<string, unknown>): UnitEvent {
  const parsed = EventInput.parse({ eventId: `E-${++sequence}`, type, occurredAt, data });
  return { ...parsed, recordedAt: occurredAt, source: 'test' } as UnitEvent;
}

const BIS = (overrides: Record<string, unknown> = {}, at = '2025-01-01T00:00:00Z') =>
  event('regulation.issued', at, h20Rule({ destinations: ['CN', 'MO'], ...overrides }));

const licence = (overrides: Record<string, unknown> = {}) =>
  event('licence.granted', '2025-04-01T00:00:00Z', {
    licenceId: 'L-1',
    regulationId: 'BIS-1',
    exporter: 'nvidia',
    skus: ['H20'],
    validFrom: '2025-04-01T00:00:00Z',
    ...overrides,
  });

function shipment(overrides: Partial<ShipmentSummary> = {}): ShipmentSummary {
  return {
    shipmentId: 'SH-1',
    sku: 'H20',
    quantity: 100,
    exporter: 'nvidia',
    origin: { country: 'TW' },
    destination: { country: 'CN', providerId: 'alibaba-cloud' },
    status: 'dispatched',
    statusAt: '2025-05-01T00:00:00.000Z',
    dispatchedAt: '2025-05-01T00:00:00.000Z',
    ...overrides,
  };
}

const NOW = '2025-06-01T00:00:00.000Z';
const judge = (regulations: UnitEvent[][], licences: UnitEvent[][] = [], shipments: ShipmentSummary[] = []) =>
  new ComplianceJudge(regulations, licences, shipments);

describe('regulationAt', () => {
  const amended = event('regulation.amended', '2025-05-01T00:00:00Z', {
    regulationId: 'BIS-1',
    destinations: ['CN', 'MO', 'HK'],
    policy: 'prohibited',
  });
  const rescinded = event('regulation.rescinded', '2025-07-01T00:00:00Z', { regulationId: 'BIS-1' });
  const stream = [rescinded, amended, BIS()];

  it('is scheduled before effectiveFrom, in force from it, rescinded from the rescission', () => {
    expect(regulationAt(stream, '2025-04-08T23:59:59.999Z')?.status).toBe('scheduled');
    expect(regulationAt(stream, '2025-04-09T00:00:00.000Z')?.status).toBe('in-force');
    expect(regulationAt(stream, '2025-07-01T00:00:00.000Z')).toMatchObject({
      status: 'rescinded',
      rescindedAt: '2025-07-01T00:00:00.000Z',
    });
  });

  it('applies an amendment from its occurredAt, whatever order the events came in', () => {
    expect(regulationAt(stream, '2025-04-30T00:00:00.000Z')).toMatchObject({
      destinations: ['CN', 'MO'],
      policy: 'licence-required',
    });
    expect(regulationAt(stream, '2025-05-01T00:00:00.000Z')).toMatchObject({
      destinations: ['CN', 'MO', 'HK'],
      policy: 'prohibited',
    });
  });

  it('knows nothing until the issue is known', () => {
    expect(regulationAt([amended], NOW)).toBeUndefined();
  });
});

describe('licenceAt', () => {
  it('is pending, valid, expired or revoked by the time asked', () => {
    const stream = [
      licence({ validFrom: '2025-04-01T00:00:00Z', validUntil: '2025-09-01T00:00:00Z' }),
      event('licence.revoked', '2025-08-01T00:00:00Z', { licenceId: 'L-1' }),
    ];
    expect(licenceAt(stream, '2025-03-01T00:00:00.000Z')?.status).toBe('pending');
    expect(licenceAt(stream, '2025-04-01T00:00:00.000Z')?.status).toBe('valid');
    expect(licenceAt(stream, '2025-08-01T00:00:00.000Z')).toMatchObject({
      status: 'revoked',
      revokedAt: '2025-08-01T00:00:00.000Z',
    });
    expect(licenceAt(stream.slice(0, 1), '2025-09-01T00:00:00.000Z')?.status).toBe('expired');
  });
});

describe('ComplianceJudge', () => {
  it('is clear when no export regulation applies at the dispatch', () => {
    const cases: [string, UnitEvent[], ShipmentSummary][] = [
      ['destination not listed', [BIS()], shipment({ destination: { country: 'SG', providerId: 'x' } })],
      ['sku not listed', [BIS()], shipment({ sku: 'H800' })],
      ['policy discouraged', [BIS({ policy: 'discouraged' })], shipment()],
      ['not yet in force', [BIS()], shipment({ dispatchedAt: '2025-04-08T00:00:00.000Z' })],
      ['an import rule', [BIS({ direction: 'import' })], shipment()],
      [
        'rescinded at the dispatch',
        [BIS(), event('regulation.rescinded', '2025-05-01T00:00:00Z', { regulationId: 'BIS-1' })],
        shipment(),
      ],
    ];
    for (const [why, regulation, s] of cases) {
      expect(judge([regulation]).judge(s, NOW), why).toEqual({ status: 'clear', regulations: [] });
    }
  });

  it('is a violation without a licence, and licensed with one that covers it', () => {
    expect(judge([[BIS()]]).judge(shipment(), NOW)).toEqual({
      status: 'violation',
      regulations: [{ regulationId: 'BIS-1', outcome: 'violation' }],
    });
    expect(judge([[BIS()]], [[licence()]]).judge(shipment(), NOW)).toEqual({
      status: 'licensed',
      regulations: [{ regulationId: 'BIS-1', outcome: 'licensed', licenceId: 'L-1' }],
    });
  });

  it('treats a prohibition as a violation, licence or not', () => {
    const status = judge([[BIS({ policy: 'prohibited' })]], [[licence()]]).judge(shipment(), NOW);
    expect(status).toEqual({
      status: 'violation',
      regulations: [{ regulationId: 'BIS-1', outcome: 'violation' }],
    });
  });

  it('covers only within every term of the licence', () => {
    const at = shipment().dispatchedAt as string;
    const cases: [string, UnitEvent[]][] = [
      ['another exporter', [licence({ exporter: 'amd' })]],
      ['another SKU', [licence({ skus: ['H800'] })]],
      ['another consignee', [licence({ providerId: 'tencent-cloud' })]],
      ['not valid yet', [licence({ validFrom: '2025-05-02T00:00:00Z' })]],
      ['expired at the dispatch', [licence({ validUntil: at })]],
      ['revoked at the dispatch', [licence(), event('licence.revoked', at, { licenceId: 'L-1' })]],
      ['under another regulation', [licence({ regulationId: 'BIS-2' })]],
    ];
    for (const [why, stream] of cases) {
      expect(judge([[BIS()]], [stream]).judge(shipment(), NOW).status, why).toBe('violation');
    }
    const fits = [licence({ providerId: 'alibaba-cloud', validUntil: '2025-05-01T00:00:00.001Z' })];
    expect(judge([[BIS()]], [fits]).judge(shipment(), NOW).status).toBe('licensed');
  });

  it('tries only the licence a shipment names', () => {
    const licences = [[licence()], [licence({ licenceId: 'L-2', exporter: 'amd' })]];
    expect(judge([[BIS()]], licences).judge(shipment({ licenceId: 'L-2' }), NOW).status).toBe('violation');
    expect(judge([[BIS()]], licences).judge(shipment({ licenceId: 'L-1' }), NOW).regulations).toEqual([
      { regulationId: 'BIS-1', outcome: 'licensed', licenceId: 'L-1' },
    ]);
  });

  it('spends a capped licence on shipments in dispatch order, then id, while units last', () => {
    const at = (day: number) => `2025-05-${String(day).padStart(2, '0')}T00:00:00.000Z`;
    const shipments = [
      shipment({ shipmentId: 'SH-C', quantity: 400, dispatchedAt: at(3) }),
      shipment({ shipmentId: 'SH-B', quantity: 500, dispatchedAt: at(2) }),
      shipment({ shipmentId: 'SH-A', quantity: 600, dispatchedAt: at(2) }),
      // Not a user of the licence: the regulation does not apply to Singapore.
      shipment({
        shipmentId: 'SH-0',
        quantity: 900,
        dispatchedAt: at(1),
        destination: { country: 'SG', providerId: 'x' },
      }),
      shipment({ shipmentId: 'SH-D', quantity: 1, dispatchedAt: at(4) }),
    ];
    const j = judge([[BIS()]], [[licence({ quantity: 1000 })]], shipments);
    const outcome = (id: string) =>
      j.judge(shipments.find((s) => s.shipmentId === id) as ShipmentSummary, NOW).status;
    // SH-A (600) then SH-B (500: over) then SH-C (400: 1000 in all) then SH-D (over by one).
    expect(['SH-A', 'SH-B', 'SH-C', 'SH-D'].map(outcome)).toEqual([
      'licensed',
      'violation',
      'licensed',
      'violation',
    ]);
    expect(outcome('SH-0')).toBe('clear');
  });

  it('spends a capped licence only on the shipments it covered, not on those another licence covered', () => {
    const early = shipment({ shipmentId: 'SH-1', quantity: 10, dispatchedAt: '2025-05-01T00:00:00.000Z' });
    const late = shipment({ shipmentId: 'SH-2', quantity: 10, dispatchedAt: '2025-05-10T00:00:00.000Z' });
    const later = shipment({ shipmentId: 'SH-3', quantity: 1, dispatchedAt: '2025-05-11T00:00:00.000Z' });
    const licences = [
      [licence({ licenceId: 'L-A', validUntil: '2025-05-05T00:00:00Z' })], // no cap, expires on the 5th
      [licence({ licenceId: 'L-B', quantity: 10 })],
    ];
    const j = judge([[BIS()]], licences, [later, late, early]);
    expect([early, late, later].map((s) => j.judge(s, NOW).regulations[0]?.licenceId ?? 'none')).toEqual([
      'L-A', // L-A comes first by id, and L-B is not touched
      'L-B', // L-A expired: L-B's ten units go here
      'none', // L-B is spent
    ]);
  });

  it('needs every applying regulation covered to be licensed', () => {
    const second = BIS({ regulationId: 'BIS-2', title: 'Second rule' });
    const status = judge([[BIS()], [second]], [[licence()]]).judge(shipment(), NOW);
    expect(status).toEqual({
      status: 'violation',
      regulations: [
        { regulationId: 'BIS-1', outcome: 'licensed', licenceId: 'L-1' },
        { regulationId: 'BIS-2', outcome: 'violation' },
      ],
    });
  });

  it('lists a prohibiting import rule as blocking goods in transit or held, not goods delivered', () => {
    const ban = BIS({
      regulationId: 'CAC-1',
      authority: 'CN-CAC',
      jurisdiction: 'CN',
      direction: 'import',
      policy: 'prohibited',
      destinations: ['CN'],
      effectiveFrom: '2025-05-15T00:00:00Z',
    });
    const j = judge([[ban]]);
    for (const status of ['dispatched', 'released', 'held'] as const) {
      expect(j.judge(shipment({ status }), NOW)).toEqual({
        status: 'clear',
        regulations: [{ regulationId: 'CAC-1', outcome: 'blocked' }],
      });
    }
    expect(j.judge(shipment({ status: 'delivered' }), NOW).regulations).toEqual([]);
    expect(j.judge(shipment(), '2025-05-14T00:00:00.000Z').regulations).toEqual([]);
    expect(j.blocks(shipment(), NOW)).toBe(true);
    expect(j.blocks(shipment({ status: 'delivered' }), NOW)).toBe(false);
    expect(j.blocks(shipment(), '2025-05-14T00:00:00.000Z')).toBe(false);
  });

  it('counts as blocked goods in violation while they move, and only then', () => {
    const j = judge([[BIS()]]);
    for (const status of ['dispatched', 'released', 'held'] as const)
      expect(j.blocks(shipment({ status }), NOW)).toBe(true);
    for (const status of ['delivered', 'installed', 'cancelled'] as const) {
      expect(j.blocks(shipment({ status }), NOW)).toBe(false);
    }
    expect(judge([[BIS()]], [[licence()]]).blocks(shipment(), NOW)).toBe(false);
  });

  it('judges a shipment not dispatched yet as clear', () => {
    expect(
      judge([[BIS()]]).judge(shipment({ sku: null, dispatchedAt: null, status: 'unknown' }), NOW),
    ).toEqual({
      status: 'clear',
      regulations: [],
    });
  });
});
