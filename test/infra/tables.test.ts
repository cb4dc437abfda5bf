import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLES } from '../../shared/store/tables.ts';
import { logicalId, type Synthesized, synthesizeStages } from './synth.ts';

const S = 'S';

describe('tables', () => {
  const stages = synthesizeStages();

  it('keys the events table by the shared pk/sk and indexes it by time with the shared by-time keys', () => {
    const { stack, template } = stages.dev;
    const events = template.toJSON().Resources[logicalId(stack, stack.tables.events)].Properties;
    expect(events.TableName).toBe('h20-tracker-dev-events');
    expect(events.KeySchema).toEqual([
      { AttributeName: TABLES.events.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLES.events.sortKey, KeyType: 'RANGE' },
    ]);
    const index = TABLES.events.byTimeIndex;
    expect(events.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(events.AttributeDefinitions).toEqual(
      expect.arrayContaining(
        ['pk', 'sk', 'tpk', 'tsk'].map((name) => ({ AttributeName: name, AttributeType: S })),
      ),
    );
  });

  it('streams new images of the events table to the projector', () => {
    const { stack, template } = stages.dev;
    const events = template.toJSON().Resources[logicalId(stack, stack.tables.events)].Properties;
    expect(events.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
  });

  it('indexes the projections table sparsely: listed units by kind, and shipments on their way by row', () => {
    const { stack, template } = stages.dev;
    const projections = template.toJSON().Resources[logicalId(stack, stack.tables.projections)].Properties;
    const { byKindIndex, onTheWayIndex } = TABLES.projections;
    expect(projections.GlobalSecondaryIndexes).toEqual(
      [byKindIndex, onTheWayIndex].map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['summary'] },
      })),
    );
    expect(projections.AttributeDefinitions).toEqual(
      expect.arrayContaining(
        ['kpk', 'ksk', 'wpk'].map((name) => ({ AttributeName: name, AttributeType: S })),
      ),
    );
  });

  it('keys the projections table by pk/sk and the keys table by keyId', () => {
    const { stack, template } = stages.dev;
    const resources = template.toJSON().Resources;
    expect(resources[logicalId(stack, stack.tables.projections)].Properties.KeySchema).toEqual([
      { AttributeName: TABLES.projections.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLES.projections.sortKey, KeyType: 'RANGE' },
    ]);
    expect(resources[logicalId(stack, stack.tables.keys)].Properties.KeySchema).toEqual([
      { AttributeName: TABLES.keys.partitionKey, KeyType: 'HASH' },
    ]);
    expect(resources[logicalId(stack, stack.tables.keys)].Properties.TableName).toBe('h20-tracker-dev-keys');
  });

  it.each(['dev', 'prod'] as const)(
    'makes every %s table on-demand, KMS-encrypted, with point-in-time recovery',
    (stage) => {
      const { template } = stage === 'dev' ? stages.dev : stages.prod;
      template.resourceCountIs('AWS::DynamoDB::Table', 3);
      template.allResourcesProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    },
  );

  it('lets dev tables go with the stack', () => {
    stages.dev.template.allResources('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
  });

  it('retains prod tables and turns deletion protection on', () => {
    stages.prod.template.allResources('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });

  it('names each stage’s tables apart', () => {
    const names = (s: Synthesized) =>
      Object.values(s.template.findResources('AWS::DynamoDB::Table')).map((t) => t.Properties.TableName);
    expect(names(stages.dev).sort()).toEqual([
      'h20-tracker-dev-events',
      'h20-tracker-dev-keys',
      'h20-tracker-dev-projections',
    ]);
    expect(names(stages.prod).sort()).toEqual([
      'h20-tracker-prod-events',
      'h20-tracker-prod-keys',
      'h20-tracker-prod-projections',
    ]);
  });
});
