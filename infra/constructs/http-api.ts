import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../shared/store/tables.ts';
import type { StageConfig } from '../stage.ts';
import { HandlerFunction } from './handler-function.ts';
import type { Tables } from './tables.ts';

export interface HttpApiProps {
  readonly stage: StageConfig;
  readonly tables: Tables;
  readonly bus: events.IEventBus;
  readonly code?: lambda.Code;
}

/** One JSON object per request, with the HTTP API's own variables. */
export const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
} as const;

/**
 * The public HTTP API: API Gateway (HTTP API) sends every request to the Hono app in one Lambda, which
 * authenticates, validates and publishes events to the bus, and answers reads from the tables.
 */
export class TrackerHttpApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly handler: HandlerFunction;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    const { tables } = props;

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: 'api',
      description: 'The h20-tracker HTTP API (Hono).',
      stage: props.stage,
      memorySize: 1024,
      timeout: Duration.seconds(10),
      environment: {
        [ENV.eventsTable]: tables.events.tableName,
        [ENV.projectionsTable]: tables.projections.tableName,
        [ENV.keysTable]: tables.keys.tableName,
        [ENV.busName]: props.bus.eventBusName,
      },
      failures: 'API Gateway invokes it synchronously and a failure is the HTTP response.',
      code: props.code,
    });

    const reads = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
    const { role } = this.handler;
    // History, as-of and known-at reads: the events table and its time index, never a write.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: reads,
        resources: [tables.events.tableArn, tables.eventsByTimeIndexArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: reads,
        resources: [tables.projections.tableArn, ...tables.projectionsIndexArns],
      }),
    );
    // Key lookup by the hash of the bearer token.
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [tables.keys.tableArn] }),
    );
    // Accepted events reach the event store only through the bus.
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [props.bus.eventBusArn] }),
    );

    this.api = new apigw.HttpApi(this, 'Api', {
      description: `h20-tracker HTTP API (${props.stage.name})`,
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('Hono', this.handler.function),
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.stage.logRetention,
      removalPolicy: props.stage.removalPolicy,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.stage.throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });

    const route = this.api.node.tryFindChild('DefaultRoute');
    if (!route) throw new Error('the HTTP API has no $default route');
    Validations.of(route).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Authentication is the application\'s: every /v1 route except GET /v1/health requires "Authorization: ' +
        'Bearer <api key>", checked against SHA-256 hashes in the keys table with per-role and per-family scopes ' +
        '(public contract). An API Gateway authorizer would duplicate that check and cost a Lambda call a request.',
    });
  }

  /** The API's base URL (the `$default` stage), with a trailing slash. */
  get url(): string {
    return this.stage.url;
  }
}
