import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
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

describe("the test run's DynamoDB Local", () => {
  it('runs with the quick-start JVM options, as the README says', () => {
    const port = new URL(inject('dynamoEndpoint')).port;
    const commandLines = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .flatMap((pid) => {
        try {
          return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')];
        } catch {
          return [];
        }
      });
    const ours = commandLines.find(
      (args) => args.some((a) => a.endsWith('DynamoDBLocal.jar')) && args[args.indexOf('-port') + 1] === port,
    );
    expect(ours, `no DynamoDB Local process on port ${port}`).toBeDefined();
    const jar = (ours as string[]).indexOf('-jar');
    for (const option of QUICK_START_JVM_OPTIONS) {
      expect((ours as string[]).indexOf(option)).toBeGreaterThan(-1);
      expect((ours as string[]).indexOf(option)).toBeLessThan(jar);
    }
  });
});
