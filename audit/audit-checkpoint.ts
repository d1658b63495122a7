/**
 * Signed checkpoints: the statement "chain `chainId` had head `headHash` at `seq`", signed with the
 * key kept outside the database, so that a chain rewritten and re-hashed by whoever can write the
 * database no longer matches what was signed.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';
import type { CheckpointRecord } from './audit-rows.ts';
import type { AuditPublicKey, SigningKey } from './audit-keys.ts';
import type { SignatureAlgorithm } from './audit-crypto.ts';
import { sm2Sign, sm2Verify } from './sm2.ts';

export function checkpointPayload(cp: Omit<CheckpointRecord, 'signature'>): string {
  return canonicalJson({
    chainId: cp.chainId,
    headHash: cp.headHash,
    keyId: cp.keyId,
    kind: cp.kind,
    seq: cp.seq,
    signedAt: cp.signedAt.toISOString(),
    v: 1,
  });
}

/** The signature algorithm a checkpoint names through its key id (`ed25519:…`, `sm2:…`). */
export function checkpointAlgorithm(cp: Pick<CheckpointRecord, 'keyId'>): SignatureAlgorithm | undefined {
  const prefix = cp.keyId.slice(0, cp.keyId.indexOf(':'));
  return prefix === 'ed25519' || prefix === 'sm2' ? prefix : undefined;
}

/**
 * Base64 signature of {@link checkpointPayload} with the key's algorithm: Ed25519, or SM2 over SM3
 * with the default user id (GB/T 32918, see `sm2.ts`). The payload names the key, so the signed
 * text says which algorithm signed it.
 */
export function signCheckpoint(cp: Omit<CheckpointRecord, 'signature'>, key: SigningKey | KeyObject): string {
  const payload = Buffer.from(checkpointPayload(cp), 'utf8');
  if ('algorithm' in key && key.algorithm === 'sm2') {
    return sm2Sign(payload, key.privateKey.d, key.publicKey.point).toString('base64');
  }
  const privateKey = 'algorithm' in key ? key.privateKey : key;
  return crypto.sign(null, payload, privateKey).toString('base64');
}

/** Whether `cp` carries a valid signature by `publicKey` (false for a key of the other algorithm). */
export function checkpointSignatureValid(cp: CheckpointRecord, publicKey: AuditPublicKey): boolean {
  try {
    const payload = Buffer.from(checkpointPayload(cp), 'utf8');
    const signature = Buffer.from(cp.signature, 'base64');
    if ('algorithm' in publicKey) return checkpointAlgorithm(cp) === 'sm2' && sm2Verify(payload, signature, publicKey.point);
    return checkpointAlgorithm(cp) === 'ed25519' && crypto.verify(null, payload, publicKey, signature);
  } catch {
    return false;
  }
}
