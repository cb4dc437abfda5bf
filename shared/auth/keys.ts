import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Family } from '../events/catalogue.ts';

export type Role = 'partner' | 'analyst' | 'admin';
export const ROLES: readonly Role[] = ['partner', 'analyst', 'admin'];

/** A key as stored: its SHA-256 hash, never the key itself. */
export interface ApiKeyRecord {
  keyId: string;
  hash: string;
  role: Role;
  /** The partner the key speaks as; it becomes the `source` of the events it sends. */
  partnerId?: string;
  /** Partner keys: the event families it may send. */
  families?: Family[];
  /** Partner keys: the providers it may speak for; absent means any. */
  providers?: string[];
  label?: string;
  createdAt: string;
  revokedAt?: string;
}

export interface Principal {
  keyId: string;
  role: Role;
  partnerId?: string;
  families: readonly Family[];
  providers?: readonly string[];
}

/** API keys are long random strings, so one round of SHA-256 is the right hash (no password stretching). */
export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** The lookup id is a prefix of the hash: a key is found without ever storing it. */
export const keyIdOf = (hash: string): string => hash.slice(0, 24);

export const generateKey = (): string => `h20_${randomBytes(32).toString('base64url')}`;

export function newKeyRecord(
  key: string,
  fields: Omit<ApiKeyRecord, 'keyId' | 'hash' | 'createdAt'>,
  now: Date,
): ApiKeyRecord {
  const hash = hashKey(key);
  return { keyId: keyIdOf(hash), hash, createdAt: now.toISOString(), ...fields };
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function principalOf(record: ApiKeyRecord): Principal {
  return {
    keyId: record.keyId,
    role: record.role,
    partnerId: record.partnerId,
    families: record.families ?? [],
    providers: record.providers,
  };
}
