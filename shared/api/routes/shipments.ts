import type { Hono } from 'hono';
import { foldShipment, NOW, visibleAt } from '../../projections/unit.ts';
import { type AppDeps, type AppEnv, json, requireRole } from '../context.ts';
import { IdParam, parseParams } from '../params.ts';
import { ProblemError } from '../problem.ts';

export function shipmentRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/v1/shipments/:shipmentId', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const shipmentId = parseParams(IdParam, c.req.param('shipmentId'), 'path parameters');
    const unit = await deps.projections.getUnit(`shipment:${shipmentId}`);
    if (!unit) throw new ProblemError('not-found', 404, `No event names shipment ${shipmentId}.`);
    const view = foldShipment(visibleAt(unit.events, NOW));
    const dispatch = view.dispatch?.data;
    return json(c, {
      shipmentId,
      sku: dispatch?.sku ?? null,
      quantity: dispatch?.quantity ?? null,
      exporter: dispatch?.exporter ?? null,
      origin: dispatch?.origin ?? null,
      destination: dispatch?.destination ?? null,
      ...(dispatch?.licenceId ? { licenceId: dispatch.licenceId } : {}),
      ...(dispatch?.hsCode ? { hsCode: dispatch.hsCode } : {}),
      ...(dispatch?.eccn ? { eccn: dispatch.eccn } : {}),
      status: view.status,
      statusAt: view.statusAt ?? null,
      timeline: view.timeline.map((e) => ({ eventId: e.eventId, type: e.type, occurredAt: e.occurredAt })),
    });
  });
}
