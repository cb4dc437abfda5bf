import { resolve } from 'node:path';

/** Every setting of the local runtime, from the environment (documented in the README). */
export interface LocalConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Use this DynamoDB instead of starting DynamoDB Local (tests share one). */
  dynamoEndpoint?: string;
  dynamoPort?: number;
  tablePrefix: string;
  partnerKey: string;
  analystKey: string;
  partnerId: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const int = (name: string, value: string | undefined, fallback?: number): number | undefined => {
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new Error(`${name} must be a port number, not "${value}"`);
    return n;
  };
  return {
    port: int('PORT', env.PORT, 3000) as number,
    host: env.HOST ?? '127.0.0.1',
    dataDir: resolve(env.TRACKER_DATA_DIR ?? '.data'),
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    dynamoPort: int('DYNAMODB_PORT', env.DYNAMODB_PORT),
    tablePrefix: env.TRACKER_TABLE_PREFIX ?? 'h20-tracker',
    partnerKey: env.TRACKER_PARTNER_KEY ?? 'dev-partner-key',
    analystKey: env.TRACKER_ANALYST_KEY ?? 'dev-analyst-key',
    partnerId: env.TRACKER_PARTNER_ID ?? 'dev-partner',
  };
}
