import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { Alarms } from './constructs/alarms.ts';
import { TrackerEventBus } from './constructs/event-bus.ts';
import { TrackerHttpApi } from './constructs/http-api.ts';
import { Projector } from './constructs/projector.ts';
import { Recorder } from './constructs/recorder.ts';
import { Tables } from './constructs/tables.ts';
import type { StageConfig } from './stage.ts';

export interface TrackerStackProps extends StackProps {
  readonly stage: StageConfig;
  /** Subscribed to the alarm topic when given. */
  readonly alarmEmail?: string;
  /** Replaces the bundled handlers with this code: for template tests only. */
  readonly handlerCode?: lambda.Code;
}

/**
 * h20-tracker on AWS: API -> EventBridge -> SQS -> recorder -> events table -> stream -> projector -> projections.
 */
export class TrackerStack extends Stack {
  readonly tables: Tables;
  readonly recorder: Recorder;
  readonly eventBus: TrackerEventBus;
  readonly projector: Projector;
  readonly httpApi: TrackerHttpApi;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: TrackerStackProps) {
    super(scope, id, props);
    const { stage, handlerCode: code } = props;

    this.tables = new Tables(this, 'Tables', { stage });
    this.recorder = new Recorder(this, 'Recorder', { stage, eventsTable: this.tables.events, code });
    this.eventBus = new TrackerEventBus(this, 'EventBus', {
      stage,
      targets: { recorder: { queue: this.recorder.queue, deadLetterQueue: this.recorder.deadLetterQueue } },
    });
    this.projector = new Projector(this, 'Projector', {
      stage,
      eventsTable: this.tables.events,
      projectionsTable: this.tables.projections,
      code,
    });
    this.httpApi = new TrackerHttpApi(this, 'HttpApi', {
      stage,
      tables: this.tables,
      bus: this.eventBus.bus,
      code,
    });
    this.alarms = new Alarms(this, 'Alarms', {
      stage,
      deadLetterQueues: {
        RecorderDeadLetterQueue: this.recorder.deadLetterQueue,
        ProjectorFailureQueue: this.projector.failureQueue,
      },
      functions: {
        Api: this.httpApi.handler.function,
        Recorder: this.recorder.handler.function,
        Projector: this.projector.handler.function,
      },
      streamConsumer: this.projector.handler.function,
      api: this.httpApi.api,
      email: props.alarmEmail,
    });

    const outputs: Record<string, { value: string; description: string }> = {
      ApiUrl: { value: this.httpApi.url, description: 'Base URL of the HTTP API' },
      EventBusName: { value: this.eventBus.bus.eventBusName, description: 'The bus the API publishes to' },
      EventsTableName: { value: this.tables.events.tableName, description: 'The event store' },
      ProjectionsTableName: { value: this.tables.projections.tableName, description: 'The read models' },
      KeysTableName: {
        value: this.tables.keys.tableName,
        description: 'API keys (hashes); for npm run keys',
      },
      RecorderQueueArn: {
        value: this.recorder.queue.queueArn,
        description: 'Where a re-drive sends events back to',
      },
      RecorderDeadLetterQueueArn: {
        value: this.recorder.deadLetterQueue.queueArn,
        description: 'Events the recorder or EventBridge gave up on (re-drive source)',
      },
      RecorderDeadLetterQueueUrl: {
        value: this.recorder.deadLetterQueue.queueUrl,
        description: 'Events the recorder or EventBridge gave up on (to inspect them)',
      },
      ProjectorFailureQueueUrl: {
        value: this.projector.failureQueue.queueUrl,
        description: 'Stream batches the projector gave up on',
      },
      AlarmTopicArn: { value: this.alarms.topic.topicArn, description: 'Where alarms are sent' },
    };
    for (const [id, output] of Object.entries(outputs)) new CfnOutput(this, id, output);
  }
}
