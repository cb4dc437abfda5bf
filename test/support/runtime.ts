import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { configFromEnv } from '../../local/config.ts';
import { type LocalRuntime, type RuntimeHooks, startLocalRuntime } from '../../local/runtime.ts';
import { createLogger, type Logger } from '../../shared/util/logger.ts';

export const PARTNER_KEY = 'test-partner-key';
export const ANALYST_KEY = 'test-analyst-key';

export interface TestRuntime {
  runtime: LocalRuntime;
  url: string;
  post(
    path: string,
    body: unknown,
    options?: { key?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  get(path: string, key?: string): Promise<Response>;
  /** Resolves once every event the bus took is recorded and projected. */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The local runtime in this process, on the run's DynamoDB Local, with its own data dir and its own tables
 * (under `tablePrefix` when given, to start on tables a test prepared).
 */
export async function startTestRuntime(
  options: { tablePrefix?: string; logger?: Logger; httpTimeouts?: RuntimeHooks['httpTimeouts'] } = {},
): Promise<TestRuntime> {
  const dataDir = await mkdtemp(join(tmpdir(), 'h20-rt-'));
  const runtime = await startLocalRuntime(
    {
      ...configFromEnv({}),
      port: 0,
      dataDir,
      dynamoEndpoint: inject('dynamoEndpoint'),
      tablePrefix: options.tablePrefix ?? `rt-${randomUUID().slice(0, 8)}`,
      partnerKey: PARTNER_KEY,
      analystKey: ANALYST_KEY,
      partnerId: 'test-partner',
    },
    { logger: options.logger ?? createLogger({ level: 'silent' }), httpTimeouts: options.httpTimeouts },
  );
  const url = runtime.url;
  const get = (path: string, key = ANALYST_KEY) =>
    fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${key}` } });
  return {
    runtime,
    url,
    get,
    post: (path, body, options = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${options.key ?? PARTNER_KEY}`,
          'Content-Type': 'application/json',
          ...options.headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    async settle(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const status = (await (await get('/v1/status')).json()) as {
          eventsRecorded: number;
          eventsProjected: number;
          projectionLagMs: number;
        };
        if (status.projectionLagMs === 0 && status.eventsProjected >= status.eventsRecorded) return;
        if (Date.now() > deadline) throw new Error(`pipeline did not settle: ${JSON.stringify(status)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      await runtime.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
