import { beforeAll, describe, expect, it } from 'vitest';
import { allowedActions, allowedActionsOn, resourcesAllowed, type Statement, statementsOf } from './iam.ts';
import { logicalId, SYNTH_TIMEOUT, type Synthesized, synthesize } from './synth.ts';

const READS = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

describe('least privilege', () => {
  let s: Synthesized;
  let ids: Record<'events' | 'projections' | 'keys' | 'bus', string>;
  let api: Statement[];
  let recorder: Statement[];
  let projector: Statement[];

  beforeAll(() => {
    s = synthesize('prod');
    const { stack, template } = s;
    ids = {
      events: logicalId(stack, stack.tables.events),
      projections: logicalId(stack, stack.tables.projections),
      keys: logicalId(stack, stack.tables.keys),
      bus: logicalId(stack, stack.eventBus.bus),
    };
    api = statementsOf(template, logicalId(stack, stack.httpApi.handler.role));
    recorder = statementsOf(template, logicalId(stack, stack.recorder.handler.role));
    projector = statementsOf(template, logicalId(stack, stack.projector.handler.role));
  }, SYNTH_TIMEOUT);

  it('grants no wildcard action and no resource-wide access to any handler', () => {
    for (const statements of [api, recorder, projector]) {
      for (const action of allowedActions(statements)) expect(action).not.toContain('*');
      for (const statement of statements) {
        if (statement.Resource === '*') expect(statement.Action).toBe('dynamodb:ListStreams');
      }
    }
  });

  it('lets each handler write only its own log group', () => {
    const { stack } = s;
    for (const [statements, handler] of [
      [api, stack.httpApi.handler],
      [recorder, stack.recorder.handler],
      [projector, stack.projector.handler],
    ] as const) {
      expect(allowedActionsOn(statements, logicalId(stack, handler.logGroup))).toEqual(LOGS);
      expect(resourcesAllowed(statements, 'logs:PutLogEvents')).toEqual([
        { 'Fn::GetAtt': [logicalId(stack, handler.logGroup), 'Arn'] },
      ]);
    }
  });

  describe('the API', () => {
    it('reads the events table and its time index, and cannot write it', () => {
      expect(allowedActionsOn(api, ids.events)).toEqual(READS);
      expect(resourcesAllowed(api, 'dynamodb:Query')).toContainEqual({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.events, 'Arn'] }, '/index/by-time']],
      });
      for (const write of [
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
      ]) {
        expect(allowedActions(api)).not.toContain(write);
      }
    });

    it('reads the projections, looks keys up, and puts events on its own bus only', () => {
      expect(allowedActionsOn(api, ids.projections)).toEqual(READS);
      for (const index of ['by-kind', 'on-the-way']) {
        expect(resourcesAllowed(api, 'dynamodb:Query')).toContainEqual({
          'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.projections, 'Arn'] }, `/index/${index}`]],
        });
      }
      expect(allowedActionsOn(api, ids.keys)).toEqual(['dynamodb:GetItem']);
      expect(allowedActionsOn(api, ids.bus)).toEqual(['events:PutEvents']);
      expect(resourcesAllowed(api, 'events:PutEvents')).toEqual([{ 'Fn::GetAtt': [ids.bus, 'Arn'] }]);
    });

    it('is allowed nothing else', () => {
      expect(allowedActions(api)).toEqual([...LOGS, ...READS, 'events:PutEvents'].sort());
    });
  });

  describe('the recorder', () => {
    it('writes events (PartiQL insert, conflict read, rejections, stats counter) to the events table only', () => {
      expect(allowedActionsOn(recorder, ids.events)).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PartiQLInsert',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]);
      for (const action of ['dynamodb:PartiQLInsert', 'dynamodb:PutItem'])
        expect(resourcesAllowed(recorder, action)).toEqual([{ 'Fn::GetAtt': [ids.events, 'Arn'] }]);
    });

    it('has no access to the projections, the keys or the bus', () => {
      for (const id of [ids.projections, ids.keys, ids.bus])
        expect(allowedActionsOn(recorder, id)).toEqual([]);
    });

    it('consumes its queue and is allowed nothing else', () => {
      const queueId = logicalId(s.stack, s.stack.recorder.queue);
      expect(allowedActionsOn(recorder, queueId)).toEqual([
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ]);
      expect(allowedActions(recorder)).toEqual(
        [...LOGS, ...allowedActionsOn(recorder, ids.events), ...allowedActionsOn(recorder, queueId)].sort(),
      );
    });
  });

  describe('the projector', () => {
    it("reads the events table's stream and cannot touch the table itself", () => {
      expect(allowedActionsOn(projector, ids.events)).toEqual([
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
      ]);
      expect(allowedActionsOn(projector, ids.events, 'Arn')).toEqual([]);
      expect(allowedActionsOn(projector, ids.events, 'StreamArn')).toEqual(
        allowedActionsOn(projector, ids.events),
      );
    });

    it('reads the projections table and writes it with puts, updates, batch puts and transactions', () => {
      expect(allowedActionsOn(projector, ids.projections)).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
      expect(allowedActions(projector)).not.toContain('dynamodb:DeleteItem');
      // It writes the listing index's attributes on unit items, and never reads the index.
      expect(JSON.stringify(resourcesAllowed(projector, 'dynamodb:Query'))).not.toContain('/index/');
    });

    it('has no access to the keys or the bus, and sends only to its failure queue', () => {
      for (const id of [ids.keys, ids.bus]) expect(allowedActionsOn(projector, id)).toEqual([]);
      const failureQueueId = logicalId(s.stack, s.stack.projector.failureQueue);
      expect(resourcesAllowed(projector, 'sqs:SendMessage')).toEqual([
        { 'Fn::GetAtt': [failureQueueId, 'Arn'] },
      ]);
    });

    it('is given a resource-wide grant for dynamodb:ListStreams alone, which supports no narrower one', () => {
      const wide = projector.filter((statement) => statement.Resource === '*');
      expect(wide).toEqual([{ Effect: 'Allow', Action: 'dynamodb:ListStreams', Resource: '*' }]);
    });
  });
});
