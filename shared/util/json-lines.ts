import { open, readFile } from 'node:fs/promises';

/**
 * Appends values to a file of JSON lines and syncs it before returning: the dead-letter files (the local
 * bus's, the stream poller's) must hold what they took before anything moves past it.
 */
export async function appendJsonLines(path: string, values: readonly unknown[]): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.write(values.map((value) => `${JSON.stringify(value)}\n`).join(''));
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** The values of a file of JSON lines; none when the file does not exist. */
export async function readJsonLines<T>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
