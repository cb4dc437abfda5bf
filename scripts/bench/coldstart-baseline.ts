import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';

/*
 * The coldstart floor: the least an API Lambda of this stack can be, a Hono handler with the two AWS clients
 * it needs made at init. Bundled exactly as the real handlers are.
 */
const dynamo = new DynamoDBClient({});
const eventBridge = new EventBridgeClient({});

const app = new Hono();
app.get('/health', (c) => c.json({ status: 'ok', clients: [typeof dynamo, typeof eventBridge] }));

export const handler = handle(app);
