/**
 * The event bus's routing: the one definition that the CDK stack and the local bus both use.
 * Patterns use EventBridge's syntax; the local bus evaluates them with `matchesPattern`.
 */
export const BUS = {
  /** Logical name of the bus; the deployed name is `${BUS.name}-${stage}`. */
  name: 'h20-tracker',
  /** `Source` of every event the API publishes. */
  source: 'h20-tracker.api',
} as const;

/**
 * How the recorder's queue hands it messages: the SQS event source in AWS and the local bus use the same
 * batch size and the same number of receives before a message is dead-lettered.
 */
export const RECORDER_DELIVERY = { batchSize: 25, maxReceiveCount: 5 } as const;

export type EventPattern = Record<string, unknown>;

export interface RouteDefinition {
  /** Stable id, used for the CDK construct id and the local queue's name. */
  id: string;
  description: string;
  pattern: EventPattern;
  /** Which consumer the deployed rule targets (through an SQS queue) and the local bus feeds. */
  target: 'recorder';
}

export const ROUTES: readonly RouteDefinition[] = [
  {
    id: 'record-events',
    description: 'Every partner event the API accepted goes to the recorder, which writes the event store.',
    pattern: {
      source: [BUS.source],
      'detail-type': [
        { prefix: 'provider.' },
        { prefix: 'shipment.' },
        { prefix: 'inventory.' },
        { prefix: 'allocation.' },
        { prefix: 'regulation.' },
        { prefix: 'licence.' },
      ],
    },
    target: 'recorder',
  },
];
