/**
 * The demo dataset: the H20 story of 2024 to January 2026, as partners would POST it to `/v1/events`.
 *
 * SYNTHETIC: every per-provider quantity (opening balances, shipments, allocations), every shipment, allocation
 * and licence id, and the customs fate of each lot. Nothing public gives per-provider H20 inventories; the
 * figures are only scaled to press estimates, marked "est." where one is used (High-Flyer's ~30,000 H20, say).
 * The regulation timeline follows public reporting (Federal Register rules, NVIDIA's filings, press reports of
 * unpublished Chinese guidance); `sourceType` and `confidence` say which, and reported dates are approximate.
 *
 * Event ids are fixed and named after the entity and step rather than numbered, so that editing one event
 * conflicts only with that event in a store seeded before, and posting the set twice is harmless.
 */
import type * as z from 'zod';
import type { DATA_SCHEMAS, EventType } from '../shared/events/catalogue.ts';

type Data<T extends EventType> = z.input<(typeof DATA_SCHEMAS)[T]>;

/** One event as a partner posts it: plain JSON, with the `data` of its type. */
export type DemoEvent = {
  [T in EventType]: { eventId: string; type: T; occurredAt: string; data: Data<T> };
}[EventType];

const SYNTHETIC = 'Synthetic opening balance: no public source gives per-provider inventories.';

const provider = (providerId: string, name: string, kind: 'cloud' | 'lab'): DemoEvent => ({
  eventId: `demo-provider-${providerId}`,
  type: 'provider.registered',
  occurredAt: '2024-07-01T00:00:00Z',
  data: { providerId, name, country: 'CN', kind },
});

const inventory = (occurredAt: string, data: Data<'inventory.adjusted'>): DemoEvent => ({
  eventId: `demo-inventory-${data.providerId}-${data.sku}-${data.reason}`,
  type: 'inventory.adjusted',
  occurredAt,
  data,
});

const opening = (providerId: string, sku: string, delta: number, note = SYNTHETIC): DemoEvent =>
  inventory('2024-07-01T00:00:00Z', { providerId, sku, delta, reason: 'opening-balance', note });

const regulation = (occurredAt: string, data: Data<'regulation.issued'>): DemoEvent => ({
  eventId: `demo-${data.regulationId}-issued`,
  type: 'regulation.issued',
  occurredAt,
  data,
});

const licence = (occurredAt: string, data: Data<'licence.granted'>): DemoEvent => ({
  eventId: `demo-${data.licenceId}-granted`,
  type: 'licence.granted',
  occurredAt,
  data,
});

interface Lifecycle {
  held?: { at: string; authority: string; reason: string; regulationId?: string };
  released?: string;
  delivered?: string;
  installed?: string;
  cancelled?: { at: string; disposition: 'cancelled' | 'returned' | 'seized' | 'diverted'; reason: string };
}

/** A lot and the steps it has reached so far; a step left out has not happened (yet). */
function shipment(at: string, dispatch: Data<'shipment.dispatched'>, life: Lifecycle = {}): DemoEvent[] {
  const { shipmentId } = dispatch;
  const id = (step: string) => `demo-${shipmentId}-${step}`;
  const events: DemoEvent[] = [
    { eventId: id('dispatched'), type: 'shipment.dispatched', occurredAt: at, data: dispatch },
  ];
  if (life.held) {
    const { at: heldAt, ...held } = life.held;
    events.push({
      eventId: id('held'),
      type: 'shipment.held',
      occurredAt: heldAt,
      data: { shipmentId, ...held },
    });
  }
  if (life.released) {
    events.push({
      eventId: id('released'),
      type: 'shipment.released',
      occurredAt: life.released,
      data: { shipmentId },
    });
  }
  if (life.delivered) {
    const site = dispatch.destination.site;
    const data = site ? { shipmentId, site } : { shipmentId };
    events.push({ eventId: id('delivered'), type: 'shipment.delivered', occurredAt: life.delivered, data });
  }
  if (life.installed) {
    events.push({
      eventId: id('installed'),
      type: 'shipment.installed',
      occurredAt: life.installed,
      data: { shipmentId },
    });
  }
  if (life.cancelled) {
    const { at: cancelledAt, ...cancelled } = life.cancelled;
    events.push({
      eventId: id('cancelled'),
      type: 'shipment.cancelled',
      occurredAt: cancelledAt,
      data: { shipmentId, ...cancelled },
    });
  }
  return events;
}

type Origin = 'TW' | 'US' | 'HK';
interface Lot {
  id: string;
  sku?: string;
  quantity: number;
  to: string;
  from: Origin;
  hs: '8473.30' | '8471.50';
  licenceId?: string;
  eccn?: '3A090' | '4A090';
  site?: string;
}

/**
 * An NVIDIA lot to mainland China, as boards (HS 8473.30) or whole servers (8471.50). The H20 sits below the
 * 3A090 thresholds (its 2025 licence requirement came by letter, not by a new ECCN), so only H200 lots carry one.
 */
function lot(spec: Lot): Data<'shipment.dispatched'> {
  return {
    shipmentId: spec.id,
    sku: spec.sku ?? 'H20',
    quantity: spec.quantity,
    exporter: 'nvidia',
    origin: { country: spec.from },
    destination: { country: 'CN', providerId: spec.to, ...(spec.site ? { site: spec.site } : {}) },
    ...(spec.licenceId ? { licenceId: spec.licenceId } : {}),
    hsCode: spec.hs,
    ...(spec.eccn ? { eccn: spec.eccn } : {}),
  };
}

const allocation = (at: string, data: Data<'allocation.created'>): DemoEvent => ({
  eventId: `demo-${data.allocationId}-created`,
  type: 'allocation.created',
  occurredAt: at,
  data,
});

const US_H20 = 'us-bis-2025-04-09-h20';
const US_H200 = 'us-bis-2026-01-15-h200';
const CN_H20 = 'cn-cac-2025-08-12-h20';
const CN_RTX = 'cn-cac-2025-09-17-rtx-pro-6000d';
const CN_CUSTOMS = 'cn-gacc-2025-10-gpu-inspections';
const CN_H200 = 'cn-gacc-2026-01-13-h200';
const LIC_H20_ANY = 'us-bis-lic-h20-0001';
const LIC_H20_VOLCANO = 'us-bis-lic-h20-0002';
const LIC_H200_ALIBABA = 'us-bis-lic-h200-0001';
const CN_CUSTOMS_HOLD =
  'Held at import under the tightened inspections of NVIDIA GPU imports (reported Oct 2025).';

function providers(): DemoEvent[] {
  return [
    provider('alibaba-cloud', 'Alibaba Cloud', 'cloud'),
    provider('tencent-cloud', 'Tencent Cloud', 'cloud'),
    provider('baidu-ai-cloud', 'Baidu AI Cloud', 'cloud'),
    provider('huawei-cloud', 'Huawei Cloud', 'cloud'),
    provider('volcano-engine', 'Volcano Engine (ByteDance)', 'cloud'),
    provider('high-flyer', 'High-Flyer (DeepSeek compute)', 'lab'),
  ];
}

function regulations(): DemoEvent[] {
  return [
    regulation('2023-10-17T00:00:00Z', {
      regulationId: 'us-bis-2023-10-17-advanced-computing',
      authority: 'US-BIS',
      jurisdiction: 'US',
      direction: 'export',
      title: 'Advanced computing rule update: A800, H800 and L40S join A100/H100 under licence (3A090/4A090)',
      policy: 'licence-required',
      skus: ['A100', 'A800', 'H100', 'H800', 'L40S'],
      destinations: ['CN', 'HK', 'MO'],
      effectiveFrom: '2023-11-17T00:00:00Z',
      sourceType: 'rule',
      reference:
        'BIS interim final rule announced 2023-10-17, 88 FR 73458 (2023-10-25), in effect 2023-11-17',
      confidence: 'confirmed',
    }),
    regulation('2025-01-13T00:00:00Z', {
      regulationId: 'us-bis-2025-01-13-ai-diffusion',
      authority: 'US-BIS',
      jurisdiction: 'US',
      direction: 'export',
      title:
        'Framework for AI Diffusion: licences and country caps for tier-2 countries (hubs near China listed)',
      policy: 'licence-required',
      skus: ['H100', 'H200'],
      destinations: ['MY', 'SG'],
      effectiveFrom: '2025-01-15T00:00:00Z',
      sourceType: 'rule',
      reference: 'BIS interim final rule, 90 FR 4544 (2025-01-15); rescission announced 2025-05-13',
      confidence: 'confirmed',
    }),
    {
      eventId: 'demo-us-bis-2025-01-13-ai-diffusion-rescinded',
      type: 'regulation.rescinded',
      occurredAt: '2025-05-13T00:00:00Z',
      data: { regulationId: 'us-bis-2025-01-13-ai-diffusion' },
    },
    regulation('2025-04-09T00:00:00Z', {
      regulationId: US_H20,
      authority: 'US-BIS',
      jurisdiction: 'US',
      direction: 'export',
      title: 'Licence required for NVIDIA H20 exports to China (is-informed letter to NVIDIA)',
      policy: 'licence-required',
      skus: ['H20'],
      destinations: ['CN', 'HK', 'MO'],
      effectiveFrom: '2025-04-09T00:00:00Z',
      sourceType: 'notice',
      reference:
        'NVIDIA Form 8-K (2025-04-15): informed 2025-04-09 that H20 exports to China, incl. Hong Kong and Macau, ' +
        'need a licence; about $4.5B charge in the quarter ended 2025-04-27',
      confidence: 'confirmed',
    }),
    {
      eventId: `demo-${US_H20}-amended-indefinite`,
      type: 'regulation.amended',
      occurredAt: '2025-04-14T00:00:00Z',
      data: {
        regulationId: US_H20,
        title:
          'Licence required for NVIDIA H20 exports to China, for the indefinite future (notice of 2025-04-14)',
      },
    },
    licence('2025-08-08T00:00:00Z', {
      licenceId: LIC_H20_ANY,
      regulationId: US_H20,
      exporter: 'nvidia',
      skus: ['H20'],
      validFrom: '2025-08-08T00:00:00Z',
      conditions:
        '15% of China H20 revenue to the US government (reported). Licence id and scope are synthetic.',
    }),
    licence('2025-08-08T00:00:00Z', {
      licenceId: LIC_H20_VOLCANO,
      regulationId: US_H20,
      exporter: 'nvidia',
      skus: ['H20'],
      providerId: 'volcano-engine',
      quantity: 4096,
      validFrom: '2025-08-08T00:00:00Z',
      conditions: '15% revenue share (reported). Consignee, cap and licence id are synthetic.',
    }),
    regulation('2025-08-12T00:00:00Z', {
      regulationId: CN_H20,
      authority: 'CN-CAC',
      jurisdiction: 'CN',
      direction: 'import',
      title:
        'Firms urged to avoid H20 purchases, above all for government work (after the 2025-07-31 summons)',
      policy: 'discouraged',
      skus: ['H20'],
      destinations: ['CN'],
      effectiveFrom: '2025-08-12T00:00:00Z',
      sourceType: 'press-report',
      reference: 'Press reports of 2025-08-12 (Bloomberg, Reuters); guidance not published; date approximate',
      confidence: 'reported',
    }),
    regulation('2025-09-17T00:00:00Z', {
      regulationId: CN_RTX,
      authority: 'CN-CAC',
      jurisdiction: 'CN',
      direction: 'import',
      title: 'Large tech firms told to stop testing and cancel orders of the RTX Pro 6000D',
      policy: 'prohibited',
      skus: ['RTX-PRO-6000D'],
      destinations: ['CN'],
      effectiveFrom: '2025-09-17T00:00:00Z',
      sourceType: 'press-report',
      reference: 'Financial Times, 2025-09-17; guidance not published; date approximate',
      confidence: 'reported',
    }),
    regulation('2025-10-10T00:00:00Z', {
      regulationId: CN_CUSTOMS,
      authority: 'CN-GACC',
      jurisdiction: 'CN',
      direction: 'import',
      title: 'Customs inspections of NVIDIA data-centre GPU imports tightened at major ports',
      policy: 'case-by-case',
      skus: ['H20', 'RTX-PRO-6000D'],
      destinations: ['CN'],
      effectiveFrom: '2025-10-10T00:00:00Z',
      sourceType: 'press-report',
      reference: 'Press reports of October 2025 (Financial Times); date approximate',
      confidence: 'reported',
    }),
    regulation('2026-01-13T00:00:00Z', {
      regulationId: CN_H200,
      authority: 'CN-GACC',
      jurisdiction: 'CN',
      direction: 'import',
      title: 'Customs told the NVIDIA H200 is not permitted to enter China',
      policy: 'prohibited',
      skus: ['H200'],
      destinations: ['CN'],
      effectiveFrom: '2026-01-13T00:00:00Z',
      sourceType: 'press-report',
      reference: 'Press reports of 2026-01-13/14; guidance not published',
      confidence: 'reported',
    }),
    regulation('2026-01-15T00:00:00Z', {
      regulationId: US_H200,
      authority: 'US-BIS',
      jurisdiction: 'US',
      direction: 'export',
      title: 'H200-class licences reviewed case by case for China and Macau (after the 2025-12-08 approval)',
      policy: 'case-by-case',
      skus: ['H200'],
      destinations: ['CN', 'MO'],
      effectiveFrom: '2026-01-15T00:00:00Z',
      sourceType: 'rule',
      reference:
        'BIS rule of 2026-01-15; 2025-12-08 decision to allow H200 to approved customers (25% share)',
      confidence: 'confirmed',
    }),
    {
      eventId: `demo-${CN_H200}-amended-approvals`,
      type: 'regulation.amended',
      occurredAt: '2026-01-28T00:00:00Z',
      data: {
        regulationId: CN_H200,
        title:
          'H200 imports only with approval; first approvals for ByteDance, Alibaba, Tencent (400,000+ est.)',
        policy: 'case-by-case',
      },
    },
    licence('2026-01-29T00:00:00Z', {
      licenceId: LIC_H200_ALIBABA,
      regulationId: US_H200,
      exporter: 'nvidia',
      skus: ['H200'],
      providerId: 'alibaba-cloud',
      quantity: 2048,
      validFrom: '2026-01-29T00:00:00Z',
      conditions: '25% revenue share (reported). Consignee, cap and licence id are synthetic.',
    }),
  ];
}

function inventories(): DemoEvent[] {
  return [
    opening('alibaba-cloud', 'H20', 4000),
    opening('alibaba-cloud', 'H800', 3000),
    opening('tencent-cloud', 'H20', 3000),
    opening('tencent-cloud', 'H800', 4000),
    opening('volcano-engine', 'H20', 5000),
    opening('volcano-engine', 'H800', 5000),
    opening('volcano-engine', 'H100', 2000),
    opening('baidu-ai-cloud', 'H20', 1500),
    opening('baidu-ai-cloud', 'H800', 1000),
    opening(
      'high-flyer',
      'H20',
      14000,
      `${SYNTHETIC} Sized so High-Flyer reaches ~30,000 H20 (est.) by 2025.`,
    ),
    opening('high-flyer', 'H800', 10000, `${SYNTHETIC} Matches the ~10,000 H800 (est.) of press reports.`),
    opening('high-flyer', 'H100', 10000, `${SYNTHETIC} Matches the ~10,000 H100 (est.) of press reports.`),
    inventory('2025-06-30T10:00:00+08:00', {
      providerId: 'high-flyer',
      sku: 'H800',
      delta: -256,
      reason: 'decommissioned',
      note: 'Synthetic: failed boards retired.',
    }),
    inventory('2025-10-31T18:00:00+08:00', {
      providerId: 'baidu-ai-cloud',
      sku: 'H20',
      delta: -24,
      reason: 'audit',
      note: 'Synthetic: boards found out of service at the quarterly audit.',
    }),
  ];
}

function shipments(): DemoEvent[] {
  const usHold = {
    authority: 'US-CBP',
    reason: 'Stopped at export screening: H20 to China needs a licence since 2025-04-09.',
    regulationId: US_H20,
  };
  return [
    // Before the US rule: no licence needed, lots arrive and go into service.
    ...shipment(
      '2024-08-05T02:00:00Z',
      lot({
        id: 'SHP-H20-2408-001',
        quantity: 2048,
        to: 'alibaba-cloud',
        from: 'TW',
        hs: '8473.30',
        site: 'Zhangbei',
      }),
      { delivered: '2024-08-16T14:00:00+08:00', installed: '2024-08-30T10:00:00+08:00' },
    ),
    ...shipment(
      '2024-09-10T03:00:00Z',
      lot({ id: 'SHP-H20-2409-002', quantity: 1536, to: 'tencent-cloud', from: 'TW', hs: '8473.30' }),
      { delivered: '2024-09-24T11:00:00+08:00', installed: '2024-10-08T16:00:00+08:00' },
    ),
    ...shipment(
      '2024-10-14T01:00:00Z',
      lot({ id: 'SHP-H20-2410-003', quantity: 4096, to: 'volcano-engine', from: 'TW', hs: '8471.50' }),
      { delivered: '2024-10-28T09:00:00+08:00', installed: '2024-11-11T15:00:00+08:00' },
    ),
    ...shipment(
      '2024-10-21T01:00:00Z',
      lot({ id: 'SHP-H20-2410-004', quantity: 8192, to: 'high-flyer', from: 'TW', hs: '8471.50' }),
      { delivered: '2024-11-04T10:00:00+08:00', installed: '2024-11-18T18:00:00+08:00' },
    ),
    ...shipment(
      '2024-12-02T17:00:00Z',
      lot({ id: 'SHP-H20-2412-005', quantity: 1024, to: 'baidu-ai-cloud', from: 'US', hs: '8471.50' }),
      { delivered: '2024-12-16T10:00:00+08:00', installed: '2025-01-06T12:00:00+08:00' },
    ),
    ...shipment(
      '2024-12-09T02:00:00Z',
      lot({ id: 'SHP-H20-2412-006', quantity: 8192, to: 'high-flyer', from: 'TW', hs: '8473.30' }),
      { delivered: '2024-12-23T10:00:00+08:00', installed: '2025-01-10T18:00:00+08:00' },
    ),
    ...shipment(
      '2025-01-27T02:00:00Z',
      lot({
        id: 'SHP-H20-2501-007',
        quantity: 3072,
        to: 'alibaba-cloud',
        from: 'TW',
        hs: '8473.30',
        site: 'Zhangbei',
      }),
      { delivered: '2025-02-10T10:00:00+08:00', installed: '2025-02-20T18:00:00+08:00' },
    ),
    ...shipment(
      '2025-02-17T02:00:00Z',
      lot({ id: 'SHP-H20-2502-008', quantity: 4096, to: 'tencent-cloud', from: 'TW', hs: '8471.50' }),
      { delivered: '2025-03-03T10:00:00+08:00', installed: '2025-03-14T18:00:00+08:00' },
    ),
    // Dispatched days before the rule: one lot gets through via Hong Kong, one is stopped and sent back.
    ...shipment(
      '2025-04-03T02:00:00Z',
      lot({ id: 'SHP-H20-2504-009', quantity: 1024, to: 'alibaba-cloud', from: 'TW', hs: '8473.30' }),
      { delivered: '2025-04-17T10:00:00+08:00', installed: '2025-04-30T18:00:00+08:00' },
    ),
    ...shipment(
      '2025-04-08T15:00:00Z',
      lot({ id: 'SHP-H20-2504-010', quantity: 2048, to: 'volcano-engine', from: 'US', hs: '8471.50' }),
      {
        held: { at: '2025-04-10T09:00:00Z', ...usHold },
        cancelled: {
          at: '2025-04-25T16:00:00Z',
          disposition: 'returned',
          reason: 'Returned to NVIDIA stock, part of the H20 write-down (about $4.5B charge).',
        },
      },
    ),
    // Under the August 2025 licences.
    ...shipment(
      '2025-08-20T17:00:00Z',
      lot({
        id: 'SHP-H20-2508-011',
        quantity: 1024,
        to: 'alibaba-cloud',
        from: 'US',
        hs: '8471.50',
        licenceId: LIC_H20_ANY,
      }),
      { delivered: '2025-09-03T10:00:00+08:00', installed: '2025-09-17T18:00:00+08:00' },
    ),
    ...shipment(
      '2025-08-25T02:00:00Z',
      lot({
        id: 'SHP-H20-2508-012',
        quantity: 1024,
        to: 'tencent-cloud',
        from: 'TW',
        hs: '8473.30',
        licenceId: LIC_H20_ANY,
      }),
      {
        held: {
          at: '2025-09-01T09:30:00+08:00',
          authority: 'CN-GACC',
          reason: 'Importer asked to justify the H20 purchase after the 2025-08-12 guidance (via Hong Kong).',
          regulationId: CN_H20,
        },
        released: '2025-09-19T15:00:00+08:00',
        delivered: '2025-09-26T10:00:00+08:00',
        installed: '2025-10-10T18:00:00+08:00',
      },
    ),
    ...shipment(
      '2025-09-08T02:00:00Z',
      lot({
        id: 'SHP-H20-2509-013',
        quantity: 2048,
        to: 'volcano-engine',
        from: 'TW',
        hs: '8471.50',
        licenceId: LIC_H20_VOLCANO,
      }),
      { delivered: '2025-09-22T10:00:00+08:00', installed: '2025-10-06T18:00:00+08:00' },
    ),
    ...shipment(
      '2025-09-10T02:00:00Z',
      lot({
        id: 'SHP-RTX-2509-021',
        sku: 'RTX-PRO-6000D',
        quantity: 2048,
        to: 'volcano-engine',
        from: 'TW',
        hs: '8471.50',
      }),
      {
        held: {
          at: '2025-09-19T11:00:00+08:00',
          authority: 'CN-GACC',
          reason: 'Import stopped after firms were told to cancel RTX Pro 6000D orders.',
          regulationId: CN_RTX,
        },
      },
    ),
    ...shipment(
      '2025-10-06T02:00:00Z',
      lot({
        id: 'SHP-H20-2510-014',
        quantity: 2048,
        to: 'alibaba-cloud',
        from: 'TW',
        hs: '8473.30',
        licenceId: LIC_H20_ANY,
      }),
      {
        held: {
          at: '2025-10-13T10:00:00+08:00',
          authority: 'CN-GACC',
          reason: `${CN_CUSTOMS_HOLD} Trucked in from Hong Kong to Shenzhen.`,
          regulationId: CN_CUSTOMS,
        },
      },
    ),
    ...shipment(
      '2025-10-09T02:00:00Z',
      lot({
        id: 'SHP-H20-2510-015',
        quantity: 512,
        to: 'baidu-ai-cloud',
        from: 'TW',
        hs: '8473.30',
        licenceId: LIC_H20_ANY,
      }),
      {
        held: {
          at: '2025-10-16T10:00:00+08:00',
          authority: 'CN-GACC',
          reason: CN_CUSTOMS_HOLD,
          regulationId: CN_CUSTOMS,
        },
        cancelled: {
          at: '2025-11-07T16:00:00+08:00',
          disposition: 'seized',
          reason: 'Synthetic illustration: confiscated at import during the tightened inspections.',
        },
      },
    ),
    ...shipment(
      '2025-12-01T02:00:00Z',
      lot({
        id: 'SHP-H20-2512-016',
        quantity: 1024,
        to: 'baidu-ai-cloud',
        from: 'TW',
        hs: '8473.30',
        licenceId: LIC_H20_ANY,
      }),
      { delivered: '2025-12-15T10:00:00+08:00', installed: '2026-01-08T18:00:00+08:00' },
    ),
    ...shipment(
      '2025-12-29T17:00:00Z',
      lot({
        id: 'SHP-H20-2512-017',
        quantity: 1024,
        to: 'tencent-cloud',
        from: 'US',
        hs: '8471.50',
        licenceId: LIC_H20_ANY,
      }),
      {
        held: {
          at: '2026-01-05T10:00:00+08:00',
          authority: 'CN-GACC',
          reason: CN_CUSTOMS_HOLD,
          regulationId: CN_CUSTOMS,
        },
        released: '2026-01-26T15:00:00+08:00',
      },
    ),
    ...shipment(
      '2026-01-05T02:00:00Z',
      lot({
        id: 'SHP-H20-2601-018',
        quantity: 512,
        to: 'high-flyer',
        from: 'TW',
        hs: '8473.30',
        licenceId: LIC_H20_ANY,
      }),
      { delivered: '2026-01-20T10:00:00+08:00' },
    ),
    ...shipment(
      '2026-01-12T17:00:00Z',
      lot({
        id: 'SHP-H20-2601-019',
        quantity: 1024,
        to: 'alibaba-cloud',
        from: 'US',
        hs: '8471.50',
        licenceId: LIC_H20_ANY,
      }),
    ),
    ...shipment(
      '2026-01-19T02:00:00Z',
      lot({
        id: 'SHP-H20-2601-020',
        quantity: 2048,
        to: 'volcano-engine',
        from: 'TW',
        hs: '8471.50',
        licenceId: LIC_H20_VOLCANO,
      }),
    ),
    ...shipment(
      '2026-01-30T17:00:00Z',
      lot({
        id: 'SHP-H200-2601-022',
        sku: 'H200',
        quantity: 1024,
        to: 'alibaba-cloud',
        from: 'US',
        hs: '8471.50',
        licenceId: LIC_H200_ALIBABA,
        eccn: '4A090',
      }),
    ),
  ];
}

/** R1 inference: a full R1 671B replica needs about 16 H20, so H20 allocations come in multiples of 16. */
function allocations(): DemoEvent[] {
  const r1 = (replicas: number, where: string) =>
    `DeepSeek-R1 671B inference on ${where}: ${replicas} x 16 H20`;
  return [
    allocation('2024-07-15T00:00:00Z', {
      allocationId: 'ALLOC-HF-TRAIN-01',
      providerId: 'high-flyer',
      sku: 'H800',
      quantity: 8192,
      tenant: 'deepseek-training',
      workload: 'Pre-training and RL of the V3/R1 line',
    }),
    allocation('2025-01-20T08:00:00+08:00', {
      allocationId: 'ALLOC-HF-R1-01',
      providerId: 'high-flyer',
      sku: 'H20',
      quantity: 4800,
      tenant: 'deepseek-api',
      workload: r1(300, 'the DeepSeek API and app'),
    }),
    allocation('2025-01-28T08:00:00+08:00', {
      allocationId: 'ALLOC-HF-R1-02',
      providerId: 'high-flyer',
      sku: 'H20',
      quantity: 4800,
      tenant: 'deepseek-api',
      workload: `${r1(300, 'the DeepSeek API and app')} (launch surge)`,
    }),
    allocation('2025-02-03T10:00:00+08:00', {
      allocationId: 'ALLOC-VE-R1-01',
      providerId: 'volcano-engine',
      sku: 'H20',
      quantity: 3200,
      tenant: 'deepseek-r1-inference',
      workload: r1(200, 'Volcano Ark'),
    }),
    allocation('2025-02-03T12:00:00+08:00', {
      allocationId: 'ALLOC-ALI-R1-01',
      providerId: 'alibaba-cloud',
      sku: 'H20',
      quantity: 1600,
      tenant: 'deepseek-r1-inference',
      workload: r1(100, 'Model Studio'),
    }),
    allocation('2025-02-05T12:00:00+08:00', {
      allocationId: 'ALLOC-TC-R1-01',
      providerId: 'tencent-cloud',
      sku: 'H20',
      quantity: 1280,
      tenant: 'deepseek-r1-inference',
      workload: r1(80, 'the TI platform'),
    }),
    allocation('2025-02-12T12:00:00+08:00', {
      allocationId: 'ALLOC-BD-R1-01',
      providerId: 'baidu-ai-cloud',
      sku: 'H20',
      quantity: 640,
      tenant: 'deepseek-r1-inference',
      workload: r1(40, 'Qianfan'),
    }),
    allocation('2025-02-14T12:00:00+08:00', {
      allocationId: 'ALLOC-ALI-R1-02',
      providerId: 'alibaba-cloud',
      sku: 'H20',
      quantity: 800,
      tenant: 'deepseek-r1-inference',
      workload: `${r1(50, 'Model Studio')} (burst capacity)`,
    }),
    allocation('2025-02-20T12:00:00+08:00', {
      allocationId: 'ALLOC-TC-YB-01',
      providerId: 'tencent-cloud',
      sku: 'H20',
      quantity: 3200,
      tenant: 'yuanbao-r1',
      workload: r1(200, 'the Yuanbao assistant'),
    }),
    {
      eventId: 'demo-ALLOC-ALI-R1-02-released',
      type: 'allocation.released',
      occurredAt: '2025-06-30T12:00:00+08:00',
      data: { allocationId: 'ALLOC-ALI-R1-02' },
    },
    allocation('2025-09-22T12:00:00+08:00', {
      allocationId: 'ALLOC-ALI-R1-03',
      providerId: 'alibaba-cloud',
      sku: 'H20',
      quantity: 960,
      tenant: 'deepseek-r1-inference',
      workload: r1(60, 'Model Studio (R1-0528)'),
    }),
    allocation('2025-10-15T12:00:00+08:00', {
      allocationId: 'ALLOC-VE-R1-02',
      providerId: 'volcano-engine',
      sku: 'H20',
      quantity: 1600,
      tenant: 'deepseek-r1-inference',
      workload: r1(100, 'Volcano Ark'),
    }),
  ];
}

/** The whole dataset, ordered by `occurredAt` as a partner feeding the tracker live would have sent it. */
export function demoEvents(): DemoEvent[] {
  const all = [...providers(), ...regulations(), ...inventories(), ...shipments(), ...allocations()];
  return all
    .map((event, position) => ({ event, position, time: Date.parse(event.occurredAt) }))
    .sort((a, b) => a.time - b.time || a.position - b.position)
    .map(({ event }) => event);
}
