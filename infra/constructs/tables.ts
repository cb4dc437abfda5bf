import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { BUS } from '../../shared/bus/routes.ts';
import { TABLES, tableNamesFor } from '../../shared/store/tables.ts';
import type { StageConfig } from '../stage.ts';

export interface TablesProps {
  readonly stage: StageConfig;
}

const string = dynamodb.AttributeType.STRING;

/**
 * The three DynamoDB tables, keyed by the shared definitions the runtime code reads them with: the events table
 * (the source of truth, streaming new items to the projector), the projections table and the API keys.
 * All on demand, encrypted with the AWS managed key, with point-in-time recovery; kept and protected in prod.
 */
export class Tables extends Construct {
  readonly events: dynamodb.Table;
  readonly projections: dynamodb.Table;
  readonly keys: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    const names = tableNamesFor(`${BUS.name}-${props.stage.name}`);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.stage.deletionProtection,
      removalPolicy: props.stage.removalPolicy,
    } satisfies Partial<dynamodb.TableProps>;

    const events = TABLES.events;
    this.events = new dynamodb.Table(this, 'Events', {
      ...common,
      tableName: names.events,
      partitionKey: { name: events.partitionKey, type: string },
      sortKey: { name: events.sortKey, type: string },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });
    this.events.addGlobalSecondaryIndex({
      indexName: events.byTimeIndex.name,
      partitionKey: { name: events.byTimeIndex.partitionKey, type: string },
      sortKey: { name: events.byTimeIndex.sortKey, type: string },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.projections = new dynamodb.Table(this, 'Projections', {
      ...common,
      tableName: names.projections,
      partitionKey: { name: TABLES.projections.partitionKey, type: string },
      sortKey: { name: TABLES.projections.sortKey, type: string },
    });
    for (const index of [TABLES.projections.byKindIndex, TABLES.projections.onTheWayIndex]) {
      this.projections.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: string },
        sortKey: { name: index.sortKey, type: string },
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...index.projected],
      });
    }

    this.keys = new dynamodb.Table(this, 'Keys', {
      ...common,
      tableName: names.keys,
      partitionKey: { name: TABLES.keys.partitionKey, type: string },
    });
  }

  /** The ARNs of the projections table's listing indexes, for the API's reads. */
  get projectionsIndexArns(): string[] {
    const { byKindIndex, onTheWayIndex } = TABLES.projections;
    return [byKindIndex, onTheWayIndex].map((index) => `${this.projections.tableArn}/index/${index.name}`);
  }

  /** The ARN of the events table's time index, for grants that must not reach other indexes. */
  get eventsByTimeIndexArn(): string {
    return `${this.events.tableArn}/index/${TABLES.events.byTimeIndex.name}`;
  }
}
