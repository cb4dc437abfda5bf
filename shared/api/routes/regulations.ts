import type { Hono } from 'hono';
import { ComplianceQueries } from '../../queries/compliance.ts';
import { type AppDeps, type AppEnv, json, requireRole } from '../context.ts';
import { IdParam, parsePathParam, parseQuery, RegulationsQuery } from '../params.ts';
import { ProblemError } from '../problem.ts';

export function regulationRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const queries = new ComplianceQueries(deps.projections);

  /** Every regulation as it stands now, or only those in force at `activeAt` (as they stood then). */
  app.get('/v1/regulations', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const query = parseQuery(RegulationsQuery, c.req.queries());
    const at = query.activeAt ?? deps.clock.now().toISOString();
    const items = await queries.regulations(at, query.activeAt !== undefined);
    return json(c, { ...(query.activeAt ? { activeAt: query.activeAt } : {}), items });
  });

  app.get('/v1/regulations/:regulationId', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const regulationId = parsePathParam(IdParam, 'regulationId', c.req.param('regulationId'));
    const query = parseQuery(RegulationsQuery, c.req.queries());
    const regulation = await queries.regulation(
      regulationId,
      query.activeAt ?? deps.clock.now().toISOString(),
    );
    if (!regulation)
      throw new ProblemError('not-found', 404, `No regulation ${regulationId} has been issued.`);
    return json(c, regulation);
  });
}
