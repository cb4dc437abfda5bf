import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../shared/store/dynamo.ts';

/**
 * A port that never completes a connection: a process listens with a backlog of one and then blocks its
 * event loop, so that it never accepts; once fillers take the kernel's queue, further SYNs are dropped, as
 * with a DynamoDB endpoint behind a black-holing network.
 */
const BLACK_HOLE = `
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});`;

let hole: ChildProcess | undefined;
const fillers: Socket[] = [];

afterAll(() => {
  for (const socket of fillers) socket.destroy();
  hole?.kill('SIGKILL');
});

async function blackHolePort(): Promise<number> {
  hole = spawn(process.execPath, ['-e', BLACK_HOLE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: hole.stdout as NonNullable<ChildProcess['stdout']> });
  const port = Number((await lines[Symbol.asyncIterator]().next()).value);
  for (let i = 0; i < 4; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => {}));
  return port;
}

describe('createDynamoClient', () => {
  it('gives up on a connection that is never established after its connection timeout', async () => {
    const port = await blackHolePort();
    const client = createDynamoClient({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
    try {
      const call = client.send(new GetItemCommand({ TableName: 'any', Key: { pk: { S: 'x' } } }));

      // The request timeout (10 s) would say "exceeded the configured 10000 ms requestTimeout"; this is the 2 s connect bound.
      await expect(call).rejects.toMatchObject({
        name: 'TimeoutError',
        message: expect.stringMatching(
          /did not establish a connection with the server within the configured timeout of 2000 ms/,
        ),
      });
    } finally {
      client.destroy();
    }
  }, 20_000);
});
