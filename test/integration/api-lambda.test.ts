import { type AddressInfo, createServer, type Socket } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../shared/store/tables.ts';
import { STACK_FRAME } from '../support/leaks.ts';

// The Lambda entry as API Gateway calls it, with DynamoDB stalled: it takes connections and never answers.
const held = new Set<Socket>();
let handler: typeof import('../../functions/api.ts')['handler'];
const silent = createServer((socket) => {
  held.add(socket.on('error', () => {}));
});

beforeAll(async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as AddressInfo;
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', `http://127.0.0.1:${port}`);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv(ENV.eventsTable, 'events');
  vi.stubEnv(ENV.projectionsTable, 'projections');
  vi.stubEnv(ENV.keysTable, 'keys');
  vi.stubEnv(ENV.busName, 'bus');
  vi.stubEnv(ENV.logLevel, 'error');
  // Imported once the environment is set: the entry makes its clients at import, as in a cold start.
  ({ handler } = await import('../../functions/api.ts'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

/** An HTTP API (payload 2.0) request, as API Gateway hands it to the function. */
function apiGatewayRequest(method: string, path: string, query: string, body?: string) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers: {
      host: 'api.example.com',
      authorization: 'Bearer some-partner-key',
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'gw-request',
      routeKey: '$default',
      stage: '$default',
      time: '29/Nov/2026:15:00:00 +0000',
      timeEpoch: 1_795_964_400_000,
    },
    ...(body ? { body } : {}),
    isBase64Encoded: false,
  };
}

describe('the API Lambda while DynamoDB stalls', () => {
  it('answers 503 problem+json within what its invocation has left, not by timing out', async () => {
    // 1.5 s left: a second is kept to answer in, so the request gets half a second. Without the budget the
    // client's three 3 s attempts would outlast the invocation, and API Gateway would answer without us.
    const invocation = { getRemainingTimeInMillis: () => 1_500 } as Context;

    const out = (await handler(
      apiGatewayRequest('GET', '/v1/availability', 'sku=H20') as never,
      invocation,
    )) as { statusCode: number; headers: Record<string, string>; body: string };

    expect(out.statusCode).toBe(503);
    expect(out.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(out.headers['retry-after']).toBe('1');
    expect(JSON.parse(out.body)).toMatchObject({ type: '/problems/service-unavailable', status: 503 });
    expect(out.body).not.toMatch(STACK_FRAME);
  }, 5_000);
});
