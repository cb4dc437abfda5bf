import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../shared/api/app.ts';
import { DOCS_ASSETS } from '../../shared/api/docs-page.ts';
import { openApiDocument, ROUTES } from '../../shared/api/openapi.ts';
import { Authenticator } from '../../shared/auth/authenticator.ts';
import { EVENT_TYPES } from '../../shared/events/catalogue.ts';
import { ulidGenerator } from '../../shared/util/clock.ts';
import { createLogger } from '../../shared/util/logger.ts';

// Routes answer before any store is touched (no key, or a public route), so the stores are never called.
const never = new Proxy({}, { get: () => () => Promise.reject(new Error('no store in this test')) });
const app = createApp({
  events: never as never,
  projections: never as never,
  publisher: never as never,
  authenticator: new Authenticator({ get: async () => undefined }),
  clock: { now: () => new Date('2026-01-01T00:00:00Z') },
  newId: ulidGenerator(),
  logger: createLogger({ level: 'silent' }),
});

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
};
type Operation = {
  parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
  security?: unknown[];
};

const doc = openApiDocument() as Doc;

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document, served without a key', async () => {
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const served = await res.json();
    expect(served).toEqual(doc);
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    expect(await validator.validate(served as Parameters<Validator['validate']>[0])).toEqual({ valid: true });
  });

  it('describes every route of the contract', () => {
    const described = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(described.sort()).toEqual(
      [
        'GET /v1/health',
        'GET /v1/status',
        'POST /v1/events',
        'GET /v1/events',
        'GET /v1/events/{eventId}',
        'GET /v1/availability',
        'GET /v1/availability/history',
        'GET /v1/providers/{providerId}/availability',
        'GET /v1/shipments/{shipmentId}',
        'GET /v1/shipments',
        'GET /v1/regulations',
        'GET /v1/regulations/{regulationId}',
        'GET /openapi.json',
        'GET /docs',
      ].sort(),
    );
  });

  it.each(ROUTES.map((r) => [r.method.toUpperCase(), r.path] as const))(
    '%s %s is served by the app',
    async (method, path) => {
      const res = await app.request(path.replace(/\{\w+\}/g, 'X-1'), { method });
      expect([404, 405]).not.toContain(res.status);
      const route = ROUTES.find((r) => r.path === path && r.method === method.toLowerCase());
      // Without a key, keyed routes answer 401 and public ones do not ask for one.
      if (route?.roles === 'public') expect(res.status).toBe(200);
      else expect(res.status).toBe(401);
    },
  );

  it('takes its parameters and body from the schemas that validate them', () => {
    const availability = doc.paths['/v1/availability']?.get;
    expect(availability?.parameters.map((p) => [p.name, p.in, p.required])).toEqual([
      ['sku', 'query', true],
      ['provider', 'query', false],
      ['asOf', 'query', false],
      ['knownAt', 'query', false],
    ]);
    expect(availability?.parameters[2]?.schema).toMatchObject({ type: 'string', format: 'date-time' });
    expect(availability?.responses['200']?.content).toHaveProperty(['text/csv']);
    const history = doc.paths['/v1/availability/history']?.get;
    expect(history?.parameters.find((p) => p.name === 'interval')?.schema).toMatchObject({
      enum: ['day', 'week', 'month'],
      default: 'day',
    });
    const post = doc.paths['/v1/events']?.post;
    const body = JSON.stringify(post?.requestBody?.content['application/json']?.schema);
    for (const type of EVENT_TYPES) expect(body).toContain(`"const":"${type}"`);
    expect(body).toContain('"additionalProperties":false');
    expect(post?.responses['400']?.content).toHaveProperty(['application/problem+json']);
    expect(doc.paths['/v1/shipments/{shipmentId}']?.get?.parameters).toMatchObject([
      { name: 'shipmentId', in: 'path', required: true },
    ]);
    for (const path of ['/v1/shipments', '/v1/events'])
      expect(doc.paths[path]?.get?.responses['200']).toHaveProperty(['headers', 'Link']);
    expect(availability?.responses['200']).not.toHaveProperty(['headers']);
  });

  it("documents 406 and 503 on every route that needs a key, with the POST's own 503", () => {
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.values(item).map((operation) => ({ path, operation })),
    );
    const keyed = operations.filter(({ operation }) => operation.security === undefined);
    expect(keyed.length).toBeGreaterThan(5);
    for (const { operation } of keyed) {
      expect(operation.responses['406']?.content).toHaveProperty(['application/problem+json']);
      expect(operation.responses['503']?.content).toHaveProperty(['application/problem+json']);
    }
    expect(doc.paths['/v1/events']?.post?.responses['503']).toMatchObject({
      description: expect.stringContaining('failed'),
    });
  });

  it('marks the public routes as needing no key', () => {
    expect(doc.paths['/v1/health']?.get?.security).toEqual([]);
    expect(doc.paths['/v1/status']?.get?.security).toBeUndefined();
  });

  it('answers 405 with Allow for another method', async () => {
    const res = await app.request('/openapi.json', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect((await app.request('/docs', { method: 'POST' })).headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });
});

describe('GET /docs', () => {
  it('serves a page whose script and style the app serves too, under a strict CSP', async () => {
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.sort()).toEqual(['/docs/app.js', '/docs/style.css', '/openapi.json']);
    for (const asset of ['/docs/app.js', '/docs/style.css']) {
      const res = await app.request(asset);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(DOCS_ASSETS[asset]?.type);
    }
  });

  it('needs nothing from the network: no other origin in any asset, and a script that parses', () => {
    for (const { body } of Object.values(DOCS_ASSETS)) expect(body).not.toMatch(/https?:\/\/|\/\/cdn/);
    const script = DOCS_ASSETS['/docs/app.js']?.body ?? '';
    expect(() => new Function(script)).not.toThrow();
    expect(script).toContain("fetch('/openapi.json')");
  });
});
