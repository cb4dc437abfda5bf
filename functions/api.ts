import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { handle } from 'hono/aws-lambda';
import { createApp } from '../shared/api/app.ts';
import { Authenticator } from '../shared/auth/authenticator.ts';
import { DynamoDBKeyStore } from '../shared/auth/key-store.ts';
import { EventBridgePublisher } from '../shared/bus/publisher.ts';
import { createDynamoClient } from '../shared/store/dynamo.ts';
import { DynamoDBEventStore } from '../shared/store/event-store.ts';
import { DynamoDBProjectionStore } from '../shared/store/projection-store.ts';
import { ENV, tableNamesFromEnv } from '../shared/store/tables.ts';
import { systemClock, ulidGenerator } from '../shared/util/clock.ts';
import { createLogger } from '../shared/util/logger.ts';

// Clients are made once per container, at init; nothing else happens at import.
const tables = tableNamesFromEnv();
// A few short attempts, so that a stalled connection is retried on a fresh one within the request's budget.
const dynamo = createDynamoClient({ maxAttempts: 3, requestTimeoutMs: 3_000 });
// The publisher retries failed entries itself; SDK retries underneath would multiply the attempts.
const eventBridge = new EventBridgeClient({ maxAttempts: 1 });
const busName = process.env[ENV.busName];

const app = createApp({
  events: new DynamoDBEventStore(dynamo, tables.events),
  projections: new DynamoDBProjectionStore(dynamo, tables.projections),
  publisher: new EventBridgePublisher((entries) =>
    eventBridge.send(new PutEventsCommand({ Entries: entries })),
  ),
  authenticator: new Authenticator(new DynamoDBKeyStore(dynamo, tables.keys)),
  clock: systemClock,
  newId: ulidGenerator(),
  logger: createLogger({ service: 'h20-tracker-api' }),
  busName,
  // What the invocation has left, less a second to answer in: a stalled store gets our 503, not a timeout.
  requestBudgetMs: (c) => {
    const invocation = (c.env as { lambdaContext?: { getRemainingTimeInMillis(): number } } | undefined)
      ?.lambdaContext;
    return invocation ? invocation.getRemainingTimeInMillis() - 1_000 : undefined;
  },
});

export const handler = handle(app);
