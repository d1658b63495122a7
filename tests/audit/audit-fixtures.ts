/** What the audit tests share: throw-away audit keys and a migrated gateway store per backend. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { migrateStore } from '../../gateway/store/databases.ts';
import {
  loadPublicKeys,
  loadSigningKey,
  loadSubjectKey,
  publicKeyFileFor,
  type AuditPublicKey,
  type SigningKey,
} from '../../audit/audit-keys.ts';
import type { SignatureAlgorithm } from '../../audit/audit-crypto.ts';
import { openBackendDatabase, type Backend } from '../backends.ts';

export interface AuditTestKeys {
  readonly keyDir: string;
  readonly signingKeyFile: string;
  readonly signingKey: SigningKey;
  readonly subjectKey: Buffer;
  /** The trusted public key(s), read from the `.pub` file beside the signing key. */
  readonly trusted: AuditPublicKey[];
}

/** A fresh signing key (Ed25519, or SM2), subject key and trusted public key in a new temporary directory. */
export function auditTestKeys(name: string, algorithm: SignatureAlgorithm = 'ed25519'): AuditTestKeys {
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), `lianqiao-${name}-`));
  const signingKeyFile = path.join(keyDir, 'signing.pem');
  const signingKey = loadSigningKey(signingKeyFile, { create: true, algorithm });
  const subjectKey = loadSubjectKey(path.join(keyDir, 'subject'), { create: true });
  return { keyDir, signingKeyFile, signingKey, subjectKey, trusted: loadPublicKeys(publicKeyFileFor(signingKeyFile)) };
}

export interface AuditTestStore {
  readonly db: Kysely<any>;
  /** The fresh database's URL on the real server; undefined on PGlite. */
  readonly url?: string;
  close(): Promise<void>;
}

/** A migrated gateway store: in-memory PGlite, or a fresh database on TEST_DATABASE_URL's server. */
export async function openAuditStore(backend: Backend, prefix: string, options: { poolSize?: number } = {}): Promise<AuditTestStore> {
  const opened = await openBackendDatabase(backend, prefix, options);
  try {
    await migrateStore(opened.db);
  } catch (error) {
    await opened.close();
    throw error;
  }
  return {
    db: opened.db,
    url: opened.url,
    close: () => opened.close().catch(() => {}),
  };
}
