import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RECORDER_DELIVERY } from '../../shared/bus/routes.ts';
import { ENV } from '../../shared/store/tables.ts';
import type { StageConfig } from '../stage.ts';
import { eventSourceMapping, HandlerFunction } from './handler-function.ts';
import { deadLetterQueue, secureQueue } from './queues.ts';

export interface RecorderProps {
  readonly stage: StageConfig;
  readonly eventsTable: dynamodb.ITable;
  readonly code?: lambda.Code;
}

const TIMEOUT = Duration.seconds(30);
/** A message that failed this many times goes to the dead-letter queue instead of blocking its batch mates. */
export const MAX_RECEIVE_COUNT = RECORDER_DELIVERY.maxReceiveCount;
export const RECORDER_BATCH = {
  batchSize: RECORDER_DELIVERY.batchSize,
  maxBatchingWindow: Duration.seconds(1),
} as const;

/**
 * The queue between the bus and the event store, and the recorder that drains it: SQS absorbs bursts and
 * throttling, keeps every accepted event until it is recorded, and parks poison messages in a DLQ.
 */
export class Recorder extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: RecorderProps) {
    super(scope, id);

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue');
    this.queue = secureQueue(this, 'Queue', {
      // AWS advises six times the function timeout, so that retries within a batch window do not redeliver.
      visibilityTimeout: Duration.seconds(TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: 'recorder',
      description: 'Records events delivered by the bus (through SQS) in the events table, once each.',
      stage: props.stage,
      memorySize: 512,
      timeout: TIMEOUT,
      environment: { [ENV.eventsTable]: props.eventsTable.tableName },
      failures:
        'the SQS event source mapping polls it synchronously; a message that keeps failing moves to the ' +
        "queue's dead-letter queue.",
      code: props.code,
    });

    // Events written by PartiQL INSERT (BatchExecuteStatement: a put that fails on an existing key), the
    // read of a conflicting one, rejections (PutItem) and the stats counter item.
    this.handler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PartiQLInsert', 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [props.eventsTable.tableArn],
      }),
    );

    const source = new SqsEventSource(this.queue, { ...RECORDER_BATCH, reportBatchItemFailures: true });
    this.handler.function.addEventSource(source);
    Validations.of(eventSourceMapping(this.handler.function)).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings have no on-failure destination; a message that fails ' +
        `${MAX_RECEIVE_COUNT} times moves to the dead-letter queue through the queue's redrive policy instead.`,
    });
  }
}
