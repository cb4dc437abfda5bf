import { beforeAll, describe, expect, it } from 'vitest';
import { logicalId, onlyResource, SYNTH_TIMEOUT, type Synthesized, synthesize } from './synth.ts';

describe('alarms', () => {
  let dev: Synthesized;
  let withEmail: Synthesized;
  let alarms: Record<string, Record<string, unknown>>;
  beforeAll(() => {
    dev = synthesize('dev');
    withEmail = synthesize('prod', { alarmEmail: 'ops@example.com' });
    alarms = Object.fromEntries(
      Object.values(dev.template.findResources('AWS::CloudWatch::Alarm')).map((a) => [
        a.Properties.AlarmName,
        a.Properties,
      ]),
    );
  }, SYNTH_TIMEOUT);

  const topic = () => ({ Ref: logicalId(dev.stack, dev.stack.alarms.topic) });

  it('sends every alarm, and its recovery, to the alarm topic', () => {
    expect(Object.keys(alarms).length).toBeGreaterThan(0);
    for (const alarm of Object.values(alarms)) {
      expect(alarm.AlarmActions).toEqual([topic()]);
      expect(alarm.OKActions).toEqual([topic()]);
    }
  });

  it('fires as soon as either dead-letter queue holds a message', () => {
    const { stack } = dev;
    for (const [name, queue] of [
      ['h20-tracker-dev-RecorderDeadLetterQueueNotEmpty', stack.recorder.deadLetterQueue],
      ['h20-tracker-dev-ProjectorFailureQueueNotEmpty', stack.projector.failureQueue],
    ] as const) {
      expect(alarms[name]).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, queue), 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
      });
    }
  });

  it('fires on any error of each handler', () => {
    const { stack } = dev;
    for (const [name, handler] of [
      ['Api', stack.httpApi.handler],
      ['Recorder', stack.recorder.handler],
      ['Projector', stack.projector.handler],
    ] as const) {
      expect(alarms[`h20-tracker-dev-${name}Errors`]).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, handler.function) } }],
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
      });
    }
  });

  it("fires when the projector's stream iterator age stays above a minute", () => {
    expect(alarms['h20-tracker-dev-ProjectionLag']).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: logicalId(dev.stack, dev.stack.projector.handler.function) } },
      ],
      Threshold: 60_000,
      EvaluationPeriods: 5,
    });
  });

  it('fires when the API answers 5xx', () => {
    expect(alarms['h20-tracker-dev-ApiServerErrors']).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: logicalId(dev.stack, dev.stack.httpApi.api) } }],
    });
  });

  it('lets CloudWatch alarms of this account publish to the topic, over TLS only', () => {
    const statements = onlyResource(dev.template, 'AWS::SNS::TopicPolicy').properties.PolicyDocument as {
      Statement: unknown[];
    };
    expect(statements.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'sns:Publish',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: {
              'aws:SourceArn': {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':cloudwatch:',
                    { Ref: 'AWS::Region' },
                    ':',
                    { Ref: 'AWS::AccountId' },
                    ':alarm:*',
                  ],
                ],
              },
            },
          },
        }),
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]),
    );
  });

  it('subscribes no one without an alarmEmail, and the given address with one', () => {
    dev.template.resourceCountIs('AWS::SNS::Subscription', 0);
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalId(withEmail.stack, withEmail.stack.alarms.topic) },
    });
  });
});
