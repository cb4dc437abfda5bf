import { Hono } from 'hono';
import { errorFields } from '../util/logger.ts';
import type { AppDeps, AppEnv } from './context.ts';
import { DOCS_ASSETS } from './docs-page.ts';
import { negotiate } from './media.ts';
import { ROUTES } from './openapi.ts';
import { isServiceError, PROBLEM_CONTENT_TYPE, ProblemError, serviceUnavailable } from './problem.ts';
import { availabilityRoutes } from './routes/availability.ts';
import { docsRoutes } from './routes/docs.ts';
import { eventRoutes } from './routes/events.ts';
import { operationsRoutes } from './routes/operations.ts';
import { regulationRoutes } from './routes/regulations.ts';
import { shipmentRoutes } from './routes/shipments.ts';

/** A path of the route table (`/v1/events/{eventId}`) as a pattern that matches the paths it serves. */
const patternOf = (path: string): RegExp =>
  new RegExp(`^${path.replace(/\./g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`);

/**
 * Every path the app serves and its methods, for `Allow` on 405 and `OPTIONS` answers: HEAD wherever GET is
 * (Hono answers it from the GET route), and OPTIONS everywhere.
 */
const ROUTE_TABLE: { pattern: RegExp; methods: string[] }[] = (() => {
  const methods = new Map<string, string[]>();
  const paths = [
    ...ROUTES.map((r) => [r.path, r.method] as const),
    ...Object.keys(DOCS_ASSETS).map((p) => [p, 'get'] as const),
  ];
  for (const [path, method] of paths) {
    const list = methods.get(path) ?? [];
    if (!list.includes(method.toUpperCase())) list.push(method.toUpperCase());
    methods.set(path, list);
  }
  return [...methods].map(([path, list]) => ({
    pattern: patternOf(path),
    methods: [...list, ...(list.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].sort(),
  }));
})();

/** The Bearer challenge (RFC 6750, 3) of every 401 and 403. */
const CHALLENGE = 'Bearer realm="h20-tracker"';

const routeOf = (path: string) => ROUTE_TABLE.find((r) => r.pattern.test(path));

/** What each API route answers in, by method and path pattern: JSON, and CSV where the route offers it. */
const OFFERS: { method: string; pattern: RegExp; types: string[] }[] = ROUTES.map((r) => ({
  method: r.method.toUpperCase(),
  pattern: patternOf(r.path),
  types: Object.values(r.answers).some((a) => a.csv)
    ? ['application/json', 'text/csv']
    : ['application/json'],
}));

function offersOf(method: string, path: string): string[] | undefined {
  const asked = method === 'HEAD' ? 'GET' : method;
  return OFFERS.find((o) => o.method === asked && o.pattern.test(path))?.types;
}

/**
 * The HTTP API as a Hono app, free of any runtime: the Lambda entry and the local server both serve it.
 *
 * @example
 * const app = createApp(deps);
 * const res = await app.request('/v1/health');
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : deps.newId();
    c.set('requestId', requestId);
    const started = performance.now();
    await next();
    c.header('X-Request-Id', requestId);
    // Answers of the API are per key and change as events arrive: no cache, shared or private, keeps them.
    if (c.req.path.startsWith('/v1/')) c.header('Cache-Control', 'no-store');
    // Hono answers HEAD from the GET route and drops the body; its length is still what GET would send.
    if (c.req.method === 'HEAD' && c.res.body && !c.res.headers.has('Content-Length'))
      c.header('Content-Length', String((await c.res.clone().arrayBuffer()).byteLength));
    deps.logger.debug('request', {
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  });

  // A request that runs past its budget (a store that stopped answering) gets a 503 of ours, with the
  // route's own answer where it gives one, before the Lambda's timeout would end it without one.
  app.use('*', async (c, next) => {
    const budgetMs =
      typeof deps.requestBudgetMs === 'function' ? deps.requestBudgetMs(c) : deps.requestBudgetMs;
    if (budgetMs === undefined) return next();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          deps.logger.warn('request ran past its budget', {
            requestId: c.get('requestId'),
            method: c.req.method,
            path: c.req.path,
            budgetMs,
          });
          c.set('pastBudget', true);
          reject(c.get('atDeadline')?.() ?? serviceUnavailable());
        },
        Math.max(budgetMs, 0),
      );
    });
    try {
      await Promise.race([next(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  });

  // What a path allows, asked before any key is checked (RFC 9110, 9.3.7): no route answers OPTIONS itself.
  app.options('*', (c) => {
    const route = routeOf(c.req.path);
    return route ? c.body(null, 204, { Allow: route.methods.join(', ') }) : c.notFound();
  });

  app.use('/v1/*', async (c, next) => {
    if (c.req.path === '/v1/health') return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = match?.[1] ? await deps.authenticator.authenticate(match[1]) : null;
    if (!principal) {
      // RFC 6750, 3.1: a key that was sent and is not known (or revoked) is an invalid token; without one, the
      // challenge names only the realm.
      throw new ProblemError('unauthorized', 401, 'Send a valid API key as "Authorization: Bearer <key>".', {
        headers: { 'WWW-Authenticate': match?.[1] ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE },
      });
    }
    c.set('principal', principal);
    return next();
  });

  // An `Accept` that takes none of what the route answers in gets 406 before the route does anything (a POST
  // that would answer 406 only after it was done would still have taken the events).
  app.use('/v1/*', async (c, next) => {
    // A liveness probe answers whatever the prober accepts.
    const types = c.req.path === '/v1/health' ? undefined : offersOf(c.req.method, c.req.path);
    if (types && negotiate(c.req.header('accept'), types) === null) {
      throw new ProblemError('not-acceptable', 406, `This route answers ${types.join(' or ')}.`, {
        headers: { Vary: 'Accept' },
      });
    }
    return next();
  });

  operationsRoutes(app, deps);
  eventRoutes(app, deps);
  availabilityRoutes(app, deps);
  shipmentRoutes(app, deps);
  regulationRoutes(app, deps);
  docsRoutes(app);

  app.notFound((c) => {
    const route = routeOf(c.req.path);
    const problem = route
      ? new ProblemError('method-not-allowed', 405, `${c.req.method} is not allowed here.`, {
          headers: { Allow: route.methods.join(', ') },
        })
      : new ProblemError('not-found', 404, `There is no route ${c.req.path}.`);
    return problemResponse(problem, c.get('requestId'));
  });

  app.onError((error, c) => {
    if (error instanceof ProblemError) return problemResponse(error, c.get('requestId'));
    if (c.get('pastBudget')) {
      // The stalled call behind a request already answered at its budget gave up at last: no one reads this.
      deps.logger.info('a request answered at its budget has failed since', {
        requestId: c.get('requestId'),
        path: c.req.path,
        errorName: (error as Error).name,
      });
      return problemResponse(serviceUnavailable(), c.get('requestId'));
    }
    if (isClientGone(error, c.req.raw)) {
      // The client hung up while its body was being read: nothing failed here, and no one reads the answer.
      deps.logger.info('client closed the connection before sending its whole request', {
        requestId: c.get('requestId'),
        path: c.req.path,
      });
      return problemResponse(
        new ProblemError('bad-request', 400, 'The request was cut off before its body ended.'),
        c.get('requestId'),
      );
    }
    deps.logger.error('unhandled error', {
      requestId: c.get('requestId'),
      path: c.req.path,
      ...errorFields(error),
    });
    return problemResponse(
      isServiceError(error)
        ? serviceUnavailable()
        : new ProblemError('internal', 500, 'Something went wrong on our side; it has been logged.'),
      c.get('requestId'),
    );
  });

  return app;
}

/** A request body cut off by the client's own disconnect (the Node adapter aborts the request's signal). */
function isClientGone(error: unknown, request: Request): boolean {
  return request.signal.aborted && (error as { code?: string }).code === 'ECONNRESET';
}

export function problemResponse(problem: ProblemError, requestId?: string): Response {
  return new Response(JSON.stringify(problem.toBody()), {
    status: problem.status,
    headers: {
      'Content-Type': PROBLEM_CONTENT_TYPE,
      ...(requestId ? { 'X-Request-Id': requestId } : {}),
      // A known key outside its role or scope (RFC 6750, 3.1).
      ...(problem.status === 403 ? { 'WWW-Authenticate': `${CHALLENGE}, error="insufficient_scope"` } : {}),
      ...problem.headers,
    },
  });
}
