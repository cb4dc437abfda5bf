import type { Hono } from 'hono';
import type { Compliance } from '../../projections/compliance.ts';
import { type ShipmentSummary, summariseShipment } from '../../projections/listing.ts';
import { NOW, visibleAt } from '../../projections/unit.ts';
import { ComplianceQueries } from '../../queries/compliance.ts';
import { type AppDeps, type AppEnv, json, pageOf, requireRole } from '../context.ts';
import { jsonOrCsv } from '../media.ts';
import {
  decodeIdCursor,
  encodeCursor,
  IdParam,
  NoQuery,
  parsePathParam,
  parseQuery,
  ShipmentListQuery,
} from '../params.ts';
import { ProblemError } from '../problem.ts';

/** A shipment as the routes show it: its summary (the time it was dispatched included) and its compliance. */
function shipmentView({ dispatchedAt, licenceId, ...summary }: ShipmentSummary, compliance: Compliance) {
  return {
    shipmentId: summary.shipmentId,
    sku: summary.sku,
    quantity: summary.quantity,
    exporter: summary.exporter,
    origin: summary.origin,
    destination: summary.destination,
    ...(licenceId ? { licenceId } : {}),
    status: summary.status,
    statusAt: summary.statusAt,
    dispatchedAt,
    compliance,
  };
}

/** CSV columns of a shipment list: its fields, nested ones by their dotted path. */
const CSV_COLUMNS = [
  'shipmentId',
  'sku',
  'quantity',
  'exporter',
  'origin.country',
  'destination.country',
  'destination.providerId',
  'destination.site',
  'licenceId',
  'status',
  'statusAt',
  'dispatchedAt',
  'compliance.status',
  'compliance.regulations',
];

/**
 * A shipment's regulations in one CSV cell: `regulationId=outcome`, `@licenceId` when a licence covers it,
 * separated by `;` (`R-US-2025=licensed@L-1;R-CN-7=blocked`). Ids never hold `=`, `@` or `;`, so the cell
 * reads back without ambiguity.
 */
function regulationsCell(compliance: Compliance): string {
  return compliance.regulations
    .map((r) => `${r.regulationId}=${r.outcome}${r.licenceId ? `@${r.licenceId}` : ''}`)
    .join(';');
}

/** Whether a verdict passes the `compliance` filter: its status, or, for `blocked`, one of its outcomes. */
function hasVerdict(compliance: Compliance, wanted: Compliance['status'] | 'blocked'): boolean {
  if (wanted === 'blocked') return compliance.regulations.some((r) => r.outcome === 'blocked');
  return compliance.status === wanted;
}

function flatten(value: Record<string, unknown>, prefix = '', into: Record<string, unknown> = {}) {
  for (const [key, field] of Object.entries(value)) {
    if (field !== null && typeof field === 'object' && !Array.isArray(field)) {
      flatten(field as Record<string, unknown>, `${prefix}${key}.`, into);
    } else into[`${prefix}${key}`] = field;
  }
  return into;
}

export function shipmentRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const compliance = new ComplianceQueries(deps.projections);

  app.get('/v1/shipments', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const query = parseQuery(ShipmentListQuery, c.req.queries());
    const after = decodeIdCursor(query.cursor);
    const now = deps.clock.now().toISOString();
    const judge = await compliance.judge();
    // The compliance filter and the items both need a shipment's verdict: judge each once.
    const verdicts = new Map<string, Compliance>();
    const complianceOf = (s: ShipmentSummary): Compliance => {
      let verdict = verdicts.get(s.shipmentId);
      if (!verdict) {
        verdict = judge.judge(s, now);
        verdicts.set(s.shipmentId, verdict);
      }
      return verdict;
    };
    const page = await deps.projections.listShipments({
      after,
      limit: query.limit,
      keep: (s) =>
        (!query.provider || s.destination?.providerId === query.provider) &&
        (!query.sku || s.sku === query.sku) &&
        (!query.status || s.status === query.status) &&
        (!query.compliance || hasVerdict(complianceOf(s), query.compliance)),
    });
    const items = page.items.map((s) => shipmentView(s, complianceOf(s)));
    const last = page.items.at(-1);
    const body = pageOf(c, items, page.more && last ? encodeCursor(last.shipmentId) : null);
    const records = items.map((item) => ({
      ...flatten(item),
      'compliance.regulations': regulationsCell(item.compliance),
    }));
    return jsonOrCsv(c, body, { columns: CSV_COLUMNS, records });
  });

  app.get('/v1/shipments/:shipmentId', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const shipmentId = parsePathParam(IdParam, 'shipmentId', c.req.param('shipmentId'));
    parseQuery(NoQuery, c.req.queries());
    const unit = await deps.projections.getUnit(`shipment:${shipmentId}`);
    if (!unit) throw new ProblemError('not-found', 404, `No event names shipment ${shipmentId}.`);
    const summary = summariseShipment(shipmentId, unit);
    const judge = await compliance.judge({ shipment: summary });
    const events = visibleAt(unit.events, NOW);
    const dispatch = events.findLast(
      (e): e is Extract<typeof e, { type: 'shipment.dispatched' }> => e.type === 'shipment.dispatched',
    );
    return json(c, {
      ...shipmentView(summary, judge.judge(summary, deps.clock.now().toISOString())),
      ...(dispatch?.data.hsCode ? { hsCode: dispatch.data.hsCode } : {}),
      ...(dispatch?.data.eccn ? { eccn: dispatch.data.eccn } : {}),
      timeline: events.map((e) => ({ eventId: e.eventId, type: e.type, occurredAt: e.occurredAt })),
    });
  });
}
