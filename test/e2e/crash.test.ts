import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.ts';
import { type AcceptedEvent, toBusEntry } from '../../shared/bus/envelope.ts';
import { ROUTES } from '../../shared/bus/routes.ts';
import { appendJsonLines } from '../../shared/util/json-lines.ts';

/**
 * The real `npm start` runtime in its own process group (it starts its own DynamoDB Local in the group),
 * killed with SIGKILL in the middle of a burst of writes: every event answered 202 must be there after a
 * restart, once, and counted once.
 */

const REPO = resolve(import.meta.dirname, '../..');
const PARTNER_KEY = 'dev-partner-key';
const ANALYST_KEY = 'dev-analyst-key';
const PROVIDER = 'crash-cloud';

interface Runtime {
  child: ChildProcess;
  pid: number;
  url: string;
  dataDir: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const groups = new Set<number>();
const dirs = new Set<string>();

afterAll(async () => {
  for (const pid of groups) signalGroup(pid, 'SIGKILL');
  for (const pid of groups) await until(() => !groupAlive(pid), 10_000).catch(() => undefined);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** True while any process of the group (the runtime, its DynamoDB Local) is alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Any process on this machine still using the data dir (DynamoDB Local runs with `-dbPath <dir>/dynamodb`). */
function processesUsing(dataDir: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((line) => line.includes(dataDir));
}

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'h20-crash-'));
  dirs.add(dir);
  return dir;
}

/** Starts the runtime as the leader of a new process group, the way a shell starts `npm start`. */
function launch(command: string[], port: number, dataDir: string, env: NodeJS.ProcessEnv = {}): Runtime {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port), TRACKER_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${command.join(' ')}`);
  groups.add(pid);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return { child, pid, url: `http://127.0.0.1:${port}`, dataDir, output: () => output, exited };
}

const startRuntime = (port: number, dataDir: string) =>
  launch([process.execPath, '--import', 'tsx', 'local/main.ts'], port, dataDir);

async function waitHealthy(rt: Runtime, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (rt.child.exitCode !== null || rt.child.signalCode !== null)
      throw new Error(`the runtime exited before it was healthy:\n${rt.output()}`);
    const ok = await fetch(`${rt.url}/v1/health`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`the runtime was not healthy within ${timeoutMs} ms:\n${rt.output()}`);
    await sleep(200);
  }
}

async function getJson<T>(rt: Runtime, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${rt.url}${path}`, { headers: { Authorization: `Bearer ${ANALYST_KEY}` } });
  return { status: res.status, body: (await res.json()) as T };
}

interface Status {
  eventsRecorded: number;
  eventsProjected: number;
  projectionLagMs: number;
  /** Accepted events the bus has not yet handed to the recorder. */
  pending: number;
  deadLettered: number;
  /** Events the projector set aside after their retries; -1 when the status does not say. */
  setAside: number;
  streamCaughtUp: boolean;
}

interface StatusBody {
  eventsRecorded: number;
  eventsProjected: number;
  projectionLagMs?: number;
  backlog?: {
    pending: number;
    deadLettered?: number;
    projectionSetAside?: number;
    streamCaughtUp: boolean;
  };
  busPending?: number;
  busDeadLettered?: number;
  streamCaughtUp?: boolean;
}

/** `GET /v1/status`, read whether the backlog is nested (`backlog`) or flat (`busPending`, `streamCaughtUp`). */
async function readStatus(rt: Runtime): Promise<Status> {
  const { status, body } = await getJson<StatusBody>(rt, '/v1/status');
  if (status !== 200) throw new Error(`GET /v1/status answered ${status}: ${JSON.stringify(body)}`);
  const pending = body.backlog?.pending ?? body.busPending;
  const streamCaughtUp = body.backlog?.streamCaughtUp ?? body.streamCaughtUp;
  if (pending === undefined || streamCaughtUp === undefined)
    throw new Error(`GET /v1/status reports no bus backlog or stream state: ${JSON.stringify(body)}`);
  return {
    eventsRecorded: body.eventsRecorded,
    eventsProjected: body.eventsProjected,
    projectionLagMs: body.projectionLagMs ?? 0,
    pending,
    deadLettered: body.backlog?.deadLettered ?? body.busDeadLettered ?? 0,
    setAside: body.backlog?.projectionSetAside ?? -1,
    streamCaughtUp,
  };
}

/** Waits until the pipeline has nothing left to do, and has stayed so for a while. */
async function settle(rt: Runtime, timeoutMs = 45_000): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  let last: Status | undefined;
  for (;;) {
    const status = await readStatus(rt).catch(() => undefined);
    const settled =
      status !== undefined &&
      status.pending === 0 &&
      status.streamCaughtUp &&
      status.projectionLagMs === 0 &&
      status.eventsProjected >= status.eventsRecorded;
    const same = settled && JSON.stringify(status) === JSON.stringify(last);
    quiet = same ? quiet + 1 : 0;
    last = status;
    if (quiet >= 5) return status as Status;
    if (Date.now() > deadline)
      throw new Error(`the pipeline did not settle: ${JSON.stringify(status)}\n${rt.output()}`);
    await sleep(200);
  }
}

/** Whether the whole group is gone within `timeoutMs`. */
async function groupGone(pid: number, timeoutMs: number): Promise<boolean> {
  const done = await until(() => !groupAlive(pid), timeoutMs).then(
    () => true,
    () => false,
  );
  if (done) groups.delete(pid);
  return done;
}

/** Stops a runtime with a signal and waits until its whole process group is gone. */
async function stopGroup(rt: Runtime, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  signalGroup(rt.pid, signal);
  await until(() => !groupAlive(rt.pid), timeoutMs);
  groups.delete(rt.pid);
}

interface SentEvent {
  eventId: string;
  quantity: number;
}

const dispatched = ({ eventId, quantity }: SentEvent) => ({
  eventId,
  type: 'shipment.dispatched',
  occurredAt: '2025-03-02T08:00:00Z',
  data: {
    shipmentId: `SH-${eventId}`,
    sku: 'H20',
    quantity,
    exporter: 'nvidia',
    origin: { country: 'TW' },
    destination: { country: 'CN', providerId: PROVIDER },
  },
});

/** Runs `work` over `items` with at most `limit` in flight. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

describe('the local runtime as a process', () => {
  it('keeps every 202-accepted event, once, across a SIGKILL of its whole process group', async () => {
    const port = await freePort();
    const dataDir = await newDataDir();
    const first = startRuntime(port, dataDir);
    const firstStartMs = await waitHealthy(first);

    // 40 requests of 5 events each over about 2 s. The group is killed once 1 s has passed and at least five
    // requests were answered 202, with the others in flight or not yet sent.
    const requests = Array.from({ length: 40 }, (_, r) =>
      Array.from({ length: 5 }, (_, e) => ({ eventId: `CR-${r}-${e}`, quantity: 1 + ((r * 5 + e) % 97) })),
    );
    const sent = requests.flat();
    const answers: (number | 'error')[] = new Array(requests.length).fill('error');
    const burstStart = Date.now();
    const inFlight = requests.map(async (batch, r) => {
      await sleep(r * 50);
      try {
        const res = await fetch(`${first.url}/v1/events`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${PARTNER_KEY}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ events: batch.map(dispatched) }),
        });
        answers[r] = res.status;
        await res.arrayBuffer();
      } catch {
        answers[r] = 'error';
      }
    });
    await sleep(1_000);
    // A slow machine may not have answered anything yet: the kill is only a test once some 202s are promises.
    await until(() => answers.filter((a) => a === 202).length >= 5, 20_000);
    signalGroup(first.pid, 'SIGKILL');
    const killedAtMs = Date.now() - burstStart;
    await Promise.all(inFlight);
    await until(() => !groupAlive(first.pid), 10_000);
    groups.delete(first.pid);
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(processesUsing(dataDir)).toEqual([]);

    const promised = requests.flatMap((batch, r) => (answers[r] === 202 ? batch.map((e) => e.eventId) : []));
    expect(promised.length).toBeGreaterThanOrEqual(25);
    const unanswered = answers.filter((a) => a === 'error').length;

    const second = startRuntime(port, dataDir);
    const restartMs = await waitHealthy(second);
    const status = await settle(second);
    expect(status.deadLettered).toBe(0);
    expect(status.setAside).toBe(0);

    // Every event we sent, looked up one by one: the recorded ones answer 200, the rest 404.
    const lookups = await mapLimit(sent, 8, async (event) => ({
      event,
      status: (await getJson<{ eventId: string }>(second, `/v1/events/${event.eventId}`)).status,
    }));
    expect(lookups.every((l) => l.status === 200 || l.status === 404)).toBe(true);
    const recorded = new Set(lookups.filter((l) => l.status === 200).map((l) => l.event.eventId));
    expect(promised.filter((id) => !recorded.has(id))).toEqual([]);

    // The history lists each recorded event exactly once. The listing without `from` is the one asked of the
    // API; should it fail, it is reported and the same listing is read from the epoch on, so that the
    // duplicate check still runs.
    const listEvents = async (base: string): Promise<{ status: number; ids: string[] }> => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const query = `${base}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page: { status: number; body: { items?: { eventId: string }[]; nextCursor?: string | null } } =
          await getJson(second, `/v1/events?${query}`);
        if (page.status !== 200) return { status: page.status, ids };
        ids.push(...(page.body.items ?? []).map((item) => item.eventId));
        cursor = page.body.nextCursor ?? null;
      } while (cursor);
      return { status: 200, ids };
    };
    let listing = await listEvents('type=shipment.dispatched&limit=500');
    expect.soft(listing.status, 'GET /v1/events?type=shipment.dispatched&limit=500').toBe(200);
    if (listing.status !== 200)
      listing = await listEvents('type=shipment.dispatched&limit=500&from=2020-01-01T00:00:00Z');
    expect(listing.status).toBe(200);
    const listed = listing.ids;
    expect(listed.length - new Set(listed).size).toBe(0);
    expect(new Set(listed)).toEqual(recorded);

    // Availability counts each recorded event's quantity once, no more, no less.
    const expectedInTransit = sent
      .filter((e) => recorded.has(e.eventId))
      .reduce((sum, e) => sum + e.quantity, 0);
    const inTransit = async () => {
      const { body } = await getJson<{ providers: { providerId: string; inTransit: number }[] }>(
        second,
        `/v1/availability?sku=H20&provider=${PROVIDER}`,
      );
      return body.providers.find((p) => p.providerId === PROVIDER)?.inTransit ?? 0;
    };
    await until(async () => (await inTransit()) === expectedInTransit, 10_000).catch(() => undefined);
    expect(await inTransit()).toBe(expectedInTransit);

    // The operational counters may lag a crash, but a duplicate must never be counted.
    const after = await readStatus(second);
    expect(after.eventsRecorded).toBeLessThanOrEqual(recorded.size);
    expect(after.eventsProjected).toBeLessThanOrEqual(recorded.size);

    console.info(
      JSON.stringify({
        firstStartMs,
        restartMs,
        killedAtMs,
        answered202: answers.filter((a) => a === 202).length,
        unanswered,
        promised: promised.length,
        recorded: recorded.size,
        eventsRecorded: after.eventsRecorded,
        eventsProjected: after.eventsProjected,
      }),
    );

    // SIGTERM to the runtime alone: it must take its DynamoDB Local down with it.
    const stopStarted = Date.now();
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    await until(() => !groupAlive(second.pid), 10_000);
    groups.delete(second.pid);
    console.info(JSON.stringify({ shutdownMs: Date.now() - stopStarted }));
    expect(processesUsing(dataDir)).toEqual([]);
  }, 180_000);

  it('runs two `npm start`s side by side on different ports and data dirs', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const [dirA, dirB] = [await newDataDir(), await newDataDir()];
    const a = launch(['npm', 'start'], portA, dirA);
    const b = launch(['npm', 'start'], portB, dirB);

    await Promise.all([waitHealthy(a, 90_000), waitHealthy(b, 90_000)]);

    const post = await fetch(`${a.url}/v1/events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${PARTNER_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(dispatched({ eventId: 'ONLY-IN-A', quantity: 7 })),
    });
    expect(post.status).toBe(202);
    await until(async () => (await getJson(a, '/v1/events/ONLY-IN-A')).status === 200, 20_000);
    expect((await getJson(b, '/v1/events/ONLY-IN-A')).status).toBe(404);
    expect((await readStatus(b)).pending).toBe(0);

    // Ctrl-C in a terminal signals the whole foreground group.
    await Promise.all([stopGroup(a, 'SIGINT', 20_000), stopGroup(b, 'SIGINT', 20_000)]);
    expect(processesUsing(dirA)).toEqual([]);
    expect(processesUsing(dirB)).toEqual([]);
  }, 180_000);
  it('`npm start -- --redrive-dlq` delivers the dead letters and projects the events set aside', async () => {
    // What an earlier run left: a message the bus dead-lettered (say, while DynamoDB was down) and an event
    // the projector set aside after its retries, in the files and formats the runtime writes them.
    const dataDir = await newDataDir();
    const at = '2025-03-02T09:00:00.000Z';
    const lost = dispatched({ eventId: 'DLQ-1', quantity: 5 });
    const entry = toBusEntry({ ...lost, source: 'dev-partner', acceptedAt: at } as AcceptedEvent);
    await mkdir(join(dataDir, 'bus'), { recursive: true });
    await appendJsonLines(join(dataDir, 'bus', 'dlq.ndjson'), [
      { route: ROUTES[0]?.id, record: { id: '01JDEADLETTER000000000000000', time: at, entry }, at },
    ]);
    const aside = dispatched({ eventId: 'ASIDE-1', quantity: 3 });
    await appendJsonLines(join(dataDir, 'projector-failures.jsonl'), [
      {
        at,
        shardId: 'shard-1',
        attempts: 11,
        events: [{ ...aside, source: 'dev-partner', recordedAt: at, stream: 'shipment:SH-ASIDE-1' }],
      },
    ]);
    const env = {
      DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
      TRACKER_TABLE_PREFIX: `redrive-${randomUUID().slice(0, 8)}`,
    };
    const inTransit = async (rt: Runtime) => {
      const { body } = await getJson<{ providers: { providerId: string; inTransit: number }[] }>(
        rt,
        `/v1/availability?sku=H20&provider=${PROVIDER}`,
      );
      return body.providers.find((p) => p.providerId === PROVIDER)?.inTransit ?? 0;
    };

    // Without the flag, both wait where they are, and the status says so.
    const plain = launch(['npm', 'start'], await freePort(), dataDir, env);
    await waitHealthy(plain);
    expect(await readStatus(plain)).toMatchObject({ deadLettered: 1, setAside: 1 });
    expect((await getJson(plain, '/v1/events/DLQ-1')).status).toBe(404);
    expect(await inTransit(plain)).toBe(0);
    await stopGroup(plain, 'SIGINT', 20_000);

    const redriven = launch(['npm', 'start', '--', '--redrive-dlq'], await freePort(), dataDir, env);
    await waitHealthy(redriven);
    const status = await settle(redriven);
    expect(status).toMatchObject({ deadLettered: 0, setAside: 0 });
    expect((await getJson<{ status: string }>(redriven, '/v1/events/DLQ-1')).body.status).toBe('recorded');
    expect(await inTransit(redriven)).toBe(5 + 3);
    expect(redriven.output()).not.toMatch(/"level":"(warn|error)"/);
    await stopGroup(redriven, 'SIGINT', 20_000);
  }, 120_000);

  it('exits 1 and leaves no DynamoDB Local behind when its HTTP port is taken', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((r) =>
      blocker.listen(0, '127.0.0.1', () => r((blocker.address() as { port: number }).port)),
    );
    try {
      const dataDir = await newDataDir();
      const rt = startRuntime(port, dataDir);
      const exit = await Promise.race([rt.exited, sleep(90_000).then(() => 'timeout' as const)]);
      expect(exit, rt.output()).toEqual({ code: 1, signal: null });
      expect(rt.output()).toMatch(/port \d+ is in use/);
      expect(await groupGone(rt.pid, 10_000), processesUsing(dataDir).join('\n')).toBe(true);
    } finally {
      blocker.close();
    }
  }, 120_000);

  it('takes its DynamoDB Local down when sent SIGTERM while still starting', async () => {
    const dataDir = await newDataDir();
    const rt = startRuntime(await freePort(), dataDir);
    await until(() => processesUsing(dataDir).some((line) => line.includes('DynamoDBLocal')), 60_000);

    rt.child.kill('SIGTERM');
    await rt.exited;

    expect(await groupGone(rt.pid, 10_000), processesUsing(dataDir).join('\n')).toBe(true);
  }, 120_000);

  it('runs a single DynamoDB Local on a data dir after the runtime process alone was SIGKILLed', async () => {
    const port = await freePort();
    const dataDir = await newDataDir();
    const first = startRuntime(port, dataDir);
    await waitHealthy(first);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startRuntime(port, dataDir);
    await waitHealthy(second);

    const databases = processesUsing(dataDir).filter((line) => line.includes('DynamoDBLocal'));
    expect(databases, databases.join('\n')).toHaveLength(1);
    second.child.kill('SIGTERM');
    await second.exited;
    expect(await groupGone(second.pid, 10_000)).toBe(true);
    expect(await groupGone(first.pid, 1_000), processesUsing(dataDir).join('\n')).toBe(true);
  }, 180_000);
});
