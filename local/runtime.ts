import { mkdir } from 'node:fs/promises';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { getRequestListener } from '@hono/node-server';
import { createApp, problemResponse } from '../shared/api/app.ts';
import { PROBLEM_CONTENT_TYPE, ProblemError } from '../shared/api/problem.ts';
import { Authenticator } from '../shared/auth/authenticator.ts';
import { DynamoDBKeyStore } from '../shared/auth/key-store.ts';
import { newKeyRecord } from '../shared/auth/keys.ts';
import { LocalBus } from '../shared/bus/local-bus.ts';
import { EventBridgePublisher } from '../shared/bus/publisher.ts';
import { ROUTES } from '../shared/bus/routes.ts';
import { FAMILIES } from '../shared/events/catalogue.ts';
import { projectEvents } from '../shared/projector/projector.ts';
import { recordDeliveries } from '../shared/recorder/recorder.ts';
import { ensureTables } from '../shared/store/create-tables.ts';
import { createDynamoClient } from '../shared/store/dynamo.ts';
import { DynamoDBEventStore } from '../shared/store/event-store.ts';
import { backfillListing } from '../shared/store/listing-backfill.ts';
import { DynamoDBProjectionStore } from '../shared/store/projection-store.ts';
import { tableNamesFor } from '../shared/store/tables.ts';
import { systemClock, ulidGenerator } from '../shared/util/clock.ts';
import { createLogger, type Logger } from '../shared/util/logger.ts';
import type { LocalConfig } from './config.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { type DynamoDBLocal, portFree, startDynamoDBLocal } from './dynamodb-local.ts';
import { StreamPoller } from './stream-poller.ts';

export interface LocalRuntime {
  url: string;
  dynamoEndpoint: string;
  stop(): Promise<void>;
  bus: LocalBus;
  poller: StreamPoller;
}

/**
 * The product without AWS: DynamoDB Local for the tables, the local bus for EventBridge and SQS, a stream
 * poller for the Lambda event source mapping, and the same API, recorder and projector code.
 */
export interface RuntimeHooks {
  logger?: Logger;
  /** Sees the DynamoDB client before first use: the benchmarks count consumed capacity through it. */
  instrumentDynamo?: (client: DynamoDBClient) => void;
  /** How long a client may take to send its headers, and its whole request (10 s and 30 s unless given). */
  httpTimeouts?: { headersMs: number; requestMs: number };
}

export async function startLocalRuntime(
  config: LocalConfig,
  hooks: RuntimeHooks = {},
): Promise<LocalRuntime> {
  const logger = hooks.logger ?? createLogger();
  await mkdir(config.dataDir, { recursive: true });
  if (config.port !== 0 && !(await portFree(config.port, config.host))) {
    throw new Error(`port ${config.port} is in use; set PORT to another one`);
  }
  const unlock = await lockDataDir(config.dataDir);
  // Whatever has started is stopped again if a later step fails, so a failed start leaves nothing running.
  const cleanups: (() => Promise<void>)[] = [unlock];
  try {
    return await assemble(config, logger, hooks, cleanups);
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    throw error;
  }
}

async function assemble(
  config: LocalConfig,
  logger: Logger,
  hooks: RuntimeHooks,
  cleanups: (() => Promise<void>)[],
): Promise<LocalRuntime> {
  const ddb: DynamoDBLocal | undefined = config.dynamoEndpoint
    ? undefined
    : await startDynamoDBLocal({ port: config.dynamoPort, dbPath: join(config.dataDir, 'dynamodb') });
  if (ddb) cleanups.push(() => ddb.stop());
  const endpoint = config.dynamoEndpoint ?? (ddb as DynamoDBLocal).endpoint;

  const dynamo = createDynamoClient({ endpoint });
  hooks.instrumentDynamo?.(dynamo);
  cleanups.push(async () => dynamo.destroy());
  const tables = tableNamesFor(config.tablePrefix);
  const created = await ensureTables(dynamo, tables);
  if (created.length > 0) logger.info('created or upgraded tables', { tables: created });
  if (created.includes(tables.projections)) {
    // The listing index may have just been added to projections made by an older version.
    const backfilled = await backfillListing(dynamo, tables.projections);
    if (backfilled.updated > 0) logger.info('listed units projected before the listing index', backfilled);
  }

  const events = new DynamoDBEventStore(dynamo, tables.events);
  const projections = new DynamoDBProjectionStore(dynamo, tables.projections);
  const keys = new DynamoDBKeyStore(dynamo, tables.keys);
  const now = systemClock.now();
  await keys.put(
    newKeyRecord(
      config.partnerKey,
      {
        role: 'partner',
        partnerId: config.partnerId,
        families: [...FAMILIES],
        label: 'dev partner (npm start)',
      },
      now,
    ),
  );
  await keys.put(newKeyRecord(config.analystKey, { role: 'analyst', label: 'dev analyst (npm start)' }, now));

  const bus = await LocalBus.open({
    dir: await ensureDir(join(config.dataDir, 'bus')),
    routes: ROUTES,
    targets: { recorder: (deliveries) => recordDeliveries({ store: events, logger }, deliveries) },
    logger,
  });
  bus.start();
  cleanups.push(() => bus.stop());

  const poller = new StreamPoller({
    dynamo,
    streams: new DynamoDBStreamsClient({
      endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    table: tables.events,
    checkpointPath: join(config.dataDir, 'stream-checkpoints.json'),
    failurePath: join(config.dataDir, 'projector-failures.jsonl'),
    consume: async (batch) => {
      const { failedStreams } = await projectEvents(projections, batch, { logger });
      return batch.filter((event) => failedStreams.has(event.stream));
    },
    logger,
  });
  poller.start();
  cleanups.push(() => poller.stop());

  const app = createApp({
    events,
    projections,
    publisher: new EventBridgePublisher((entries) => bus.putEvents(entries)),
    authenticator: new Authenticator(keys),
    clock: systemClock,
    newId: ulidGenerator(),
    logger,
    // A stalled DynamoDB Local gets a 503 in 20 s, not after the client's four 10 s attempts. Looser than
    // the Lambda's budget: here the time a client takes to upload its body counts too.
    requestBudgetMs: 20_000,
    backlog: async () => {
      const { pending, oldestAcceptedAt, deadLettered } = bus.stats();
      const stream = poller.status();
      return {
        pending,
        oldestAcceptedAt,
        deadLettered,
        streamCaughtUp: stream.caughtUp,
        streamError: stream.error,
        projectionSetAside: stream.setAside,
      };
    },
  });

  const timeouts = hooks.httpTimeouts ?? { headersMs: 10_000, requestMs: 30_000 };
  const server = createServer(
    // Node's defaults (60 s for headers, 300 s for a request, checked every 30 s) let a slow client hold a
    // connection for minutes; API Gateway gives a whole request 30 s.
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs),
      // Node would answer a missing Host with a bare 400; `refusingMalformed` answers it as problem+json.
      requireHostHeader: false,
    },
    refusingMalformed(
      closingOnUnreadBodies(
        getRequestListener(app.fetch, {
          hostname: config.host,
          // A request the adapter cannot turn into a URL (a backslash in the path, a malformed Host).
          errorHandler: () =>
            problemResponse(
              new ProblemError('bad-request', 400, 'The request target or Host header is not valid.'),
            ),
        }),
      ),
    ),
  );
  server.on('clientError', answerClientError);
  // A client that asks before sending its body hears `100 Continue` only once a route reads the body: a
  // request refused on its headers alone (a key, a type, a Content-Length over the limit) gets its answer
  // at once, and its body is never sent.
  server.on('checkContinue', (incoming: IncomingMessage, outgoing: ServerResponse) => {
    incoming.once('resume', () => {
      if (!outgoing.headersSent) outgoing.writeContinue();
    });
    server.emit('request', incoming, outgoing);
  });
  server.on('connect', (_: IncomingMessage, socket: Duplex) =>
    endWithProblem(socket, new ProblemError('not-implemented', 501, 'CONNECT is not served here.')),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;

  let stopped = false;
  return {
    url,
    dynamoEndpoint: endpoint,
    bus,
    poller,
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Last started, first stopped: poller, bus, client, DynamoDB Local, then the data-dir lock.
      for (const cleanup of [...cleanups].reverse()) await cleanup();
    },
  };
}

async function ensureDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  return path;
}

/** Unread bodies up to this size are drained to keep the connection (Go's net/http draws the line there too). */
const DRAINED_BODY_BYTES = 256 * 1024;

/**
 * A body the app answered without reading (a 413 on its Content-Length) stays on the connection. The adapter
 * drains it for half a second and then drops the socket, under a response that had promised keep-alive, so
 * a client's next request on that socket was lost. So an unread body that is large, or of unknown length,
 * ends the connection, and the response says `Connection: close`.
 */
function closingOnUnreadBodies(listener: RequestListener): RequestListener {
  return (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const writeHead = outgoing.writeHead;
    outgoing.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
      if (!incoming.readableEnded && hasLargeBody(incoming)) this.setHeader('Connection', 'close');
      return writeHead.apply(this, args);
    } as typeof writeHead;
    return listener(incoming, outgoing);
  };
}

function hasLargeBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers['content-length'];
  if (length === undefined) return incoming.headers['transfer-encoding'] !== undefined;
  return Number(length) > DRAINED_BODY_BYTES;
}

/**
 * What HTTP/1.1 (RFC 9112) says a server must or should refuse, and Node's parser lets through: answered as
 * problem+json, as every other refusal, and the connection closed (the body, if any, is never read).
 */
function refusingMalformed(listener: RequestListener): RequestListener {
  return (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const problem = refusalOf(incoming);
    if (!problem) return listener(incoming, outgoing);
    const { body, headers } = closingProblem(problem);
    outgoing.writeHead(problem.status, headers);
    outgoing.end(body);
  };
}

/** The refusal a request has coming before any route sees it, if any. */
function refusalOf(incoming: IncomingMessage): ProblemError | undefined {
  if (incoming.httpVersionMajor !== 1)
    return new ProblemError(
      'http-version-not-supported',
      505,
      `HTTP/${incoming.httpVersion} is not served here; use HTTP/1.1.`,
    );
  let hosts = 0;
  for (let i = 0; i < incoming.rawHeaders.length; i += 2)
    if (incoming.rawHeaders[i]?.toLowerCase() === 'host') hosts++;
  if (incoming.httpVersionMinor >= 1 && hosts === 0)
    return new ProblemError('bad-request', 400, 'An HTTP/1.1 request needs a Host header.');
  if (hosts > 1) return new ProblemError('bad-request', 400, 'A request takes one Host header.');
  const codings = (incoming.headers['transfer-encoding'] ?? '').split(',').map((c) => c.trim().toLowerCase());
  if (codings.some((coding) => coding !== '' && coding !== 'chunked'))
    return new ProblemError(
      'not-implemented',
      501,
      'Only the chunked transfer coding is understood here; send the body as it is, or chunked.',
    );
  return undefined;
}

/**
 * What Node's HTTP parser refuses before any handler runs (headers over its limit, an unknown method, a
 * broken request line), and a request that does not arrive in time, is answered as problem+json too, then
 * the connection is closed.
 */
function answerClientError(error: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  endWithProblem(socket, clientErrorProblem(error));
}

function clientErrorProblem(error: Error & { code?: string; rawPacket?: Buffer }): ProblemError {
  if (error.code === 'HPE_HEADER_OVERFLOW' && requestLineBytes(error.rawPacket) > LONGEST_REQUEST_LINE)
    return new ProblemError('uri-too-long', 414, 'The request target is longer than this server takes.');
  if (error.code === 'HPE_HEADER_OVERFLOW')
    return new ProblemError(
      'headers-too-large',
      431,
      'The request headers are larger than this server takes.',
    );
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new ProblemError('request-timeout', 408, 'The request did not arrive in time; send it again.');
  // A well-formed method that Node's parser does not know (RFC 9110, 9.1: 501); bytes that are no method at
  // all (a TLS handshake on the plain port, say) stay a 400.
  if (error.code === 'HPE_INVALID_METHOD' && METHOD_TOKEN.test(refusedLine(error)))
    return new ProblemError('not-implemented', 501, 'This server does not implement that method.');
  return new ProblemError('bad-request', 400, 'The request is not valid HTTP/1.1.');
}

/** The line the parser refused, from its start: a request pipelined after others starts mid-packet. */
function refusedLine(error: { rawPacket?: Buffer; bytesParsed?: number }): string {
  const packet = error.rawPacket?.toString('latin1') ?? '';
  const at = Math.min(error.bytesParsed ?? 0, packet.length);
  return packet.slice(packet.lastIndexOf('\n', at - 1) + 1);
}

/** The start of a request line whose method is an RFC 9110 token, followed by a target. */
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \S/;

/** RFC 9112 asks a server to take request lines of at least 8,000 bytes; Node takes 16 KiB of headers in all. */
const LONGEST_REQUEST_LINE = 8_192;

/**
 * How long the request line is, as far as the parser got: the bytes before the first line end of the data it
 * refused, or all of them if there is none (a target that alone fills the limit).
 */
function requestLineBytes(packet: Buffer | undefined): number {
  if (!packet) return 0;
  const end = packet.indexOf('\r\n');
  return end === -1 ? packet.length : end;
}

/** Writes a problem+json answer straight to a socket and closes it: for what never reached the HTTP server's handlers. */
function endWithProblem(socket: Duplex, problem: ProblemError): void {
  const { body, headers } = closingProblem(problem);
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n${head.join('')}\r\n${body}`);
}

/** A problem's body and the headers of an answer that ends its connection, however it is written. */
function closingProblem(problem: ProblemError): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(problem.toBody());
  return {
    body,
    headers: {
      'Content-Type': PROBLEM_CONTENT_TYPE,
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
    },
  };
}
