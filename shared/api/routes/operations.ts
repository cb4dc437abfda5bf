import type { Hono } from 'hono';
import { type AppDeps, type AppEnv, json, requireRole } from '../context.ts';

export function operationsRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/v1/health', (c) => json(c, { status: 'ok' }));

  app.get('/v1/status', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const [recorder, projector, extras] = await Promise.all([
      deps.events.stats(),
      deps.projections.stats(),
      deps.statusExtras?.() ?? Promise.resolve({}),
    ]);
    const now = deps.clock.now().getTime();
    const behind = projector.eventsProjected < recorder.eventsRecorded;
    // Like a stream's iterator age: how old the newest projected event was when the projector is behind.
    const since = projector.lastEventRecordedAt ?? recorder.lastRecordedAt;
    const projectionLagMs = behind && since ? Math.max(0, now - Date.parse(since)) : 0;
    return json(c, {
      eventsRecorded: recorder.eventsRecorded,
      eventsProjected: projector.eventsProjected,
      projectionLagMs,
      lastRecordedAt: recorder.lastRecordedAt ?? null,
      lastProjectedAt: projector.lastProjectedAt ?? null,
      ...extras,
    });
  });
}
