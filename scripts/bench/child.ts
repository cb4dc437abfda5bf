import { fork } from 'node:child_process';

/**
 * Runs a bench script (`*-child.ts`) in a fresh Node process: sends it `input`, resolves with the `result`
 * it sends back, and calls `onStarted` when it reports `started`. The child answers `{ error }` on failure.
 */
export function runChild<I, R>(script: string, input: I, what: string, onStarted?: () => void): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    child.on('message', (message: { started?: boolean; result?: R; error?: string }) => {
      if (message.started) {
        onStarted?.();
        return;
      }
      settled = true;
      if (message.result) resolve(message.result);
      else reject(new Error(`${what} failed: ${message.error}`));
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`${what} exited with code ${code} before reporting`));
    });
    child.send(input as object);
  });
}
