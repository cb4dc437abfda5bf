import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBKeyStore } from '../shared/auth/key-store.ts';
import { generateKey, newKeyRecord, ROLES, type Role } from '../shared/auth/keys.ts';
import { FAMILIES, type Family } from '../shared/events/catalogue.ts';
import { Slug } from '../shared/events/primitives.ts';
import { createDynamoClient } from '../shared/store/dynamo.ts';
import { tableNamesFor } from '../shared/store/tables.ts';

const USAGE = `Manage API keys (the admin role's tool; keys are stored only as SHA-256 hashes).

  npm run keys -- create --role partner --partner <id> [--families shipment,allocation] [--providers a,b] [--label text]
  npm run keys -- create --role analyst|admin [--label text]
  npm run keys -- list
  npm run keys -- revoke <keyId>

Where the keys live:
  --table <name>       the keys table (in AWS: the stack's KeysTableName output; uses your AWS credentials)
  --endpoint <url>     a DynamoDB Local endpoint (the local runtime prints it); default: AWS
  otherwise            DYNAMODB_ENDPOINT and TRACKER_TABLE_PREFIX as for npm start
`;

export interface KeysCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Runs one keys command; returns the process exit code. */
export async function runKeysCli(argv: string[], env: NodeJS.ProcessEnv, io: KeysCliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (!command || values.help) {
    io.out(USAGE);
    return command || values.help ? 0 : 2;
  }
  const endpoint = values.endpoint ?? env.DYNAMODB_ENDPOINT;
  const table = values.table ?? tableNamesFor(env.TRACKER_TABLE_PREFIX ?? 'h20-tracker').keys;
  const client = createDynamoClient(endpoint ? { endpoint } : {});
  const store = new DynamoDBKeyStore(client, table);
  try {
    switch (command) {
      case 'create':
        return await create(store, values, io);
      case 'list': {
        for (const key of await store.list()) {
          const scope =
            key.role === 'partner'
              ? ` partner=${key.partnerId} families=${(key.families ?? []).join(',')}${key.providers ? ` providers=${key.providers.join(',')}` : ''}`
              : '';
          io.out(
            `${key.keyId}  ${key.role.padEnd(7)} ${key.revokedAt ? `revoked ${key.revokedAt}` : 'active'}${scope}${key.label ? `  "${key.label}"` : ''}`,
          );
        }
        return 0;
      }
      case 'revoke': {
        const keyId = rest[0];
        if (!keyId) {
          io.err('revoke needs a keyId (see `list`)');
          return 2;
        }
        const done = await store.revoke(keyId, new Date());
        io[done ? 'out' : 'err'](done ? `revoked ${keyId}` : `no key ${keyId}`);
        return done ? 0 : 1;
      }
      default:
        io.err(`unknown command ${command}\n\n${USAGE}`);
        return 2;
    }
  } finally {
    client.destroy();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      partner: { type: 'string' },
      families: { type: 'string' },
      providers: { type: 'string' },
      label: { type: 'string' },
      table: { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function create(
  store: DynamoDBKeyStore,
  values: ReturnType<typeof parse>['values'],
  io: KeysCliIo,
): Promise<number> {
  const role = values.role as Role | undefined;
  if (!role || !ROLES.includes(role)) {
    io.err(`--role must be one of ${ROLES.join(', ')}`);
    return 2;
  }
  const list = (text: string | undefined) =>
    text
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const families = (list(values.families) ?? [...FAMILIES]) as Family[];
  const providers = list(values.providers);
  if (role === 'partner') {
    if (!values.partner || !Slug.safeParse(values.partner).success) {
      io.err('--partner <id> is required for a partner key, as a lower-case slug');
      return 2;
    }
    const unknown = families.filter((f) => !FAMILIES.includes(f));
    if (unknown.length > 0) {
      io.err(`unknown families: ${unknown.join(', ')} (known: ${FAMILIES.join(', ')})`);
      return 2;
    }
    if (providers?.some((p) => !Slug.safeParse(p).success)) {
      io.err('--providers takes lower-case slugs, comma-separated');
      return 2;
    }
  }
  const key = generateKey();
  const record = newKeyRecord(
    key,
    role === 'partner'
      ? { role, partnerId: values.partner, families, providers, label: values.label }
      : { role, label: values.label },
    new Date(),
  );
  await store.put(record);
  io.out(`keyId: ${record.keyId}`);
  io.out(`key:   ${key}`);
  io.out('Store the key now: only its hash is kept, so it cannot be shown again.');
  return 0;
}

const entryPoint = process.argv[1];
if (entryPoint !== undefined && import.meta.url === pathToFileURL(entryPoint).href) {
  runKeysCli(process.argv.slice(2), process.env, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`keys: ${error.name}: ${error.message}\n`);
      process.exit(1);
    },
  );
}
