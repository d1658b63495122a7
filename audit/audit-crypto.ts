/**
 * The audit trail's two algorithm sets (CONTRACT.md § National cryptography): by default the hash
 * chain uses SHA-256 and checkpoints are signed with Ed25519; with `AUDIT_CRYPTO=sm` (GB/T 39786)
 * the chain uses SM3 (GB/T 32905) and checkpoints are signed with SM2 (GB/T 32918, SM3 digest,
 * default user id `1234567812345678`).
 *
 * The trail records what it used: each event its hash algorithm (inside the hashed text, for SM3),
 * each checkpoint its signature algorithm (the key id's prefix, inside the signed text). A trail may
 * hold both, for instance after a deployment moved to the national algorithms; the verifier checks
 * each record with its own.
 */
import crypto from 'node:crypto';

export type AuditCryptoName = 'default' | 'sm';
export type HashAlgorithm = 'sha256' | 'sm3';
export type SignatureAlgorithm = 'ed25519' | 'sm2';

export interface AuditCryptoSuite {
  readonly name: AuditCryptoName;
  readonly hash: HashAlgorithm;
  readonly signature: SignatureAlgorithm;
}

export const AUDIT_CRYPTO_SUITES: Readonly<Record<AuditCryptoName, AuditCryptoSuite>> = {
  default: { name: 'default', hash: 'sha256', signature: 'ed25519' },
  sm: { name: 'sm', hash: 'sm3', signature: 'sm2' },
};

/** How reports name the algorithms. */
export const ALGORITHM_LABELS: Readonly<Record<HashAlgorithm | SignatureAlgorithm, string>> = {
  sha256: 'SHA-256',
  sm3: 'SM3',
  ed25519: 'Ed25519',
  sm2: 'SM2',
};

/** `AUDIT_CRYPTO`: unset or `default`, or `sm`; anything else is a configuration error (undefined). */
export function parseAuditCrypto(value: string | undefined): AuditCryptoName | undefined {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'default') return 'default';
  return v === 'sm' ? 'sm' : undefined;
}

/** The hash algorithm a stored value names; unknown values are refused (never silently SHA-256). */
export function hashAlgorithmOf(value: unknown): HashAlgorithm | undefined {
  if (value === null || value === undefined || value === 'sha256') return 'sha256';
  return value === 'sm3' ? 'sm3' : undefined;
}

type OneShot = (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

/** Lower-case hex digest of `text` (UTF-8); the one-shot `crypto.hash` where Node has it (20.12+). */
export const digestHex: (algorithm: HashAlgorithm, text: string) => string =
  typeof oneShot === 'function'
    ? (algorithm, text) => oneShot(algorithm, text, 'hex')
    : (algorithm, text) => crypto.createHash(algorithm).update(text, 'utf8').digest('hex');

/** Lower-case hex digest of `bytes` (hashed in place, no copy). */
export const digestBytesHex: (algorithm: HashAlgorithm, bytes: Uint8Array) => string =
  typeof oneShot === 'function'
    ? (algorithm, bytes) => oneShot(algorithm, bytes, 'hex')
    : (algorithm, bytes) => crypto.createHash(algorithm).update(bytes).digest('hex');
