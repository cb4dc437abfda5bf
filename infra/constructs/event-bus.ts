import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BUS, type EventPattern, ROUTES, type RouteDefinition } from '../../shared/bus/routes.ts';
import type { StageConfig } from '../stage.ts';

/** Where a route's events go: a queue, and the dead-letter queue for events EventBridge cannot deliver to it. */
export interface RouteTarget {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

export interface EventBusProps {
  readonly stage: StageConfig;
  readonly targets: Record<RouteDefinition['target'], RouteTarget>;
}

/**
 * CDK's `EventPattern` spells `detail-type` as `detailType` and renders it back; every other field keeps the
 * name EventBridge gives it. Converting here lets the shared routes stay in EventBridge's own syntax.
 */
export function toCdkEventPattern(pattern: EventPattern): events.EventPattern {
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    converted[key === 'detail-type' ? 'detailType' : key] = value;
  }
  return converted as events.EventPattern;
}

/**
 * The custom bus the API publishes to, an archive of everything published on it for replays, and one rule per
 * shared route, delivering to the route's queue (with EventBridge's own retries, then that queue's DLQ).
 */
export class TrackerEventBus extends Construct {
  readonly bus: events.EventBus;
  readonly archive: events.Archive;
  readonly rules: ReadonlyMap<string, events.Rule>;

  constructor(scope: Construct, id: string, props: EventBusProps) {
    super(scope, id);

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: `${BUS.name}-${props.stage.name}`,
      description: 'h20-tracker: events accepted by the API, on their way to the event store',
    });
    this.archive = this.bus.archive('Archive', {
      description: `Every event published by ${BUS.source}, for replays`,
      eventPattern: { source: [BUS.source] },
      retention: props.stage.archiveRetention,
    });

    const rules = new Map<string, events.Rule>();
    for (const route of ROUTES) {
      const target = props.targets[route.target];
      rules.set(
        route.id,
        new events.Rule(this, route.id, {
          eventBus: this.bus,
          description: route.description,
          eventPattern: toCdkEventPattern(route.pattern),
          targets: [
            new SqsQueue(target.queue, {
              deadLetterQueue: target.deadLetterQueue,
              retryAttempts: 185,
              maxEventAge: Duration.hours(24),
            }),
          ],
        }),
      );
    }
    this.rules = rules;
  }
}
