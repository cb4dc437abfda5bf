import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/util/logger.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

/**
 * Sends raw bytes on a fresh connection (then half-closes it, when `end`) and reads the answer until the
 * server closes the connection.
 */
async function rawExchange(
  url: string,
  raw: string,
  options: { end: boolean },
): Promise<{ head: string; body: string; text: string }> {
  const { port, hostname } = new URL(url);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => (options.end ? socket.end(raw) : socket.write(raw)));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { head, body, text: answer };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const dispatched = (id: string, quantity: number, provider = 'alibaba-cloud') => ({
  eventId: `${id}-d`,
  type: 'shipment.dispatched',
  occurredAt: '2025-03-02T08:00:00+08:00',
  data: {
    shipmentId: id,
    sku: 'H20',
    quantity,
    exporter: 'nvidia',
    origin: { country: 'TW' },
    destination: { country: 'CN', providerId: provider },
  },
});

describe('the pipeline over HTTP', () => {
  let rt: TestRuntime;
  const logs: { level: string; message: string }[] = [];
  beforeAll(async () => {
    rt = await startTestRuntime({
      logger: createLogger({ level: 'info', write: (line) => logs.push(JSON.parse(line)) }),
    });
  });
  afterAll(() => rt.stop());

  it('records an accepted event and projects it into availability', async () => {
    const res = await rt.post('/v1/events', dispatched('SH-1', 512));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      accepted: [
        { eventId: 'SH-1-d', type: 'shipment.dispatched', status: 'accepted', href: '/v1/events/SH-1-d' },
      ],
    });
    await rt.settle();
    const availability = (await (await rt.get('/v1/availability?sku=H20')).json()) as {
      providers: unknown[];
    };
    expect(availability.providers).toEqual([
      expect.objectContaining({ providerId: 'alibaba-cloud', inTransit: 512, installed: 0 }),
    ]);
    const event = await (await rt.get('/v1/events/SH-1-d')).json();
    expect(event).toMatchObject({
      status: 'recorded',
      occurredAt: '2025-03-02T00:00:00.000Z',
      source: 'test-partner',
      stream: 'shipment:SH-1',
    });
  });

  it('closes the connection after a 413 it answered without reading the body, and says so', async () => {
    // Over 1 MiB: refused on its Content-Length, before a byte of it is read.
    const refused = await rt.post('/v1/events', `{"events":[]}${' '.repeat(1_100_000)}`);
    expect(refused.status).toBe(413);
    expect(refused.headers.get('connection')).toBe('close');
    await refused.arrayBuffer();
    // fetch keeps connections alive: the next request must be answered, not lost with the old socket.
    for (let i = 0; i < 3; i++) {
      const accepted = await rt.post('/v1/events', dispatched(`SH-AFTER-413-${i}`, 8));
      expect(accepted.status).toBe(202);
      // A body that was read keeps its connection.
      expect(accepted.headers.get('connection')).toBe('keep-alive');
      await accepted.arrayBuffer();
    }
  });

  it('logs a client that hangs up in the middle of its body as such, not as an error of ours', async () => {
    const { port, hostname } = new URL(rt.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          'POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-partner-key\r\n' +
            'Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"type":',
        );
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await until(() => logs.some((l) => l.message.startsWith('client closed the connection')));
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('does not count an event dated in the future until its time has come', async () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const future = { ...dispatched('SH-FUTURE', 64, 'future-cloud'), occurredAt: tomorrow };
    expect((await rt.post('/v1/events', future)).status).toBe(202);
    await rt.settle();
    type Availability = { providers: { providerId: string; inTransit: number }[] };
    const now = (await (
      await rt.get('/v1/availability?sku=H20&provider=future-cloud')
    ).json()) as Availability;
    expect(now.providers).toEqual([]);
    const later = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const then = (await (
      await rt.get(`/v1/availability?sku=H20&provider=future-cloud&asOf=${encodeURIComponent(later)}`)
    ).json()) as Availability;
    expect(then.providers).toEqual([expect.objectContaining({ providerId: 'future-cloud', inTransit: 64 })]);
  });

  it.each([
    ['a backslash in the path', 'GET /v1/events/\\ HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad-request'],
    ['a malformed Host', 'GET /v1/health HTTP/1.1\r\nHost: a b c\r\n\r\n', 400, 'bad-request'],
    ['an unknown method', 'FOO /v1/health HTTP/1.1\r\nHost: x\r\n\r\n', 501, 'not-implemented'],
    ['bytes that are no method', '\u0016\u0003\u0001 /v1/health HTTP/1.1\r\n\r\n', 400, 'bad-request'],
    ['an HTTP/1.1 request without Host', 'GET /v1/health HTTP/1.1\r\n\r\n', 400, 'bad-request'],
    ['two Host headers', 'GET /v1/health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', 400, 'bad-request'],
    [
      'HTTP/2.0 on the request line',
      'GET /v1/health HTTP/2.0\r\nHost: x\r\n\r\n',
      505,
      'http-version-not-supported',
    ],
    [
      'a transfer coding other than chunked',
      'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
      501,
      'not-implemented',
    ],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 501, 'not-implemented'],
    [
      'headers over the limit',
      `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'headers-too-large',
    ],
    [
      'a request target over 8 KiB that overflows the headers',
      `GET /v1/events?stream=${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      414,
      'uri-too-long',
    ],
  ])('answers problem+json to a request the HTTP layer refuses: %s', async (_, raw, status, slug) => {
    const { head, body } = await rawExchange(rt.url, raw, { end: true });
    expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(JSON.parse(body)).toMatchObject({ type: `/problems/${slug}`, status });
  });

  it('judges the method of a request pipelined after another on its own line: bytes that are no method get 400', async () => {
    const first = 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n';
    const { text } = await rawExchange(rt.url, `${first}\u0016\u0003\u0001 / HTTP/1.1\r\n\r\n`, {
      end: true,
    });

    // Every answer on the connection: the health check's, and the refusal's.
    expect(text).toContain('/problems/bad-request');
    expect(text).not.toContain('/problems/not-implemented');
  });
});

describe('a client that asks before sending its body (Expect: 100-continue)', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
  });
  afterAll(() => rt.stop());

  const post = (headers: string, body: string, length = Buffer.byteLength(body)) =>
    'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n' +
    `Connection: close\r\n${headers}Content-Length: ${length}\r\n\r\n${body}`;

  it('hears 100 Continue, then the answer, when the body is taken', async () => {
    const body = JSON.stringify(dispatched('SH-EXPECT', 5));
    // Connection: close ends the exchange once answered (a half-close from us would abort the request).
    const answer = await rawExchange(rt.url, post('Authorization: Bearer test-partner-key\r\n', body), {
      end: false,
    });
    expect(answer.head).toBe('HTTP/1.1 100 Continue');
    expect(answer.body).toMatch(/^HTTP\/1.1 202 /);
  });

  it('hears 100 Continue while it holds its body back, and the answer once it sends it', async () => {
    const body = JSON.stringify(dispatched('SH-EXPECT-2', 5));
    const raw = post('Authorization: Bearer test-partner-key\r\n', body);
    const at = raw.indexOf('\r\n\r\n') + 4;
    const { port, hostname } = new URL(rt.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(raw.slice(0, at)));
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('utf8');
        // The body goes only after the server has asked for it, as a careful client does.
        if (text === 'HTTP/1.1 100 Continue\r\n\r\n') socket.write(raw.slice(at));
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 202 /);
  });

  it.each([
    ['no key', '', 2, 401],
    [
      'a body over the limit, by its Content-Length',
      'Authorization: Bearer test-partner-key\r\n',
      2 * 1024 * 1024,
      413,
    ],
  ])('gets its refusal at once, without 100 Continue: %s', async (_, headers, length, status) => {
    // Only the headers are sent: a server that waited for the body would never answer.
    const { head } = await rawExchange(rt.url, post(headers, '', length), { end: false });
    expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(head).not.toContain('100 Continue');
  });
});

describe('a client too slow to send its request', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime({ httpTimeouts: { headersMs: 500, requestMs: 1_000 } });
  });
  afterAll(() => rt.stop());

  it.each([
    ['headers that never end', 'GET /v1/health HTTP/1.1\r\nHost: x\r\n'],
    [
      'a body shorter than its Content-Length',
      'POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-partner-key\r\n' +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    ],
  ])('gets 408 problem+json in time, and the connection closed: %s', async (_, raw) => {
    const started = Date.now();
    // The connection stays open on our side: only the server's timeout can end the exchange.
    const { head, body } = await rawExchange(rt.url, raw, { end: false });
    expect(head).toMatch(/^HTTP\/1.1 408 /);
    expect(head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(JSON.parse(body)).toMatchObject({ type: '/problems/request-timeout', status: 408 });
    // Node checks its timeouts once a second here: well within the 60 s and 300 s of its defaults.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
