import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dynamoDBLocalArgs, QUICK_START_JVM_OPTIONS } from '../../local/dynamodb-local.ts';

describe('how DynamoDB Local is started', () => {
  it('runs the bundled jar with its native library, telemetry off', () => {
    const args = dynamoDBLocalArgs({ port: 8123 });
    const jar = args[args.indexOf('-jar') + 1] as string;
    const library = (args.find((a) => a.startsWith('-Djava.library.path=')) as string).split(
      '=',
    )[1] as string;
    expect(existsSync(jar)).toBe(true);
    expect(existsSync(library)).toBe(true);
    expect(args[0]).toBe(`-Djava.library.path=${library}`);
    expect(args.slice(args.indexOf('-jar'))).toEqual([
      '-jar',
      jar,
      '-port',
      '8123',
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
    ]);
  });

  it('puts the quick-start JVM options before -jar, where the JVM reads them', () => {
    const args = dynamoDBLocalArgs({ port: 8123, quickStart: true });
    expect(args.slice(0, QUICK_START_JVM_OPTIONS.length)).toEqual([...QUICK_START_JVM_OPTIONS]);
    expect(args.indexOf('-XX:TieredStopAtLevel=1')).toBeLessThan(args.indexOf('-jar'));
  });

  it('keeps the tables in dbPath when one is given, and in memory otherwise', () => {
    const args = dynamoDBLocalArgs({ port: 8000, dbPath: '/tmp/tracker-db' });
    expect(args).not.toContain('-inMemory');
    expect(args[args.indexOf('-dbPath') + 1]).toBe('/tmp/tracker-db');
  });
});
