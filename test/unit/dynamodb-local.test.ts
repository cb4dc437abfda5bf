import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dynamoDBLocalArgs, JVM_OPTIONS } from '../../local/dynamodb-local.ts';

describe('how DynamoDB Local is started', () => {
  it('runs the bundled jar with its native library, on the quick compiler and the serial collector', () => {
    const args = dynamoDBLocalArgs({ port: 8123 });
    const jar = args[args.indexOf('-jar') + 1] as string;
    const library = (args.find((a) => a.startsWith('-Djava.library.path=')) as string).split(
      '=',
    )[1] as string;
    expect(existsSync(jar)).toBe(true);
    expect(existsSync(library)).toBe(true);
    // JVM options go before -jar: after it they would be arguments of DynamoDB Local itself.
    expect(args.slice(0, JVM_OPTIONS.length)).toEqual([...JVM_OPTIONS]);
    expect(JVM_OPTIONS).toContain('-XX:TieredStopAtLevel=1');
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

  it('keeps the tables in dbPath when one is given, and in memory otherwise', () => {
    const args = dynamoDBLocalArgs({ port: 8000, dbPath: '/tmp/tracker-db' });
    expect(args).not.toContain('-inMemory');
    expect(args[args.indexOf('-dbPath') + 1]).toBe('/tmp/tracker-db');
  });
});
