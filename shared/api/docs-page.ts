/*
 * `GET /docs`: the OpenAPI document rendered by a page whose every asset the app serves itself, so that it
 * works offline and under a strict Content-Security-Policy (no inline script or style, nothing from a CDN).
 */

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>h20-tracker API</title>
<link rel="stylesheet" href="/docs/style.css">
<script src="/docs/app.js" defer></script>
</head>
<body>
<header><h1>h20-tracker API</h1><p id="about">Loading <a href="/openapi.json">/openapi.json</a>…</p></header>
<main id="routes"></main>
</body>
</html>
`;

const STYLE = `body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 960px; padding: 0 1rem 3rem; color: #1d232a; }
header { border-bottom: 1px solid #d5dbe1; margin-bottom: 1rem; }
section { border: 1px solid #d5dbe1; border-radius: 6px; margin: 0.75rem 0; padding: 0.5rem 0.9rem; }
h2 { font-size: 1rem; margin: 0.3rem 0; font-family: ui-monospace, monospace; }
.method { display: inline-block; min-width: 3.5rem; color: #fff; border-radius: 4px; padding: 0 0.4rem; text-align: center; }
.get { background: #1f6feb; } .post { background: #2da44e; }
.roles { color: #57606a; font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; margin: 0.4rem 0; }
th, td { text-align: left; border-top: 1px solid #eaeef2; padding: 0.2rem 0.4rem; vertical-align: top; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.85rem; }
pre { background: #f6f8fa; padding: 0.5rem; overflow: auto; max-height: 28rem; }
`;

const SCRIPT = `'use strict';
(async () => {
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  };
  const schemaBlock = (title, schema) =>
    el('details', {}, el('summary', {}, title), el('pre', {}, JSON.stringify(schema, null, 2)));
  const response = await fetch('/openapi.json');
  const doc = await response.json();
  document.getElementById('about').textContent = doc.info.description + ' (OpenAPI ' + doc.openapi + ', version ' + doc.info.version + '.)';
  const routes = document.getElementById('routes');
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const section = el('section', { id: op.operationId });
      section.append(el('h2', {}, el('span', { class: 'method ' + method }, method.toUpperCase()), ' ', path));
      section.append(el('p', {}, op.summary));
      const roles = op['x-roles'] ? 'Key roles: ' + op['x-roles'].join(', ') : 'No key needed';
      section.append(el('p', { class: 'roles' }, roles));
      if (op.parameters.length > 0) {
        const table = el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, 'required'), el('th', {}, 'schema')));
        for (const p of op.parameters) {
          table.append(el('tr', {}, el('td', {}, el('code', {}, p.name)), el('td', {}, p.in), el('td', {}, p.required ? 'yes' : 'no'), el('td', {}, el('code', {}, JSON.stringify(p.schema)))));
        }
        section.append(table);
      }
      if (op.requestBody) section.append(schemaBlock('Request body', op.requestBody.content['application/json'].schema));
      for (const [status, answer] of Object.entries(op.responses)) {
        const types = Object.keys(answer.content || {});
        const label = status + ': ' + answer.description + (types.length ? ' (' + types.join(', ') + ')' : '');
        const schema = answer.content && (answer.content['application/json'] || answer.content['application/problem+json']);
        section.append(schema ? schemaBlock(label, schema.schema) : el('p', {}, label));
      }
      routes.append(section);
    }
  }
})().catch((error) => {
  document.getElementById('about').textContent = 'Could not load /openapi.json: ' + error.message;
});
`;

/** The page and its assets, by path. */
export const DOCS_ASSETS: Record<string, { type: string; body: string }> = {
  '/docs': { type: 'text/html; charset=utf-8', body: PAGE },
  '/docs/app.js': { type: 'text/javascript; charset=utf-8', body: SCRIPT },
  '/docs/style.css': { type: 'text/css; charset=utf-8', body: STYLE },
};
