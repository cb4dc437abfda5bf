import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Every queue of the stack: encrypted at rest with SQS-managed keys and reachable only over TLS. */
export function secureQueue(scope: Construct, id: string, props: sqs.QueueProps = {}): sqs.Queue {
  return new sqs.Queue(scope, id, {
    ...props,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
}

/**
 * A queue at the end of the line: what lands here waits (14 days, the longest SQS allows) for a person to look
 * at it and re-drive it; the alarms watch its depth.
 */
export function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  const queue = secureQueue(scope, id, { retentionPeriod: Duration.days(14) });
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      'This queue is itself a dead-letter queue: redriving it onward would only move the failed messages out of ' +
      'sight. Its depth is alarmed, and docs/deploy.md says how to inspect and re-drive or re-project its messages.',
  });
  return queue;
}
