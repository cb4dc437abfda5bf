import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

export interface DynamoOptions {
  /** DynamoDB Local's URL; absent in AWS, where the SDK finds the regional endpoint. */
  endpoint?: string;
  region?: string;
  maxAttempts?: number;
  /** How long one attempt may take, request and response; 10 s unless given. */
  requestTimeoutMs?: number;
}

/**
 * A client for AWS, or for DynamoDB Local when an endpoint is given (any credentials will do there). Every
 * attempt is bounded in time: by default the SDK waits for ever on a store that stopped answering, and so
 * did every request of the API with it; now it fails with a `TimeoutError` (a 503 with `Retry-After`).
 */
export function createDynamoClient(options: DynamoOptions = {}): DynamoDBClient {
  const config: DynamoDBClientConfig = {
    maxAttempts: options.maxAttempts ?? 4,
    requestHandler: {
      connectionTimeout: 2_000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      throwOnRequestTimeout: true,
    },
  };
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.region = options.region ?? 'local';
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  } else if (options.region) {
    config.region = options.region;
  }
  return new DynamoDBClient(config);
}
