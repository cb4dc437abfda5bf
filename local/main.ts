import { createLogger } from '../shared/util/logger.ts';
import { configFromEnv } from './config.ts';
import { JAVA_HINT, killDynamoDBLocals } from './dynamodb-local.ts';
import { type LocalRuntime, startLocalRuntime } from './runtime.ts';

/** `npm start`: the whole product on this machine. `npm start -- --seed` also loads the demo dataset. */
async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const config = configFromEnv();
  const logger = createLogger({ service: 'h20-tracker-local' });

  let runtime: LocalRuntime | undefined;
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    if (runtime) await runtime.stop();
    // A signal during start-up: nothing is accepted yet, so DynamoDB Local is simply killed.
    else killDynamoDBLocals();
    process.exit(0);
  };
  process.on('SIGINT', (signal) => void shutdown(signal));
  process.on('SIGTERM', (signal) => void shutdown(signal));

  runtime = await startLocalRuntime(config, { logger });
  if (stopping) return void (await runtime.stop());

  if (args.has('--redrive-dlq')) {
    const moved = await runtime.bus.redrive();
    logger.info('redrove dead-lettered messages', { count: moved });
    const projected = await runtime.poller.redrive();
    logger.info('redrove the events the projector had set aside', projected);
  }

  process.stdout.write(
    [
      '',
      `h20-tracker is running at ${runtime.url}`,
      `  data:          ${config.dataDir}`,
      `  DynamoDB:      ${runtime.dynamoEndpoint}`,
      `  partner key:   ${config.partnerKey}  (partner id ${config.partnerId}, every scope)`,
      `  analyst key:   ${config.analystKey}`,
      `  try:           curl -H 'Authorization: Bearer ${config.analystKey}' '${runtime.url}/v1/availability?sku=H20'`,
      '',
    ].join('\n'),
  );

  if (args.has('--seed')) {
    const { seed } = await import('../scripts/seed.ts');
    const { demoEvents } = await import('../scripts/demo-data.ts');
    const result = await seed({ url: runtime.url, key: config.partnerKey, events: demoEvents() });
    logger.info('seeded the demo dataset', result);
  }
}

main().catch((error: Error) => {
  const javaMissing = error.message === JAVA_HINT;
  process.stderr.write(`${javaMissing ? JAVA_HINT : `h20-tracker could not start: ${error.message}`}\n`);
  process.exit(1);
});
