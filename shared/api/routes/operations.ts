import type { Hono } from 'hono';
import { type AppDeps, type AppEnv, json, requireRole } from '../context.ts';
import { NoQuery, parseQuery } from '../params.ts';

export function operationsRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/v1/health', (c) => json(c, { status: 'ok' }));

  app.get('/v1/status', async (c) => {
    requireRole(c, 'analyst', 'admin');
    parseQuery(NoQuery, c.req.queries());
    const [recorder, projector, backlog] = await Promise.all([
      deps.events.stats(),
      deps.projections.stats(),
      deps.backlog?.(),
    ]);
    const now = deps.clock.now().getTime();
    const age = (at: string | undefined) => (at ? Math.max(1, now - Date.parse(at)) : 1);
    // Zero means caught up: nothing accepted is waiting anywhere. Otherwise, how long the oldest waiting
    // event has waited, as far as the runtime can tell (at least 1 ms, so that zero is never a guess).
    let projectionLagMs = 0;
    if (projector.eventsProjected < recorder.eventsRecorded) {
      projectionLagMs = age(projector.lastEventRecordedAt ?? recorder.lastRecordedAt);
    }
    if (backlog && backlog.pending > 0)
      projectionLagMs = Math.max(projectionLagMs, age(backlog.oldestAcceptedAt));
    if (backlog && !backlog.streamCaughtUp) projectionLagMs = Math.max(projectionLagMs, 1);
    return json(c, {
      // The recorder adds to its count after its writes land, and the projector may project those events
      // first: an event projected was recorded, so the recorded count is never shown below the projected.
      eventsRecorded: Math.max(recorder.eventsRecorded, projector.eventsProjected),
      eventsProjected: projector.eventsProjected,
      projectionLagMs,
      lastRecordedAt: recorder.lastRecordedAt ?? null,
      lastProjectedAt: projector.lastProjectedAt ?? null,
      ...(backlog ? { backlog } : {}),
    });
  });
}
