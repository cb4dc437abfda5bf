import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeysCli } from '../../scripts/keys.ts';
import { Authenticator } from '../../shared/auth/authenticator.ts';
import { DynamoDBKeyStore } from '../../shared/auth/key-store.ts';
import { hashKey } from '../../shared/auth/keys.ts';
import { createTestTables, type TestTables } from '../support/dynamo.ts';

interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

describe('the keys CLI against DynamoDB Local', () => {
  let tables: TestTables;
  let store: DynamoDBKeyStore;

  beforeAll(async () => {
    tables = await createTestTables('keys-cli');
    store = new DynamoDBKeyStore(tables.client, tables.names.keys);
  });
  afterAll(() => tables.drop());

  const keys = async (...argv: string[]): Promise<CliRun> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runKeysCli(
      [...argv, '--endpoint', tables.endpoint, '--table', tables.names.keys],
      {},
      { out: (line) => out.push(line), err: (line) => err.push(line) },
    );
    return { code, out, err };
  };

  /** Creates a key through the CLI and reads its id and secret back from the output. */
  const createKey = async (...argv: string[]): Promise<{ keyId: string; key: string }> => {
    const run = await keys('create', ...argv);
    expect(run.code, run.err.join('\n')).toBe(0);
    const text = run.out.join('\n');
    const keyId = /^keyId:\s+(\S+)$/m.exec(text)?.[1];
    const key = /^key:\s+(\S+)$/m.exec(text)?.[1];
    if (!keyId || !key) throw new Error(`no keyId or key in the output:\n${text}`);
    return { keyId, key };
  };

  /** A fresh Authenticator each time, so that no cached answer hides a change in the table. */
  const authenticate = (key: string) => new Authenticator(store).authenticate(key);

  it('creates a partner key, prints it once and stores only its hash', async () => {
    const { keyId, key } = await createKey(
      '--role',
      'partner',
      '--partner',
      'crash-cloud',
      '--families',
      'shipment,allocation',
      '--providers',
      'crash-cloud',
      '--label',
      'integration test',
    );

    expect(key).toMatch(/^h20_[A-Za-z0-9_-]{20,}$/);
    const { Item } = await tables.client.send(
      new GetItemCommand({
        TableName: tables.names.keys,
        Key: { keyId: { S: keyId } },
        ConsistentRead: true,
      }),
    );
    expect(Item).toBeDefined();
    expect(Item?.hash?.S).toBe(hashKey(key));
    expect(JSON.stringify(Item)).not.toContain(key);
    expect(JSON.stringify(Item)).not.toContain(key.slice(4));
    expect(await store.get(keyId)).toMatchObject({
      keyId,
      role: 'partner',
      partnerId: 'crash-cloud',
      families: ['shipment', 'allocation'],
      providers: ['crash-cloud'],
      label: 'integration test',
    });
  });

  it('lists created keys with their role, scope and state', async () => {
    const partner = await createKey('--role', 'partner', '--partner', 'list-cloud', '--families', 'shipment');
    const analyst = await createKey('--role', 'analyst', '--label', 'reader');

    const run = await keys('list');

    expect(run.code).toBe(0);
    const line = (keyId: string) => run.out.find((l) => l.startsWith(keyId)) ?? '';
    expect(line(partner.keyId)).toMatch(/partner\s+active partner=list-cloud families=shipment/);
    expect(line(analyst.keyId)).toMatch(/analyst\s+active\s+"reader"/);
    expect(run.out.join('\n')).not.toContain(partner.key);
  });

  it('authenticates a created key and refuses it once it is revoked', async () => {
    const { keyId, key } = await createKey('--role', 'partner', '--partner', 'auth-cloud');
    expect(await authenticate(key)).toMatchObject({ keyId, role: 'partner', partnerId: 'auth-cloud' });

    const revoke = await keys('revoke', keyId);

    expect(revoke).toMatchObject({ code: 0, out: [`revoked ${keyId}`] });
    expect(await authenticate(key)).toBeNull();
    expect((await store.get(keyId))?.revokedAt).toEqual(expect.any(String));
    const list = await keys('list');
    expect(list.out.find((l) => l.startsWith(keyId))).toMatch(/revoked \d{4}-\d\d-\d\dT/);
  });

  it('keeps the first revocation time when a key is revoked again', async () => {
    const { keyId } = await createKey('--role', 'admin');
    expect((await keys('revoke', keyId)).code).toBe(0);
    const first = (await store.get(keyId))?.revokedAt;

    expect((await keys('revoke', keyId)).code).toBe(0);
    expect((await store.get(keyId))?.revokedAt).toBe(first);
  });

  it('exits 1 when asked to revoke a key that does not exist', async () => {
    const run = await keys('revoke', 'no-such-key-id');
    expect(run).toMatchObject({ code: 1, err: ['no key no-such-key-id'] });
  });

  it('never authenticates a key that was not created', async () => {
    expect(await authenticate('h20_not-a-key-anyone-made')).toBeNull();
  });

  it.each([
    {
      why: 'a partner key without --partner',
      argv: ['create', '--role', 'partner'],
      message: /--partner <id> is required/,
    },
    {
      why: 'a partner id that is not a slug',
      argv: ['create', '--role', 'partner', '--partner', 'Crash Cloud'],
      message: /lower-case slug/,
    },
    {
      why: 'an unknown event family',
      argv: ['create', '--role', 'partner', '--partner', 'x-cloud', '--families', 'shipment,weather'],
      message: /unknown families: weather/,
    },
    { why: 'an unknown role', argv: ['create', '--role', 'superuser'], message: /--role must be one of/ },
    { why: 'no role', argv: ['create'], message: /--role must be one of/ },
    { why: 'an unknown option', argv: ['list', '--colour'], message: /Unknown option '--colour'/ },
    { why: 'an unknown command', argv: ['rotate'], message: /unknown command rotate/ },
    { why: 'revoke without a keyId', argv: ['revoke'], message: /revoke needs a keyId/ },
  ])('exits 2 with a clear message for $why and writes nothing', async ({ argv, message }) => {
    const before = (await store.list()).length;

    const run = await keys(...argv);

    expect(run.code).toBe(2);
    expect(run.err.join('\n')).toMatch(message);
    expect(run.out).toEqual([]);
    expect((await store.list()).length).toBe(before);
  });

  it('prints the usage and exits 2 when given no command', async () => {
    const out: string[] = [];
    const code = await runKeysCli([], {}, { out: (line) => out.push(line), err: () => undefined });
    expect(code).toBe(2);
    expect(out.join('\n')).toMatch(/npm run keys -- create --role partner/);
  });
});
