import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { projectStreamRecords } from '../shared/projector/stream-records.ts';
import { createDynamoClient } from '../shared/store/dynamo.ts';
import { DynamoDBProjectionStore } from '../shared/store/projection-store.ts';
import { ENV } from '../shared/store/tables.ts';
import { createLogger } from '../shared/util/logger.ts';

const store = new DynamoDBProjectionStore(createDynamoClient(), process.env[ENV.projectionsTable] as string);
const logger = createLogger({ service: 'h20-tracker-projector' });

/** The events table's stream to the projections; failed records are reported so Lambda retries from them. */
export const handler = (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> =>
  projectStreamRecords(store, event.Records, { logger });
