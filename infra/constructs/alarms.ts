import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BUS } from '../../shared/bus/routes.ts';
import type { StageConfig } from '../stage.ts';

export interface AlarmsProps {
  readonly stage: StageConfig;
  /** Queues that must stay empty, by the name the alarm shows. */
  readonly deadLetterQueues: Record<string, sqs.IQueue>;
  /** Functions whose errors page someone, by name. */
  readonly functions: Record<string, lambda.IFunction>;
  /** The stream consumer whose iterator age is the projections' lag. */
  readonly streamConsumer: lambda.IFunction;
  readonly api: apigw.IHttpApi;
  /** Subscribed to the alarm topic when given. */
  readonly email?: string;
}

/** Projections more than a minute behind the event store, for five minutes in a row, is an incident. */
export const MAX_ITERATOR_AGE = Duration.minutes(1);

/**
 * The alarms that say something needs a person, all sent to one SNS topic: a message in a dead-letter queue,
 * a handler error, projections falling behind the event store, or the API answering 5xx.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.prefix = `${BUS.name}-${props.stage.name}`;

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `h20-tracker ${props.stage.name} alarms`,
      enforceSSL: true,
    });
    // The deny-insecure-transport policy replaces SNS's default one, so CloudWatch needs an explicit grant.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
          },
        },
      }),
    );
    if (props.email) {
      const subscription = new sns.Subscription(this, 'Email', {
        topic: this.topic,
        protocol: sns.SubscriptionProtocol.EMAIL,
        endpoint: props.email,
      });
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An alarm e-mail that cannot be delivered needs no dead-letter queue: the alarm stays in ALARM in ' +
          'CloudWatch, and a queue of undelivered alarm notifications would itself need watching.',
      });
    }

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      this.add(`${name}NotEmpty`, {
        alarmDescription: `${name}: messages are waiting in a dead-letter queue; see docs/deploy.md to re-drive them.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 1,
        evaluationPeriods: 1,
      });
    }

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}Errors`, {
        alarmDescription: `The ${name} handler failed (errors or timeouts).`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
      });
    }

    this.add('ProjectionLag', {
      alarmDescription: `Projections lag the event store by more than ${MAX_ITERATOR_AGE.toHumanString()}.`,
      metric: props.streamConsumer.metric('IteratorAge', {
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: MAX_ITERATOR_AGE.toMilliseconds(),
      evaluationPeriods: 5,
    });

    this.add('ApiServerErrors', {
      alarmDescription: 'The HTTP API answered 5xx, which the contract says it never does.',
      metric: props.api.metricServerError({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
    });
  }

  private add(
    id: string,
    props: Omit<cloudwatch.AlarmProps, 'comparisonOperator' | 'treatMissingData'>,
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      alarmName: `${this.prefix}-${id}`,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
  }
}
