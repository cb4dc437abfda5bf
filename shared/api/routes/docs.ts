import type { Hono } from 'hono';
import { type AppEnv, json } from '../context.ts';
import { DOCS_ASSETS } from '../docs-page.ts';
import { openApiDocument } from '../openapi.ts';

/** The API's own description, outside `/v1` and needing no key. */
export function docsRoutes(app: Hono<AppEnv>): void {
  app.get('/openapi.json', (c) => json(c, openApiDocument()));
  for (const [path, asset] of Object.entries(DOCS_ASSETS)) {
    app.get(path, (c) =>
      c.body(asset.body, 200, {
        'Content-Type': asset.type,
        // Everything the page loads comes from here: no inline code, no other origin.
        'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'",
        'X-Content-Type-Options': 'nosniff',
      }),
    );
  }
}
