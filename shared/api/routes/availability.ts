import type { Hono } from 'hono';
import { totalsOf } from '../../projections/counters.ts';
import type { Horizon } from '../../projections/unit.ts';
import { AvailabilityQueries } from '../../queries/availability.ts';
import { type AppDeps, type AppEnv, json, requireRole } from '../context.ts';
import { AvailabilityQuery, HorizonQuery, ProviderParam, parseParams } from '../params.ts';
import { ProblemError } from '../problem.ts';

export function availabilityRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const queries = new AvailabilityQueries(deps.projections);

  /**
   * The horizon to replay at, or none when the projection answers as it stands: only a question about the
   * past, about what was known then, or a projection holding facts dated after now needs a replay.
   */
  async function horizonOf(
    query: { asOf?: string; knownAt?: string },
    now: string,
  ): Promise<Horizon | undefined> {
    if (query.asOf || query.knownAt) return { asOf: query.asOf ?? now, knownAt: query.knownAt };
    const future = await deps.projections.futureUntil();
    return future && future > now ? { asOf: now } : undefined;
  }

  app.get('/v1/availability', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const query = parseParams(AvailabilityQuery, c.req.query());
    const now = deps.clock.now().toISOString();
    const horizon = await horizonOf(query, now);
    const providers = await queries.forSku(query.sku, { provider: query.provider, horizon });
    return json(c, {
      sku: query.sku,
      asOf: query.asOf ?? now,
      ...(query.knownAt ? { knownAt: query.knownAt } : {}),
      providers,
      totals: totalsOf(providers),
    });
  });

  app.get('/v1/providers/:providerId/availability', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const providerId = parseParams(ProviderParam, c.req.param('providerId'), 'path parameters');
    const query = parseParams(HorizonQuery, c.req.query());
    const now = deps.clock.now().toISOString();
    const [profile, horizon] = await Promise.all([
      deps.projections.getUnit(`provider:${providerId}`),
      horizonOf(query, now),
    ]);
    const { skus, rows } = await queries.forProvider(providerId, horizon);
    if (!profile && skus.length === 0) {
      throw new ProblemError('not-found', 404, `No events name provider ${providerId}.`);
    }
    const registered = profile?.events
      .filter((e) => e.type === 'provider.registered')
      .sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : 1))
      .at(-1);
    return json(c, {
      providerId,
      ...(registered?.type === 'provider.registered'
        ? { name: registered.data.name, country: registered.data.country, kind: registered.data.kind }
        : {}),
      asOf: query.asOf ?? now,
      ...(query.knownAt ? { knownAt: query.knownAt } : {}),
      skus: rows,
    });
  });
}
