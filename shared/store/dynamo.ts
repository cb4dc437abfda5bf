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
