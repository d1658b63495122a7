/**
 * The audit trail's two keys, both kept in files outside the database:
 *
 * - the signing key that signs chain checkpoints, with its public half in `<file>.pub` (SPKI PEM):
 *   Ed25519 by default (`AUDIT_SIGNING_KEY`, PKCS#8 PEM, mode 0600), SM2 with `AUDIT_CRYPTO=sm`
 *   (`AUDIT_SM2_SIGNING_KEY`, PKCS#8 PEM, see `sm2-keys.ts`). Verification trusts
 *   the `.pub` file only, never a key found in the database: whoever can write the database must
 *   not be able to re-sign a rewritten chain. The `.pub` file may hold several PEM blocks (keys of
 *   other instances, or retired keys after a rotation); a checkpoint names its key by fingerprint.
 * - the HMAC key (`AUDIT_SUBJECT_KEY`) that turns a subject's idNumber into the keyed hash the log
 *   stores, so the trail does not hold idNumbers in clear and cannot be searched by brute force
 *   over the (small) space of valid idNumbers without the key. The file's content, trimmed, is the
 *   key; at least 32 characters.
 *
 * In embedded mode both are generated once under DATA_DIR; elsewhere they must be provided.
 */
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AuditCryptoName, SignatureAlgorithm } from './audit-crypto.ts';
import {
  generateSm2KeyPem,
  isSm2Der,
  pemBlocks,
  sm2Fingerprint,
  sm2PrivateKeyFromPkcs8,
  sm2PublicKeyFromSpki,
  sm2PublicKeyPem,
  type Sm2PrivateKey,
  type Sm2PublicKey,
} from './sm2-keys.ts';

export interface Ed25519SigningKey {
  readonly algorithm: 'ed25519';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Fingerprint of the public key, stored with every checkpoint. */
  readonly keyId: string;
}

export interface Sm2SigningKey {
  readonly algorithm: 'sm2';
  readonly privateKey: Sm2PrivateKey;
  readonly publicKey: Sm2PublicKey;
  readonly keyId: string;
}

export type SigningKey = Ed25519SigningKey | Sm2SigningKey;

/** A trusted checkpoint key: an Ed25519 KeyObject or an SM2 public key. */
export type AuditPublicKey = KeyObject | Sm2PublicKey;

export interface AuditKeys {
  /** Signs this instance's checkpoints. */
  readonly signingKey: SigningKey;
  /** HMAC key for subject hashes. */
  readonly subjectKey: Buffer;
  /**
   * The TRUSTED public keys, read from `<signingKeyFile>.pub` (not derived from the private key,
   * not from the database): what {@link verifyAudit} must be given.
   */
  readonly publicKey: readonly AuditPublicKey[];
}

export interface LoadKeyOptions {
  /** Generate the key file (and its `.pub`) when missing. Only for the embedded mode. */
  readonly create?: boolean;
}

export interface LoadSigningKeyOptions extends LoadKeyOptions {
  /** The algorithm the file must hold (and a new file gets). Default Ed25519. */
  readonly algorithm?: SignatureAlgorithm;
}

export class AuditKeyError extends Error {
  override readonly name = 'AuditKeyError';
}

/** Where the trusted public key(s) for `signingKeyFile` live. */
export function publicKeyFileFor(signingKeyFile: string): string {
  return `${signingKeyFile}.pub`;
}

/** `ed25519:` + hex SHA-256 of the public key's SPKI DER encoding; `sm2:` + hex SM3 of it for SM2. */
export function publicKeyFingerprint(publicKey: AuditPublicKey): string {
  if ('algorithm' in publicKey) return sm2Fingerprint(publicKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519:${crypto.createHash('sha256').update(der).digest('hex')}`;
}

function writeNew(file: string, content: string, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    // 'wx': never overwrite a key another process has just written.
    fs.writeFileSync(file, content, { mode, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * Loads the signing key from `file` (Ed25519, or SM2 with `algorithm: 'sm2'`), or (with `create`)
 * generates it once. Also writes `<file>.pub` when it is missing, so that the trusted public key
 * always sits beside the private one.
 */
export function loadSigningKey(file: string, options: LoadSigningKeyOptions = {}): SigningKey {
  const algorithm = options.algorithm ?? 'ed25519';
  if (!fs.existsSync(file)) {
    const variable = algorithm === 'sm2' ? 'AUDIT_SM2_SIGNING_KEY' : 'AUDIT_SIGNING_KEY';
    if (!options.create) throw new AuditKeyError(`audit signing key file ${file} does not exist (set ${variable})`);
    const pem =
      algorithm === 'sm2'
        ? generateSm2KeyPem().privatePem
        : crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeNew(file, pem, 0o600);
  }
  const text = fs.readFileSync(file, 'utf8');
  const der = pemBlocks(text, 'PRIVATE KEY')[0];
  if (der && isSm2Der(der)) {
    if (algorithm !== 'sm2') throw new AuditKeyError(`audit signing key in ${file} is an SM2 key, expected ${algorithm}`);
    return loadSm2SigningKey(file, der);
  }
  if (algorithm === 'sm2') throw new AuditKeyError(`audit signing key in ${file} is not an SM2 private key (PKCS#8 PEM)`);
  let privateKey: KeyObject;
  try {
    privateKey = crypto.createPrivateKey(fs.readFileSync(file));
  } catch (error) {
    throw new AuditKeyError(`audit signing key file ${file} does not hold a readable private key`, { cause: error });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AuditKeyError(`audit signing key in ${file} is ${privateKey.asymmetricKeyType ?? 'not an asymmetric key'}, expected ed25519`);
  }
  const publicKey = crypto.createPublicKey(privateKey);
  const pubFile = publicKeyFileFor(file);
  if (!fs.existsSync(pubFile)) writeNew(pubFile, publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644);
  return { algorithm: 'ed25519', privateKey, publicKey, keyId: publicKeyFingerprint(publicKey) };
}

function loadSm2SigningKey(file: string, der: Buffer): Sm2SigningKey {
  let privateKey: Sm2PrivateKey;
  try {
    privateKey = sm2PrivateKeyFromPkcs8(der);
  } catch (error) {
    throw new AuditKeyError(`audit signing key file ${file} does not hold a readable SM2 private key`, { cause: error });
  }
  const pubFile = publicKeyFileFor(file);
  if (!fs.existsSync(pubFile)) writeNew(pubFile, sm2PublicKeyPem(privateKey.publicKey), 0o644);
  return { algorithm: 'sm2', privateKey, publicKey: privateKey.publicKey, keyId: sm2Fingerprint(privateKey.publicKey) };
}

/**
 * Reads the trusted public keys from a `.pub` file (one or more SPKI PEM blocks, Ed25519 or SM2).
 * Throws {@link AuditKeyError} when the file is missing or holds no such key.
 */
export function loadPublicKeys(pubFile: string): AuditPublicKey[] {
  let text: string;
  try {
    text = fs.readFileSync(pubFile, 'utf8');
  } catch (error) {
    throw new AuditKeyError(`audit public key file ${pubFile} cannot be read`, { cause: error });
  }
  const keys: AuditPublicKey[] = [];
  for (const der of pemBlocks(text, 'PUBLIC KEY')) {
    try {
      if (isSm2Der(der)) {
        keys.push(sm2PublicKeyFromSpki(der));
        continue;
      }
      const key = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
      if (key.asymmetricKeyType === 'ed25519') keys.push(key);
    } catch (error) {
      throw new AuditKeyError(`audit public key file ${pubFile} holds an unreadable key`, { cause: error });
    }
  }
  if (keys.length === 0) throw new AuditKeyError(`audit public key file ${pubFile} holds no Ed25519 or SM2 public key`);
  return keys;
}

/** Loads the HMAC subject key from `file`, or (with `create`) generates it once (mode 0600). */
export function loadSubjectKey(file: string, options: LoadKeyOptions = {}): Buffer {
  if (!fs.existsSync(file)) {
    if (!options.create) throw new AuditKeyError(`audit subject key file ${file} does not exist (set AUDIT_SUBJECT_KEY)`);
    writeNew(file, `${crypto.randomBytes(32).toString('base64url')}\n`, 0o600);
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'utf8');
  if (key.length < 32) throw new AuditKeyError(`audit subject key in ${file} is shorter than 32 characters`);
  return key;
}

/**
 * The audit keys of a configuration (see {@link AuditKeys}). By default they are generated when missing only if the store is
 * embedded (no DATABASE_URL); a deployment on PostgreSQL must provide them.
 */
/** Where a configuration keeps the audit keys (the gateway's Config has this shape). */
export interface AuditKeyFiles {
  readonly databaseUrl?: string | undefined;
  readonly audit: {
    readonly signingKeyFile: string;
    readonly subjectKeyFile: string;
    /** `AUDIT_CRYPTO`; default `default` (Ed25519 signs). */
    readonly crypto?: AuditCryptoName;
    /** The SM2 signing key, used with `crypto: 'sm'`. */
    readonly sm2SigningKeyFile?: string;
  };
}

/** The key file that signs under this configuration, and its algorithm. */
export function activeSigningKeyFile(config: AuditKeyFiles): { file: string; algorithm: SignatureAlgorithm } {
  if (config.audit.crypto !== 'sm') return { file: config.audit.signingKeyFile, algorithm: 'ed25519' };
  if (!config.audit.sm2SigningKeyFile) throw new AuditKeyError('AUDIT_CRYPTO=sm needs an SM2 signing key file (AUDIT_SM2_SIGNING_KEY)');
  return { file: config.audit.sm2SigningKeyFile, algorithm: 'sm2' };
}

/**
 * The trusted public keys of a configuration: those of the `.pub` files beside the Ed25519 and the
 * SM2 signing key files, whichever exist, since a trail may hold checkpoints of both (before and
 * after a move to `AUDIT_CRYPTO=sm`, or back). Throws when neither exists.
 */
export function loadTrustedPublicKeys(config: AuditKeyFiles): AuditPublicKey[] {
  const files = [config.audit.signingKeyFile, config.audit.sm2SigningKeyFile].filter((f): f is string => !!f).map(publicKeyFileFor);
  const present = files.filter((f) => fs.existsSync(f));
  if (present.length === 0) throw new AuditKeyError(`no audit public key file: none of ${files.join(', ')} exists`);
  return present.flatMap(loadPublicKeys);
}

export function loadAuditKeys(config: AuditKeyFiles, options: LoadKeyOptions = {}): AuditKeys {
  const create = options.create ?? !config.databaseUrl;
  const { file, algorithm } = activeSigningKeyFile(config);
  const signingKey = loadSigningKey(file, { create, algorithm });
  const publicKey = loadTrustedPublicKeys(config);
  if (!publicKey.some((k) => publicKeyFingerprint(k) === signingKey.keyId)) {
    throw new AuditKeyError(`the public key file ${publicKeyFileFor(file)} does not hold the public half of ${file}: checkpoints would not verify`);
  }
  return { signingKey, subjectKey: loadSubjectKey(config.audit.subjectKeyFile, { create }), publicKey };
}

/** Canonical form of an idNumber before hashing: trimmed, check character upper-case. */
export function normalizeIdNumber(idNumber: string): string {
  return idNumber.trim().toUpperCase();
}

/** How many idNumber → hash results a {@link subjectHasher} keeps by default. */
export const SUBJECT_HASH_CACHE_SIZE = 50_000;

/**
 * A function from idNumber to its keyed hash (hex HMAC-SHA-256), as stored in the audit trail.
 *
 * The hash is deterministic, and a street's staff read the same residents again and again, so the
 * last `cacheSize` results are remembered: an answer with 20
 * persons then costs 20 map lookups instead of 20 HMACs. The cache holds nothing the process does
 * not already hold while it answers (the idNumbers it reads and the key), and never leaves it.
 * When full, the oldest entry goes first (insertion order: a hit costs one lookup, no reordering).
 */
export function subjectHasher(subjectKey: Buffer, cacheSize = SUBJECT_HASH_CACHE_SIZE): (idNumber: string) => string {
  const key = crypto.createSecretKey(subjectKey); // imported once, not per hash
  const hash = (idNumber: string) => crypto.createHmac('sha256', key).update(normalizeIdNumber(idNumber), 'utf8').digest('hex');
  if (cacheSize <= 0) return hash;
  const cache = new Map<string, string>();
  return (idNumber) => {
    let hashed = cache.get(idNumber);
    if (hashed !== undefined) return hashed;
    hashed = hash(idNumber);
    cache.set(idNumber, hashed);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
    return hashed;
  };
}
