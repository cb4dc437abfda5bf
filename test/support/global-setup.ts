import type { TestProject } from 'vitest/node';
import { startDynamoDBLocal } from '../../local/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/** One in-memory DynamoDB Local for the whole run (it takes seconds to start); files isolate by table prefix. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The suite takes two minutes: the quick compiler serves that span better than the optimising one.
  const ddb = await startDynamoDBLocal({ quickStart: true });
  project.provide('dynamoEndpoint', ddb.endpoint);
  return () => ddb.stop();
}
