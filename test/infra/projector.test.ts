import { beforeAll, describe, expect, it } from 'vitest';
import { logicalId, queuePolicyStatements, SYNTH_TIMEOUT, type Synthesized, synthesize } from './synth.ts';

describe('projector', () => {
  let dev: Synthesized;
  let mapping: Record<string, unknown>;
  beforeAll(() => {
    dev = synthesize('dev');
    const { stack, template } = dev;
    const fnId = logicalId(stack, stack.projector.handler.function);
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (m) => m.Properties.FunctionName.Ref === fnId,
    );
    expect(mappings).toHaveLength(1);
    mapping = mappings[0]!.Properties;
  }, SYNTH_TIMEOUT);

  it("consumes the events table's stream from the oldest record it keeps", () => {
    const eventsId = logicalId(dev.stack, dev.stack.tables.events);
    expect(mapping.EventSourceArn).toEqual({ 'Fn::GetAtt': [eventsId, 'StreamArn'] });
    expect(mapping.StartingPosition).toBe('TRIM_HORIZON');
  });

  it('splits a failing batch, retries a bounded number of times and drops records only after hours', () => {
    expect(mapping).toMatchObject({
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 6 * 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 100,
    });
  });

  it('reports the records it gives up on to its encrypted failure queue', () => {
    const { stack, template } = dev;
    const queueId = logicalId(stack, stack.projector.failureQueue);
    expect(mapping.DestinationConfig).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    });
    const queue = template.toJSON().Resources[queueId].Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(queuePolicyStatements(template, queueId)).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('receives only inserted event items', () => {
    const filters = (mapping.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([
      { eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['event'] } } } },
    ]);
  });
});
