import type { Hono } from 'hono';
import { toRow, totalsOf, zeroCounters } from '../../projections/counters.ts';
import { type Horizon, visibleAt } from '../../projections/unit.ts';
import { AvailabilityQueries } from '../../queries/availability.ts';
import { pointTimes } from '../../queries/history.ts';
import { type AppDeps, type AppEnv, json, requireRole } from '../context.ts';
import { jsonOrCsv } from '../media.ts';
import {
  AvailabilityQuery,
  HistoryQuery,
  HorizonQuery,
  ProviderParam,
  parsePathParam,
  parseQuery,
} from '../params.ts';
import { ProblemError, validationProblem } from '../problem.ts';

/** The contract's cap on a history's points. */
export const MAX_HISTORY_POINTS = 1000;

/** CSV columns: the JSON field names, in their order. */
const ROW_COLUMNS = Object.keys(toRow('', '', zeroCounters()));
const POINT_COLUMNS = ['at', ...ROW_COLUMNS.filter((name) => name !== 'providerId' && name !== 'sku')];

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
    const query = parseQuery(AvailabilityQuery, c.req.queries());
    const now = deps.clock.now().toISOString();
    const horizon = await horizonOf(query, now);
    const providers = await queries.forSku(query.sku, { provider: query.provider, horizon, now });
    const body = {
      sku: query.sku,
      asOf: query.asOf ?? now,
      ...(query.knownAt ? { knownAt: query.knownAt } : {}),
      providers,
      totals: totalsOf(providers),
    };
    return jsonOrCsv(c, body, { columns: ROW_COLUMNS, records: providers });
  });

  app.get('/v1/availability/history', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const query = parseQuery(HistoryQuery, c.req.queries());
    const to = query.to ?? query.asOf ?? deps.clock.now().toISOString();
    if (query.from > to) {
      throw validationProblem('Some query parameters are not valid.', [
        { path: 'from', message: `must not be after to (${to})` },
      ]);
    }
    const points = pointTimes(query.from, to, query.interval, MAX_HISTORY_POINTS);
    if (!points) {
      throw validationProblem('The history would have too many points.', [
        {
          path: 'interval',
          message: `gives more than ${MAX_HISTORY_POINTS} points from ${query.from} to ${to}: use a longer interval or a shorter period`,
        },
      ]);
    }
    const history = await queries.history(query.sku, {
      provider: query.provider,
      points,
      knownAt: query.knownAt,
    });
    const body = {
      sku: query.sku,
      ...(query.provider ? { providerId: query.provider } : {}),
      interval: query.interval,
      from: query.from,
      to,
      ...(query.knownAt ? { knownAt: query.knownAt } : {}),
      points: history,
    };
    return jsonOrCsv(c, body, { columns: POINT_COLUMNS, records: history });
  });

  app.get('/v1/providers/:providerId/availability', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const providerId = parsePathParam(ProviderParam, 'providerId', c.req.param('providerId'));
    const query = parseQuery(HorizonQuery, c.req.queries());
    const now = deps.clock.now().toISOString();
    const [profile, horizon] = await Promise.all([
      deps.projections.getUnit(`provider:${providerId}`),
      horizonOf(query, now),
    ]);
    const { skus, rows } = await queries.forProvider(providerId, { horizon, now });
    if (!profile && skus.length === 0) {
      throw new ProblemError('not-found', 404, `No events name provider ${providerId}.`);
    }
    // The profile as it stood at asOf, as far as knownAt knew it (now, without either): the latest
    // registration visible then, in the fold's order.
    const registered = visibleAt(profile?.events ?? [], horizon ?? { asOf: now })
      .filter((e) => e.type === 'provider.registered')
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
