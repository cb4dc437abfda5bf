import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';

const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
const READS = new Set([
  'GetItemCommand',
  'BatchGetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'TransactGetItemsCommand',
]);

export interface CapacityTotals {
  writeUnits: number;
  readUnits: number;
  /** Write units by command name, e.g. `TransactWriteItems`. */
  writesByCommand: Record<string, number>;
  calls: Record<string, number>;
}

/**
 * Counts the capacity DynamoDB reports for every call of the clients it is attached to: it asks for
 * `ReturnConsumedCapacity: TOTAL` (which includes index writes and the doubling of transactions) and sums
 * what comes back. DynamoDB Local reports the same figures as DynamoDB does for on-demand tables.
 */
export class CapacityMeter {
  private totals: CapacityTotals = emptyTotals();

  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? '';
        const metered = WRITES.has(command) || READS.has(command);
        // A copy: the caller's input object may be reused (a transaction item, say), where the flag is invalid.
        const input = metered ? { ...(args.input as object), ReturnConsumedCapacity: 'TOTAL' } : args.input;
        const out = await next({ ...args, input });
        if (metered) this.add(command, (out.output as { ConsumedCapacity?: Consumed }).ConsumedCapacity);
        return out;
      },
      { step: 'initialize', name: 'benchCapacityMeter' },
    );
  }

  private add(command: string, consumed: Consumed | undefined): void {
    const units = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
    const name = command.replace(/Command$/, '');
    this.totals.calls[name] = (this.totals.calls[name] ?? 0) + 1;
    if (WRITES.has(command)) {
      this.totals.writeUnits += units;
      this.totals.writesByCommand[name] = (this.totals.writesByCommand[name] ?? 0) + units;
    } else {
      this.totals.readUnits += units;
    }
  }

  /** What was counted since the last reset. */
  snapshot(): CapacityTotals {
    return structuredClone(this.totals);
  }

  reset(): void {
    this.totals = emptyTotals();
  }
}

type Consumed = ConsumedCapacity | ConsumedCapacity[];

function emptyTotals(): CapacityTotals {
  return { writeUnits: 0, readUnits: 0, writesByCommand: {}, calls: {} };
}
