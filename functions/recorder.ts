import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { recordDeliveries } from '../shared/recorder/recorder.ts';
import { createDynamoClient } from '../shared/store/dynamo.ts';
import { DynamoDBEventStore } from '../shared/store/event-store.ts';
import { ENV } from '../shared/store/tables.ts';
import { createLogger } from '../shared/util/logger.ts';

const store = new DynamoDBEventStore(createDynamoClient(), process.env[ENV.eventsTable] as string);
const logger = createLogger({ service: 'h20-tracker-recorder' });

/** SQS (fed by the bus rule) to the event store; failed messages are reported one by one. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  recordDeliveries({ store, logger }, event.Records);
