import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export const STAGE_NAMES = ['dev', 'prod'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Everything that differs between a disposable development stack and production. */
export interface StageConfig {
  readonly name: StageName;
  /** What CloudFormation does with tables and log groups when they leave the stack. */
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  readonly logRetention: RetentionDays;
  /** How long the bus archive keeps events for replay. */
  readonly archiveRetention: Duration;
  readonly logLevel: 'debug' | 'info';
  /** Stage-wide HTTP API throttling (requests per second, and burst). */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
}

const CONFIGS: Record<StageName, StageConfig> = {
  dev: {
    name: 'dev',
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    logRetention: RetentionDays.ONE_WEEK,
    archiveRetention: Duration.days(7),
    logLevel: 'debug',
    throttle: { rateLimit: 50, burstLimit: 100 },
  },
  prod: {
    name: 'prod',
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
    logRetention: RetentionDays.THREE_MONTHS,
    archiveRetention: Duration.days(365),
    logLevel: 'info',
    throttle: { rateLimit: 500, burstLimit: 1000 },
  },
};

/**
 * Reads the `stage` context value; anything but `dev` or `prod` is a mistake worth failing synth for.
 *
 * @example
 * stageConfig(app.node.tryGetContext('stage')) // -c stage=prod
 */
export function stageConfig(value: unknown = 'dev'): StageConfig {
  if (typeof value === 'string' && (STAGE_NAMES as readonly string[]).includes(value)) {
    return CONFIGS[value as StageName];
  }
  throw new Error(`unknown stage ${JSON.stringify(value)}: use -c stage=dev or -c stage=prod`);
}
