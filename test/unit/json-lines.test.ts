import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendJsonLines, readJsonLines } from '../../shared/util/json-lines.ts';

describe('JSON lines files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'h20-lines-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads back what was appended, and nothing from a file that does not exist', async () => {
    const path = join(dir, 'a.jsonl');
    expect(await readJsonLines(path)).toEqual([]);
    await appendJsonLines(path, [{ n: 1 }, { n: 2 }]);
    await appendJsonLines(path, [{ n: 3 }]);
    expect(await readJsonLines(path)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await readFile(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
  });

  it('keeps the lines around an append a crash cut short, and reports the fragment', async () => {
    const path = join(dir, 'torn.jsonl');
    await appendJsonLines(path, [{ n: 1 }]);
    await appendFile(path, '{"n":2,"tor');
    await appendJsonLines(path, [{ n: 3 }]);

    const torn: string[] = [];
    expect(await readJsonLines(path, (line) => torn.push(line))).toEqual([{ n: 1 }, { n: 3 }]);
    expect(torn).toEqual(['{"n":2,"tor']);
  });
});
