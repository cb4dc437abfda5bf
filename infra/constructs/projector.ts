import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PROJECTOR_RETRY_ATTEMPTS } from '../../shared/projector/stream-records.ts';
import { ENV } from '../../shared/store/tables.ts';
import type { StageConfig } from '../stage.ts';
import { HandlerFunction } from './handler-function.ts';
import { deadLetterQueue } from './queues.ts';

export interface ProjectorProps {
  readonly stage: StageConfig;
  readonly eventsTable: dynamodb.ITable;
  readonly projectionsTable: dynamodb.ITable;
  readonly code?: lambda.Code;
}

/** How the projector consumes the events table's stream; exported for the tests. */
export const PROJECTOR_STREAM = {
  batchSize: 100,
  retryAttempts: PROJECTOR_RETRY_ATTEMPTS,
  maxRecordAge: Duration.hours(6),
} as const;

/** Only new event items reach the projector: not the stats counter, not rejections, not updates. */
export const PROJECTOR_FILTER = lambda.FilterCriteria.filter({
  eventName: lambda.FilterRule.isEqual('INSERT'),
  dynamodb: { NewImage: { kind: { S: lambda.FilterRule.isEqual('event') } } },
});

/**
 * The projector on the events table's stream: from the oldest record kept, splitting a failing batch to isolate
 * the bad record, retrying a bounded number of times, then sending the failed records' stream coordinates to an
 * SQS queue so that nothing is skipped silently.
 */
export class Projector extends Construct {
  readonly handler: HandlerFunction;
  /** Receives, for each batch given up on, the shard and sequence numbers of its records. */
  readonly failureQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ProjectorProps) {
    super(scope, id);

    this.failureQueue = deadLetterQueue(this, 'FailureQueue');
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is a dead-letter queue: the on-failure destination of the projector's stream event source " +
        'mapping, which SQS3 does not recognise because no queue redrive policy names it.',
    });

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: 'projector',
      description: "Projects the events table's stream into the projections table.",
      stage: props.stage,
      memorySize: 1024,
      timeout: Duration.seconds(60),
      environment: { [ENV.projectionsTable]: props.projectionsTable.tableName },
      failures:
        'the stream event source mapping polls it synchronously; records that keep failing are reported to ' +
        'the on-failure queue.',
      code: props.code,
    });

    // Consistent reads of the stored contributions; the membership items' batch put; the versioned transaction of
    // contributions and counters (its Put and Update items need the item actions; it has no ConditionCheck item).
    this.handler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:BatchWriteItem',
        ],
        resources: [props.projectionsTable.tableArn],
      }),
    );

    // Grants the stream's read actions (and dynamodb:ListStreams) to the role.
    this.handler.function.addEventSource(
      new DynamoEventSource(props.eventsTable, {
        ...PROJECTOR_STREAM,
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.failureQueue),
        filters: [PROJECTOR_FILTER],
      }),
    );

    const policy = this.handler.role.node.tryFindChild('DefaultPolicy');
    if (!policy) throw new Error('the projector role has no default policy');
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, which Lambda needs to poll a table stream, supports no resource-level ' +
        "permissions (its Resource must be *); every other stream action is scoped to the events table's stream ARN.",
    });
  }
}
