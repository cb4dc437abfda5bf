import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_RECEIVE_COUNT } from '../../infra/constructs/recorder.ts';
import { logicalId, queuePolicyStatements, SYNTH_TIMEOUT, type Synthesized, synthesize } from './synth.ts';

describe('recorder', () => {
  let dev: Synthesized;
  beforeAll(() => {
    dev = synthesize('dev');
  }, SYNTH_TIMEOUT);

  const queue = (id: string) => dev.template.toJSON().Resources[id].Properties;

  it('encrypts the recorder queue and its DLQ with SQS-managed keys', () => {
    const { stack } = dev;
    for (const q of [stack.recorder.queue, stack.recorder.deadLetterQueue]) {
      expect(queue(logicalId(stack, q)).SqsManagedSseEnabled).toBe(true);
    }
  });

  it('denies every request to its queues that does not use TLS', () => {
    const { stack, template } = dev;
    for (const q of [stack.recorder.queue, stack.recorder.deadLetterQueue]) {
      const id = logicalId(stack, q);
      expect(queuePolicyStatements(template, id)).toContainEqual({
        Effect: 'Deny',
        Action: 'sqs:*',
        Principal: { AWS: '*' },
        Resource: { 'Fn::GetAtt': [id, 'Arn'] },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
    }
  });

  it('redrives a message that keeps failing to the DLQ, which keeps it 14 days', () => {
    const { stack } = dev;
    const dlqId = logicalId(stack, stack.recorder.deadLetterQueue);
    const main = queue(logicalId(stack, stack.recorder.queue));
    expect(main.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: MAX_RECEIVE_COUNT,
    });
    expect(queue(dlqId).MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('hides a received message longer than the recorder can take to process it', () => {
    const { stack } = dev;
    const fn = dev.template.toJSON().Resources[logicalId(stack, stack.recorder.handler.function)].Properties;
    expect(queue(logicalId(stack, stack.recorder.queue)).VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * fn.Timeout,
    );
  });

  it('feeds the recorder in batches with a window, reporting failures item by item', () => {
    const { stack, template } = dev;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, stack.recorder.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(stack, stack.recorder.handler.function) },
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});
