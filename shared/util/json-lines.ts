import { open, readFile } from 'node:fs/promises';

/**
 * Appends values to a file of JSON lines and syncs it before returning: the dead-letter files (the local
 * bus's, the stream poller's) must hold what they took before anything moves past it.
 */
export async function appendJsonLines(path: string, values: readonly unknown[]): Promise<void> {
  const handle = await open(path, 'a+');
  try {
    // After a torn append, start on a line of our own, so that the fragment spoils no acknowledged line.
    const { size } = await handle.stat();
    const last = Buffer.alloc(1);
    if (size > 0) await handle.read(last, 0, 1, size - 1);
    const start = size > 0 && last[0] !== 0x0a ? '\n' : '';
    await handle.write(start + values.map((value) => `${JSON.stringify(value)}\n`).join(''));
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * The values of a file of JSON lines; none when the file does not exist. A line that is not JSON is left out
 * and reported to `onTorn`: only an append cut short by a crash makes one, and such an append was never
 * acknowledged (what it held is still where it came from), so it must not stop the file's other lines.
 */
export async function readJsonLines<T>(path: string, onTorn?: (line: string) => void): Promise<T[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const values: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line) as T);
    } catch {
      onTorn?.(line);
    }
  }
  return values;
}
