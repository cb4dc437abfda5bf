import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

export interface DynamoOptions {
  /** DynamoDB Local's URL; absent in AWS, where the SDK finds the regional endpoint. */
  endpoint?: string;
  region?: string;
  maxAttempts?: number;
}

/** A client for AWS, or for DynamoDB Local when an endpoint is given (any credentials will do there). */
export function createDynamoClient(options: DynamoOptions = {}): DynamoDBClient {
  const config: DynamoDBClientConfig = { maxAttempts: options.maxAttempts ?? 4 };
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.region = options.region ?? 'local';
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  } else if (options.region) {
    config.region = options.region;
  }
  return new DynamoDBClient(config);
}

/** True for the SDK errors that mean "try again later", as opposed to "this will never work". */
export function isThrottle(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  return (
    name === 'ProvisionedThroughputExceededException' ||
    name === 'ThrottlingException' ||
    name === 'RequestLimitExceeded' ||
    name === 'LimitExceededException'
  );
}

export const errorName = (error: unknown): string =>
  (error as { name?: string } | undefined)?.name ?? 'Error';
