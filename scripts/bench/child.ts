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

/** The child's side of `runChild`: takes the input, sends back `run`'s result or its error, and exits. */
export function serveChild<I, R>(run: (input: I) => R | Promise<R>): void {
  process.once('message', (input: I) => {
    Promise.resolve()
      .then(() => run(input))
      .then(
        (result) => process.send?.({ result }, () => process.exit(0)),
        (error: unknown) => process.send?.({ error: String(error) }, () => process.exit(1)),
      );
  });
}
