import type {
  AttributeValue,
  BatchExecuteStatementCommandInput,
  BatchExecuteStatementCommandOutput,
  ConsumedCapacity,
  DynamoDBClient,
  TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TABLES } from '../../shared/store/tables.ts';

const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'BatchExecuteStatementCommand',
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
 * what comes back. DynamoDB Local reports the same figures as DynamoDB does for on-demand tables, except for
 * PartiQL batches (no capacity at all) and the index writes of transactions, which the meter adds itself.
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
        if (!metered) return out;
        const consumed = (out.output as { ConsumedCapacity?: Consumed }).ConsumedCapacity;
        if (consumed === undefined && command === 'BatchExecuteStatementCommand') {
          // DynamoDB Local reports no capacity for PartiQL batches: count what DynamoDB would charge.
          const units = insertUnits(
            args.input as BatchExecuteStatementCommandInput,
            out.output as BatchExecuteStatementCommandOutput,
          );
          this.add(command, { CapacityUnits: units });
        } else if (command === 'TransactWriteItemsCommand') {
          // DynamoDB Local leaves index writes out of a transaction's capacity; DynamoDB charges them.
          const index = transactionIndexUnits(args.input as TransactWriteItemsCommandInput);
          this.add(command, [consumed ?? [], { CapacityUnits: index }].flat());
        } else this.add(command, consumed);
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

/**
 * The write units of the `INSERT` statements of a batch that succeeded: one per started KiB of each item,
 * as DynamoDB charges a standard write, and as much again for each index it lands in. The statements are the
 * recorder's, `INSERT INTO "t" VALUE {'a': ?, ...}` into the events table, so the attribute names are read
 * from the statement, the values from its parameters, and the indexes are the events table's.
 */
export function insertUnits(
  input: BatchExecuteStatementCommandInput,
  output: BatchExecuteStatementCommandOutput,
): number {
  let units = 0;
  (input.Statements ?? []).forEach((statement, i) => {
    if (output.Responses?.[i]?.Error || !/^\s*INSERT\b/i.test(statement.Statement ?? '')) return;
    const names = [...(statement.Statement ?? '').matchAll(/'([^']+)'\s*:\s*\?/g)].map((m) => m[1] as string);
    const item = Object.fromEntries(
      names.map((name, j) => [name, statement.Parameters?.[j] as AttributeValue]),
    );
    const itemUnits = Math.max(1, Math.ceil(itemBytes(item) / 1024));
    // Each index the item lands in (every key attribute present; all attributes projected) is written too.
    const indexed = INDEXES.filter((keys) => keys.every((key) => key in item)).length;
    units += itemUnits * (1 + indexed);
  });
  return units;
}

/** The key attributes of the events table's indexes, which project every attribute. */
const INDEXES = [[TABLES.events.byTimeIndex.partitionKey, TABLES.events.byTimeIndex.sortKey]];

/**
 * The index writes of a transaction's puts into the projections table's sparse indexes (an item is in an
 * index when it has the index's keys), which DynamoDB charges as standard writes of the index's item (the
 * table's keys, the index's keys and its projected attributes) and DynamoDB Local does not report.
 */
export function transactionIndexUnits(input: TransactWriteItemsCommandInput): number {
  const { partitionKey, sortKey, byKindIndex, onTheWayIndex } = TABLES.projections;
  let units = 0;
  for (const { Put } of input.TransactItems ?? []) {
    const item = Put?.Item;
    if (!item) continue;
    for (const index of [byKindIndex, onTheWayIndex]) {
      if (!(index.partitionKey in item) || !(index.sortKey in item)) continue;
      const names = [partitionKey, sortKey, index.partitionKey, index.sortKey, ...index.projected];
      const indexItem = Object.fromEntries(names.flatMap((name) => (item[name] ? [[name, item[name]]] : [])));
      units += Math.max(1, Math.ceil(itemBytes(indexItem) / 1024));
    }
  }
  return units;
}

/** An item's size as DynamoDB counts it: attribute names plus values, maps and lists with their overhead. */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += utf8(name) + valueBytes(value);
  return bytes;
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.M !== undefined)
    return (
      3 +
      Object.entries(value.M).reduce(
        (sum, [name, v]) => sum + utf8(name) + valueBytes(v as AttributeValue) + 1,
        0,
      )
    );
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + valueBytes(v) + 1, 0);
  return 0;
}

/** About one byte per two significant digits, plus one. */
function numberBytes(n: string): number {
  const digits = n.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');
